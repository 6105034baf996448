/**
 * Public surface of the configs module: Git repositories (registry, mirrors, reads, diffs),
 * the `git_sync` executor the jobs module runs, and the module's permissions.
 */
import path from 'node:path';
import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { AuditRecorder } from '../credentials/index.js';
import { createGit } from './git.js';
import { createGitStore } from './git-store.js';
import type { GitScheme } from './git-url.fns.js';
import { gitSyncExecutor } from './git-sync.executor.js';
import { createRepositoriesService, type ConfigsPorts } from './repositories.service.js';
import { repositoriesRoutes, webhookRoutes } from './repositories.routes.js';
import { createHistoryService } from './history.service.js';
import { historyRoutes } from './history.routes.js';
import { createHistoryRepository } from './history.repository.js';
import { createSearchService } from './search.service.js';
import type { Actor } from '../../platform/http/auth.js';

export const CONFIGS_PERMISSIONS = ['git:read', 'git:write', 'git:sync', 'configs:read'] as const;
export type { ConfigsPorts } from './repositories.service.js';
export { profileFor, type PlatformProfile } from './platform-profiles.fns.js';

export interface ConfigsConfig {
  dataDir: string;
  gitSchemes: readonly GitScheme[];
  gitTimeoutSeconds: number;
  gitMaxRepoMb: number;
}

export interface ConfigsDeps {
  db: Db;
  logger: Logger;
  config: ConfigsConfig;
  /** identity.audit */
  audit: AuditRecorder;
  ports: ConfigsPorts;
  /** Inventory: a device's name as `actor` may see it (a 404 AppError otherwise). */
  deviceName(actor: Actor, deviceId: string): Promise<string>;
}

/** Builds the configs module; its `executors` go to the jobs module (modules.ts). */
export function createConfigsModule(deps: ConfigsDeps) {
  const logger = deps.logger.child({ module: 'configs' });
  const rootDir = path.join(deps.config.dataDir, 'git');
  const git = createGit({ schemes: deps.config.gitSchemes, timeoutMs: deps.config.gitTimeoutSeconds * 1000, maxOutputBytes: 64 * 1024 * 1024, knownHostsFile: path.join(rootDir, 'known_hosts') });
  const store = createGitStore({ git, rootDir, maxRepoBytes: deps.config.gitMaxRepoMb * 1024 * 1024 });
  const history = createHistoryService({ db: deps.db, store, logger, repositories: { byCategory: (c) => repositories.byCategory(c) }, deviceName: deps.deviceName });
  const repositories = createRepositoriesService({
    db: deps.db,
    store,
    schemes: deps.config.gitSchemes,
    audit: deps.audit,
    ports: deps.ports,
    logger,
    onSynced: async (repo, before, after) => void (await history.index(repo, before, after)),
  });
  const search = createSearchService({ history: createHistoryRepository(deps.db), store });
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: repositoriesRoutes(repositories) },
    { prefix: '/api/v1', plugin: webhookRoutes(repositories) },
    { prefix: '/api/v1', plugin: historyRoutes(history, search) },
  ];
  return {
    repositories,
    history,
    search,
    store,
    plugins,
    permissions: CONFIGS_PERMISSIONS,
    executors: [gitSyncExecutor((actor, id, runId, signal) => repositories.syncNow(actor, id, runId, signal))],
  };
}

export type ConfigsModule = ReturnType<typeof createConfigsModule>;
