import type { Registry } from 'prom-client';
import type { RoutePlugin } from '../../app.js';
import { createSystemService, type SystemServiceDeps } from './system.service.js';
import { healthRoutes, systemRoutes } from './system.routes.js';

export type { DependencyProbe } from './system.service.js';

/** Health, readiness, metrics and system information. */
export function createSystemModule(deps: SystemServiceDeps & { metricsRegistry: Registry | null }) {
  const service = createSystemService(deps);
  const health: RoutePlugin = { prefix: '', plugin: healthRoutes(service, deps.metricsRegistry) };
  const plugins: RoutePlugin[] = [health, { prefix: '/api/v1', plugin: systemRoutes(service) }];
  /** `healthPlugins`: what a worker's own listener serves (`opsdeck worker`). */
  return { service, plugins, healthPlugins: [health], permissions: ['system:read'] as const };
}
