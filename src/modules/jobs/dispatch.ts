import { createBatcher } from '../../platform/db/batcher.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { EnqueueRequest, JobQueue } from '../../platform/queue/job-queue.js';

/** The one job the jobs module puts on the queue: "look at this run". State stays in the database. */
export type JobsJobMap = { 'job-run.execute': { runId: string } };
export const EXECUTE_RUN = 'job-run.execute' as const;

export interface Dispatchable {
  id: string;
  attempt: number;
  priority: number;
  notBefore: string | null;
}

/**
 * Puts a queued run on the queue. The job id names the run and attempt, so re-dispatching a
 * run that is still waiting in the queue (reconcile after a Redis restart) is a no-op, and a
 * stray duplicate is harmless: only one claim of a queued run can succeed.
 */
export function createDispatcher(queue: JobQueue<JobsJobMap>, clock: () => number = Date.now) {
  const request = (run: Dispatchable, nudge: number): EnqueueRequest<JobsJobMap> => ({
    name: EXECUTE_RUN,
    payload: { runId: run.id },
    options: {
      jobId: `run-${run.id}-${run.attempt}${nudge ? `-${nudge}` : ''}`,
      priority: run.priority,
      delayMs: run.notBefore ? Math.max(0, Date.parse(run.notBefore) - clock()) : 0,
    },
  });
  async function dispatch(run: Dispatchable, nudge = 0): Promise<void> {
    const r = request(run, nudge);
    await queue.enqueue(r.name, r.payload, r.options);
  }
  /** A batch of newly stored runs in one queue round trip. */
  dispatch.many = async (runs: readonly Dispatchable[]): Promise<void> => {
    await queue.enqueueMany(runs.map((run) => request(run, 0)));
  };
  return dispatch;
}

export type Dispatch = ReturnType<typeof createDispatcher>;

/**
 * Stored runs go on the queue in batches, one queue round trip each, after their creator has
 * its answer: the database is the record (202 Accepted), the queue only the delivery. A failed
 * enqueue is logged and the worker's reconcile offers the run again.
 */
export function createRunOffers(dispatch: Pick<Dispatch, 'many'>, logger?: Logger) {
  const enqueue = createBatcher(async (batch: Dispatchable[]) => {
    await dispatch.many(batch);
    return batch.map(() => undefined);
  });
  return {
    offer(run: Dispatchable): void {
      enqueue(run).catch((err: unknown) => logger?.warn({ err, runId: run.id }, 'job run stored but not queued yet; the worker reconcile will queue it'));
    },
    /** Resolves once every run offered so far has been enqueued (or failed to). */
    settled(): Promise<void> {
      return enqueue.idle();
    },
  };
}

export type RunOffers = ReturnType<typeof createRunOffers>;
