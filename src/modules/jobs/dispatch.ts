import type { JobQueue } from '../../platform/queue/job-queue.js';

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
  return async function dispatch(run: Dispatchable, nudge = 0): Promise<void> {
    const delayMs = run.notBefore ? Math.max(0, Date.parse(run.notBefore) - clock()) : 0;
    await queue.enqueue(EXECUTE_RUN, { runId: run.id }, { jobId: `run-${run.id}-${run.attempt}${nudge ? `-${nudge}` : ''}`, priority: run.priority, delayMs });
  };
}

export type Dispatch = ReturnType<typeof createDispatcher>;
