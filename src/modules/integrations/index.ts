/**
 * Public surface of the integrations module: connections to Nautobot and NetBox, the cockpit's
 * views of them, onboarding, the import sync and its `integration_sync` executor.
 */
import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import type { Cache } from '../../platform/cache/index.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import type { Actor } from '../../platform/http/auth.js';
import type { AuditRecorder } from '../credentials/index.js';
import type { InventoryServices } from '../inventory/index.js';
import { createConnectionsService, type EnvConnection, type IntegrationsPorts } from './connections.service.js';
import { createCockpitService } from './cockpit.service.js';
import { createSyncService } from './sync.service.js';
import { integrationSyncExecutor } from './sync.executor.js';
import { integrationsRoutes } from './integrations.routes.js';
import type { System } from './sot-client.js';

export const INTEGRATIONS_PERMISSIONS = ['integrations:read', 'integrations:write', 'integrations:sync'] as const;
export { createSotClient, SYSTEMS, type SotClient, type System } from './sot-client.js';
export type { IntegrationsPorts } from './connections.service.js';

export interface IntegrationsDeps {
  db: Db;
  egress: EgressPolicy;
  cache: Pick<Cache, 'wrap' | 'invalidateTag'>;
  audit: AuditRecorder;
  inventory: Pick<InventoryServices, 'devices' | 'locations' | 'platforms' | 'roles' | 'statuses' | 'interfaces' | 'ipAddresses'>;
  ports: IntegrationsPorts & {
    /** Jobs: starts an `integration_sync` run as `actor`; answers its id. */
    createSyncRun(actor: Actor, params: Record<string, unknown>): Promise<string>;
  };
  env: Partial<Record<System, EnvConnection>>;
  clientDefaults?: { backoffMs?: number; retries?: number };
}

/** Builds the integrations module; its `executors` go to the jobs module (modules.ts). */
export function createIntegrationsModule(deps: IntegrationsDeps) {
  const connections = createConnectionsService(deps);
  const cockpit = createCockpitService({ connections });
  const sync = createSyncService({ db: deps.db, inventory: deps.inventory, connections });
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: integrationsRoutes({ connections, cockpit, sync, startSync: (actor, params) => deps.ports.createSyncRun(actor, params) }) },
  ];
  return { connections, cockpit, sync, plugins, permissions: INTEGRATIONS_PERMISSIONS, executors: [integrationSyncExecutor(sync)] };
}

export type IntegrationsModule = ReturnType<typeof createIntegrationsModule>;
