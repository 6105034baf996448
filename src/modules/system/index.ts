import type { Registry } from 'prom-client';
import type { RoutePlugin } from '../../app.js';
import { createSystemService, type SystemServiceDeps } from './system.service.js';
import { healthRoutes, systemRoutes } from './system.routes.js';

export type { DependencyProbe } from './system.service.js';

/** Health, readiness, metrics and system information. */
export function createSystemModule(deps: SystemServiceDeps & { metricsRegistry: Registry | null }) {
  const service = createSystemService(deps);
  const plugins: RoutePlugin[] = [
    { prefix: '', plugin: healthRoutes(service, deps.metricsRegistry) },
    { prefix: '/api/v1', plugin: systemRoutes(service) },
  ];
  return { service, plugins, permissions: ['system:read'] as const };
}
