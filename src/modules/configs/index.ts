/**
 * Public surface of the configs module: Git repositories (registry, mirrors, reads, diffs),
 * platform profiles, the `git_sync` and `config_backup` executors the jobs module runs, and the
 * module's permissions.
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
import { createContentCache, createSearchService } from './search.service.js';
import { createComplianceService, type ComplianceInventory } from './compliance.service.js';
import { complianceRoutes } from './compliance.routes.js';
import { createSyncScheduler } from './sync-scheduler.js';
import type { DomainEvents } from '../../platform/events/domain-events.js';
import type { Actor } from '../../platform/http/auth.js';
import type { RepositoryFeed } from '../../platform/repository-feed.js';
import { createBackupService } from './backup.service.js';
import { configBackupExecutor } from './config-backup.executor.js';
import { createGitWriter } from './git-write.js';
import { createProfilesService } from './profiles.service.js';
import { profilesRoutes } from './profiles.routes.js';

export const CONFIGS_PERMISSIONS = ['git:read', 'git:write', 'git:sync', 'configs:read', 'configs:write'] as const;
export type { ConfigsPorts } from './repositories.service.js';
export type { ComplianceInventory, ComplianceDevice } from './compliance.service.js';
export { profileFor, type PlatformProfile } from './platform-profiles.fns.js';

export interface ConfigsConfig {
  dataDir: string;
  gitSchemes: readonly GitScheme[];
  gitTimeoutSeconds: number;
  gitMaxRepoMb: number;
  gitAllowedExtensions: readonly string[];
}

export interface ConfigsDeps {
  db: Db;
  logger: Logger;
  config: ConfigsConfig;
  /** identity.audit */
  audit: AuditRecorder;
  ports: ConfigsPorts;
  /** Modules fed after a sync, by repository category (parsers for `textfsm`, templates for `templates`). */
  feeds?: Partial<Record<string, RepositoryFeed>>;
  /** Inventory: a device's name as `actor` may see it (a 404 AppError otherwise). */
  deviceName(actor: Actor, deviceId: string): Promise<string>;
  /** Inventory facts compliance scopes rules by. */
  complianceInventory: ComplianceInventory;
  /** Outbox for `config.noncompliant`. */
  events: Pick<DomainEvents, 'record' | 'relay'>;
  /** identity.actorOf: the user a scheduled sync acts for, as they are now. */
  actorOf(kind: 'user', id: string): Promise<Actor | null>;
}

/** Builds the configs module; its `executors` go to the jobs module (modules.ts). */
export function createConfigsModule(deps: ConfigsDeps) {
  const logger = deps.logger.child({ module: 'configs' });
  const rootDir = path.join(deps.config.dataDir, 'git');
  // The `git` settings section is live (modules.ts passes liveConfig): limits are read at each command.
  const git = createGit({
    schemes: deps.config.gitSchemes,
    get timeoutMs() {
      return deps.config.gitTimeoutSeconds * 1000;
    },
    maxOutputBytes: 64 * 1024 * 1024,
    knownHostsFile: path.join(rootDir, 'known_hosts'),
  });
  const store = createGitStore({
    git,
    rootDir,
    get maxRepoBytes() {
      return deps.config.gitMaxRepoMb * 1024 * 1024;
    },
  });
  const history = createHistoryService({
    db: deps.db,
    store,
    logger,
    repositories: { byCategory: (c) => repositories.byCategory(c) },
    deviceName: deps.deviceName,
    onIndexed: (names) => compliance.afterIndex(names),
  });
  const repositories = createRepositoriesService({
    db: deps.db,
    store,
    schemes: deps.config.gitSchemes,
    audit: deps.audit,
    ports: deps.ports,
    logger,
    allowedExtensions: () => deps.config.gitAllowedExtensions,
    onSynced: async (repo, before, after, inTx) => void (await history.index(repo, before, after, inTx)),
    ...(deps.feeds ? { feeds: deps.feeds } : {}),
  });
  const contents = createContentCache(store);
  const search = createSearchService({ history: createHistoryRepository(deps.db), store, cache: contents });
  const compliance = createComplianceService({
    db: deps.db,
    logger,
    audit: deps.audit,
    events: deps.events,
    inventory: deps.complianceInventory,
    contents: (v) => contents.get(v),
    deviceName: deps.deviceName,
  });
  // Started by modules.ts on `scheduler` nodes only.
  const syncScheduler = createSyncScheduler({ db: deps.db, logger, ports: deps.ports, actorOf: deps.actorOf });
  const profiles = createProfilesService({ db: deps.db, audit: deps.audit, logger });
  const backup = createBackupService({ repositories, writer: createGitWriter({ git, store }), events: deps.events, logger });
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: repositoriesRoutes(repositories) },
    { prefix: '/api/v1', plugin: webhookRoutes(repositories) },
    { prefix: '/api/v1', plugin: historyRoutes(history, search) },
    { prefix: '/api/v1', plugin: complianceRoutes(compliance) },
    { prefix: '/api/v1', plugin: profilesRoutes(profiles) },
  ];
  return {
    repositories,
    history,
    search,
    compliance,
    syncScheduler,
    store,
    plugins,
    permissions: CONFIGS_PERMISSIONS,
    profiles,
    executors: [
      gitSyncExecutor((actor, id, runId, signal) => repositories.syncNow(actor, id, runId, signal)),
      configBackupExecutor({ backup, profiles, deviceName: deps.deviceName }),
    ],
  };
}

export type ConfigsModule = ReturnType<typeof createConfigsModule>;
