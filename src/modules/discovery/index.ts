import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';
import type { InventoryServices } from '../inventory/index.js';
import type { JobsService, ResolvedCredential } from '../jobs/index.js';
import { discoveryExecutor } from './discovery.executor.js';
import { createDiscoveryRepository } from './discovery.repository.js';
import { discoveryRoutes } from './discovery.routes.js';
import { createDiscoveryService, type DiscoveryServiceDeps } from './discovery.service.js';

export const DISCOVERY_PERMISSIONS = ['discovery:read', 'discovery:write'] as const;

export interface DiscoveryModuleDeps {
  db: Db;
  inventory: InventoryServices;
  /** The jobs service: scans are `discovery` job runs (called only after start-up). */
  jobs: () => Pick<JobsService, 'createRun' | 'getRun' | 'output' | 'cancelRun'>;
  credentials: {
    canUse(actor: Actor, id: string): Promise<boolean>;
    tryProfile?<T>(
      profileId: string,
      deviceKey: string,
      attempt: (c: ResolvedCredential) => Promise<T>,
      context: { purpose: string; runId: string; actor?: Actor },
    ): Promise<{ result: T; credentialId: string }>;
  };
  parse(platform: string, command: string, output: string): Promise<unknown>;
  maxHosts(): number;
  audit: DiscoveryServiceDeps['audit'];
  events: DiscoveryServiceDeps['events'];
}

/** Builds the discovery module; its `executors` go to the jobs module (modules.ts). */
export function createDiscoveryModule(deps: DiscoveryModuleDeps) {
  const service = createDiscoveryService({
    db: deps.db,
    repo: createDiscoveryRepository(deps.db),
    jobs: {
      createRun: (...a) => deps.jobs().createRun(...a),
      getRun: (...a) => deps.jobs().getRun(...a),
      output: (...a) => deps.jobs().output(...a),
      cancelRun: (...a) => deps.jobs().cancelRun(...a),
    },
    inventory: deps.inventory,
    canUseCredential: (actor, id) => deps.credentials.canUse(actor, id),
    maxHosts: deps.maxHosts,
    audit: deps.audit,
    events: deps.events,
  });
  const executor = discoveryExecutor({
    tryProfile: (profileId, key, attempt, context) => {
      if (!deps.credentials.tryProfile) throw new Error('the credential vault offers no profile fallback');
      return deps.credentials.tryProfile(profileId, key, attempt, context);
    },
    parse: deps.parse,
  });
  const plugins: RoutePlugin[] = [{ prefix: '/api/v1', plugin: discoveryRoutes(service) }];
  return { service, plugins, permissions: DISCOVERY_PERMISSIONS, executors: [executor] };
}
export type DiscoveryModule = ReturnType<typeof createDiscoveryModule>;
