import os from 'node:os';
import type { EventBus } from '../../platform/bus/event-bus.js';
import { nowIso } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createJobRegistry, type JobQueue } from '../../platform/queue/job-queue.js';
import { EXECUTE_RUN, type Dispatch, type JobsJobMap } from './dispatch.js';
import type { RunEngine } from './jobs.engine.js';
import type { LocksRepository } from './locks.repository.js';
import { runChannel, type RunMessage } from './run-log.js';
import { backoffDelayMs } from './run-state.fns.js';
import type { Run, RunsRepository } from './runs.repository.js';

export const CANCEL_CHANNEL = 'jobs:cancel';
/** Asks whichever worker runs `runId` to stop it (the service's `signalCancel` port, wired in index.ts). */
export const cancelSignal = (bus: Pick<EventBus, 'publish'>) => async (runId: string) => {
  await bus.publish(CANCEL_CHANNEL, { runId });
};
/** A worker not seen for this many heartbeats counts as gone (`no_worker`). */
export const WORKER_HEARTBEAT_MS = 5000;
export const WORKER_STALE_MS = 3 * WORKER_HEARTBEAT_MS;

export interface WorkerDeps {
  /** Called once per run this worker's recovery ends (failed, outcome unknown, or cancelled). */
  onFinished?: (type: string, status: string, seconds: number | null) => void;
  queue: JobQueue<JobsJobMap>;
  engine: RunEngine;
  runs: RunsRepository;
  locks: LocksRepository;
  bus: EventBus;
  dispatch: Dispatch;
  logger: Logger;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  /** How often every queued run is re-offered to the queue (cluster: covers a lost Redis). */
  reconcileMs: number;
  outcomeUnknown: string;
}

/**
 * The consumer side, started only in the `worker` role: registers the run handler, keeps the
 * worker registry fresh, recovers runs whose lease expired (a killed worker), rebuilds the
 * queue from the database at start and whenever the queue's store reconnects, and stops runs
 * cancelled through the bus.
 */
export function createJobsWorker(deps: WorkerDeps) {
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => Promise<void>) | null = null;
  let started = false;
  let listening = false;

  const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
    const t = setInterval(() => void fn().catch((err: unknown) => deps.logger.warn({ err }, `${what} failed`)), ms);
    t.unref();
    timers.push(t);
  };

  async function heartbeat(): Promise<void> {
    const now = nowIso();
    await deps.locks.heartbeatWorker({ id: deps.workerId, hostname: os.hostname(), pid: process.pid, concurrency: deps.concurrency, now });
    await deps.locks.pruneWorkers(new Date(Date.now() - 10 * WORKER_STALE_MS).toISOString());
  }

  /** Re-offers every queued run; the queue drops ids it already holds. */
  async function reconcile(): Promise<number> {
    const queued = await deps.runs.queued();
    for (let i = 0; i < queued.length; i += 500) await deps.dispatch.many(queued.slice(i, i + 500));
    return queued.length;
  }

  /** Decides what happens to one run whose worker stopped renewing its lease. */
  async function recoverOne(run: Run): Promise<void> {
    const now = nowIso();
    const owner = run.leaseOwner ?? '';
    let to: 'queued' | 'failed' | 'cancelled';
    let reason: string;
    let notBefore: string | null = null;
    if (run.cancelRequested) [to, reason] = ['cancelled', 'cancelled; the worker running it was lost'];
    else if (run.changesDevices) [to, reason] = ['failed', deps.outcomeUnknown];
    else if (run.attempt < run.maxAttempts) {
      to = 'queued';
      reason = 'worker lost; retrying';
      notBefore = new Date(Date.now() + backoffDelayMs(run.backoffMs, run.attempt)).toISOString();
    } else [to, reason] = ['failed', 'worker lost'];
    if (!(await deps.runs.recover(run.id, owner, to, { reason, notBefore, now }))) return;
    deps.logger.warn({ runId: run.id, to, reason }, 'recovered run from a lost worker');
    if (to !== 'queued') deps.onFinished?.(run.type, to, run.startedAt ? Math.max(0, Date.parse(now) - Date.parse(run.startedAt)) / 1000 : null);
    if (to !== 'queued') await deps.runs.closeOpenTargets(run.id, null, to === 'cancelled' ? 'cancelled' : 'failed', reason, now);
    await deps.engine.releaseLocks(run.id);
    await deps.bus.publish(runChannel(run.id), { kind: 'status', status: to, reason, attempt: run.attempt } satisfies RunMessage).catch(() => undefined);
    if (to === 'queued') await deps.dispatch({ ...run, notBefore });
  }

  /** Recovers runs of lost workers, and ends queued runs past their deadline (`expired`). */
  async function sweep(): Promise<void> {
    const now = nowIso();
    for (const run of await deps.runs.expiredLeases(now)) await recoverOne(run);
    for (const id of await deps.runs.pastDeadline(now)) {
      const run = await deps.runs.find(id);
      if (run) await deps.engine.expire(run);
    }
  }

  return {
    async start(): Promise<void> {
      if (started) return;
      started = true;
      deps.engine.resume();
      await heartbeat();
      unsubscribe = await deps.bus.subscribe(CANCEL_CHANNEL, (msg) => {
        const runId = (msg as { runId?: unknown }).runId;
        if (typeof runId === 'string') deps.engine.cancelLocal(runId);
      });
      const registry = createJobRegistry<JobsJobMap>([EXECUTE_RUN]);
      registry.register(EXECUTE_RUN, (payload) => deps.engine.handle(payload.runId));
      if (!listening) {
        deps.queue.onReconnect(() => {
          void reconcile()
            .then((n) => n > 0 && deps.logger.info({ queued: n }, 'queue rebuilt from the database'))
            .catch((err: unknown) => deps.logger.warn({ err }, 'queue rebuild failed'));
        });
        listening = true;
      }
      await sweep();
      await deps.queue.startWorker(registry, { concurrency: deps.concurrency });
      every(WORKER_HEARTBEAT_MS, heartbeat, 'worker heartbeat');
      every(Math.max(250, Math.floor(deps.leaseMs / 2)), sweep, 'lease sweep');
      every(deps.reconcileMs, reconcile, 'queue reconcile');
    },
    sweep,
    reconcile,
    /** Drains: no new runs, in-flight ones finish (or are requeued after the grace period). */
    async stop(graceMs: number): Promise<void> {
      if (!started) return;
      started = false;
      for (const t of timers.splice(0)) clearInterval(t);
      const draining = deps.queue.drain();
      await deps.engine.stop(graceMs);
      await draining;
      await unsubscribe?.();
      await deps.locks.removeWorker(deps.workerId).catch(() => undefined);
    },
  };
}

export type JobsWorker = ReturnType<typeof createJobsWorker>;
