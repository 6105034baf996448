import { createBatcher } from '../../platform/db/batcher.js';
import { writeAtomically, type Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';
import type { AuditRecorder } from './audit.js';
import type { TargetSpec } from './jobs.schemas.js';
import { estimateAhead, noteStored, type QueueSnapshot, type QueueSnapshots } from './queue-snapshot.js';
import type { NewTarget } from './run-plan.fns.js';
import { queueBefore, rankQueued } from './run-state.fns.js';
import { createRunsRepository, type Run } from './runs.repository.js';
import { NO_IDENTITY, PENDING_TARGET } from './targets.js';

/** Target specs the `job_run.created` audit entry lists; past this it gives the count. */
const AUDITED_TARGETS = 50;
/** Queued runs ahead past which a new run's position is estimated, not counted (see `insertRun`). */
const POSITION_COUNT_LIMIT = 1000;

/**
 * The targets a `job_run.created` audit entry records: hosts as given and selectors as
 * `key=value` (`device_id=…`, `group=core`), capped, with the total when capped.
 */
function auditedTargets(specs: readonly TargetSpec[]): Record<string, unknown> {
  const shown = specs.slice(0, AUDITED_TARGETS).map((s) =>
    typeof s === 'string'
      ? s
      : Object.entries(s)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(',')
          .slice(0, 200),
  );
  return { target_specs: shown, ...(specs.length > AUDITED_TARGETS ? { target_specs_total: specs.length } : {}) };
}

function createdEntry(actor: Actor, run: Run, targets: number) {
  return {
    actor,
    action: 'job_run.created',
    resourceType: 'job_run',
    resourceId: run.id,
    outcome: 'success' as const,
    changes: {
      type: run.type,
      targets,
      retry_of: run.retryOf,
      ...auditedTargets(run.targets as TargetSpec[]),
      ...(run.triggerKind === 'schedule' ? { schedule_id: run.triggeredBy } : {}),
    },
  };
}

/**
 * Where new runs are stored and where a queued run stands. Concurrent calls share one write
 * (group commit, `platform/db/batcher.ts`): the runs, their target rows and their
 * `job_run.created` audit entries, and what is queued ahead of them, in one atomic write (one
 * prepared statement on PostgreSQL). Not exported from the module: the service's `createRun`
 * and `retryRun`, which check the rules, are the only ways in.
 */
export function createNewRunsRepository(deps: { db: Db; snapshots: QueueSnapshots; audit?: AuditRecorder | undefined }) {
  const runs = createRunsRepository(deps.db);
  const insertBatch = createBatcher(async (batch: { actor: Actor; run: Run; targets: NewTarget[] }[]) => {
    const list = batch.map((b) => b.run);
    // Where the new runs stand: counted in the write while the queue ahead of them is short;
    // past POSITION_COUNT_LIMIT, counting it in every batch of creates would cost O(queue) each,
    // so the position is the estimate (a run read back, GET or list, is ranked exactly).
    const snapshot = await deps.snapshots();
    const estimate = estimateAhead(snapshot, list);
    const count = [...estimate.values()].every((n) => n < POSITION_COUNT_LIMIT);
    const rows = batch.map(({ run, targets }) => ({
      run,
      targets: targets.map((t, idx) => ({
        ...NO_IDENTITY,
        ...t,
        idx,
        ...PENDING_TARGET,
      })),
    }));
    const audit = deps.audit ? [deps.audit.recordWrite(batch.map(({ actor, run, targets }) => createdEntry(actor, run, targets.length)))] : [];
    const before = await writeAtomically(
      deps.db,
      [...runs.insertWrites(rows), ...audit],
      count ? (db) => createRunsRepository(db).positionsRead(list) : undefined,
    );
    noteStored(snapshot, list);
    const positions = rankQueued(list, count ? queueBefore(before) : { ahead: estimate, tail: new Map() });
    return positions.map((position) => ({ position, snapshot }));
  });

  // Concurrent views (a list page, a burst of creates) share one position query.
  const positionBatch = createBatcher((list: Run[]) => runs.positions(list));

  return {
    /** Stores a run with its target rows and audit entry; answers its place in the queue and the snapshot it was estimated from. */
    insertRun(actor: Actor, run: Run, targets: NewTarget[]): Promise<{ position: number; snapshot: QueueSnapshot }> {
      return insertBatch({ actor, run, targets });
    },
    /** A queued run's place among queued runs. */
    positionOf(run: Run): Promise<number> {
      return positionBatch(run);
    },
  };
}

export type NewRunsRepository = ReturnType<typeof createNewRunsRepository>;
