import type { Db } from '../../platform/db/database.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createRepositoriesRepository } from './repositories.repository.js';
import type { ConfigsPorts } from './repositories.service.js';

export interface SyncSchedulerDeps {
  db: Db;
  logger: Logger;
  ports: Pick<ConfigsPorts, 'createSyncRun' | 'syncRunActive'>;
}

/**
 * Scheduled syncs (`sync_interval_seconds`), run on `scheduler` nodes only (modules.ts). A due
 * repository is claimed by a compare-and-set of `next_sync_at` from the value this node read,
 * so one node among any number fires it; the run is created after the claim, as the system
 * (like a webhook's: the repository's credential was checked visible to whoever set it). A
 * repository whose last sync run is still queued or running is skipped for this interval.
 * A node dying between claim and run creation loses that one tick; the next interval fires.
 */
export function createSyncScheduler(deps: SyncSchedulerDeps) {
  const repo = createRepositoriesRepository(deps.db);

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
        const run = await deps.ports.createSyncRun(SYSTEM_ACTOR, r.id);
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
