import type { Db } from '../../platform/db/database.js';
import { hasPermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createRepositoriesRepository } from './repositories.repository.js';
import type { ConfigsPorts } from './repositories.service.js';

export interface SyncSchedulerDeps {
  db: Db;
  logger: Logger;
  ports: Pick<ConfigsPorts, 'createSyncRun' | 'syncRunActive' | 'credentialVisible'>;
  /** The user a scheduled sync acts for, as they are now (null: deleted or disabled). */
  actorOf(kind: 'user', id: string): Promise<Actor | null>;
}

/**
 * Scheduled syncs (`sync_interval_seconds`), run on `scheduler` nodes only (modules.ts). A due
 * repository is claimed by a compare-and-set of `next_sync_at` from the value this node read,
 * so one node among any number fires it; the run is created after the claim, as the user who set
 * the interval (`sync_owner_id`) as they are now: a deleted or disabled owner, one without
 * `git:sync` or `jobs:run`, or one who no longer sees the repository's credential refuses the fire (recorded as
 * `last_sync_status: failed` with the reason; nothing runs). A repository whose last sync run is
 * still queued or running is skipped for this interval.
 * A node dying between claim and run creation loses that one tick; the next interval fires.
 */
export function createSyncScheduler(deps: SyncSchedulerDeps) {
  const repo = createRepositoriesRepository(deps.db);

  /** Who a fire acts for, or why it may not run. Rows from before owners were recorded act as the system. */
  async function ownerOf(ownerId: string | null, credentialId: string | null): Promise<Actor | string> {
    if (!ownerId || ownerId === SYSTEM_ACTOR.id) return SYSTEM_ACTOR;
    const owner = await deps.actorOf('user', ownerId);
    if (!owner) return `its owner (user ${ownerId}) no longer exists or is disabled`;
    for (const permission of ['git:sync', 'jobs:run'] as const) {
      if (!hasPermission(owner, permission)) return `its owner ${owner.name} may no longer sync repositories (${permission})`;
    }
    if (credentialId && !(await deps.ports.credentialVisible(owner, credentialId))) return `its owner ${owner.name} no longer sees the repository's credential`;
    return owner;
  }

  async function tick(at = new Date()): Promise<string[]> {
    const fired: string[] = [];
    for (const r of await repo.dueForSync(at.toISOString())) {
      const next = new Date(at.getTime() + r.syncIntervalSeconds! * 1000).toISOString();
      if (!(await repo.claimSync(r.id, r.nextSyncAt, next))) continue;
      try {
        if (r.lastSyncRunId && (await deps.ports.syncRunActive(r.lastSyncRunId))) {
          deps.logger.info({ repositoryId: r.id, runId: r.lastSyncRunId }, 'scheduled git sync skipped: the previous sync is still active');
          continue;
        }
        const owner = await ownerOf(r.syncOwnerId, r.credentialId);
        if (typeof owner === 'string') {
          await repo.update(r.id, { lastSyncStatus: 'failed', lastSyncError: `scheduled sync refused: ${owner}` });
          deps.logger.warn({ repositoryId: r.id, ownerId: r.syncOwnerId }, `scheduled git sync refused: ${owner}`);
          continue;
        }
        const run = await deps.ports.createSyncRun(owner, r.id, true);
        await repo.update(r.id, { lastSyncStatus: 'queued', lastSyncRunId: run.id });
        fired.push(r.id);
      } catch (err) {
        deps.logger.warn({ err, repositoryId: r.id }, 'scheduled git sync could not be started');
      }
    }
    return fired;
  }

  return {
    /** One pass at `at` (now): fires every due repository this node claims; answers their ids. */
    tick,
    start(intervalMs: number): () => Promise<void> {
      let running: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        running = running.then(() => tick()).catch((err: unknown) => deps.logger.error({ err }, 'scheduled git sync pass failed'));
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}

export type SyncScheduler = ReturnType<typeof createSyncScheduler>;
