import type { Registry } from 'prom-client';
import type { RoutePlugin } from '../../app.js';
import { createSystemService, type SystemServiceDeps } from './system.service.js';
import { detailedHealthRoutes, healthRoutes, systemRoutes } from './system.routes.js';
import type { SystemLogs } from './system-logs.service.js';
import { createCacheAdmin, type CacheAdminDeps } from './cache-admin.service.js';
import { cacheRoutes } from './cache.routes.js';

export type { DependencyProbe } from './system.service.js';
export { createNodePresence, type NodePresence } from './nodes.js';
export { createSystemLogs, SYSTEM_LOG_CHANNEL, type SystemLogs } from './system-logs.service.js';

/** Health, readiness, metrics and system information. */
export function createSystemModule(
  deps: SystemServiceDeps & { metricsRegistry: Registry | null; logs?: SystemLogs | null; cacheAdmin?: Omit<CacheAdminDeps, 'nodeId'> },
) {
  const service = createSystemService(deps);
  const health: RoutePlugin = { prefix: '', plugin: healthRoutes(service, deps.metricsRegistry) };
  const plugins: RoutePlugin[] = [
    health,
    { prefix: '', plugin: detailedHealthRoutes(service) },
    { prefix: '/api/v1', plugin: systemRoutes(service, deps.logs ?? null) },
  ];
  if (deps.cacheAdmin) plugins.push({ prefix: '/api/v1', plugin: cacheRoutes(createCacheAdmin({ ...deps.cacheAdmin, nodeId: deps.nodeId ?? 'local' })) });
  /** `healthPlugins`: what a worker's own listener serves (`opsdeck worker`). */
  return { service, plugins, healthPlugins: [health], permissions: ['system:read', 'logs:read', 'cache:read', 'cache:write'] as const };
}
export { LogsFrame } from './system.schemas.js';
