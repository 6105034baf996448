import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A small pool of worker threads that run jobs under a time budget, so work that runs away (a
 * regex that backtracks catastrophically, a template that loops) never blocks the event loop. A
 * job that overruns its budget gets its worker terminated (the only way to stop running
 * JavaScript) and a fresh worker takes the slot; queued jobs continue. Workers start on first use
 * and are unref'd when idle, so an idle pool never keeps the process alive. The budget starts
 * when a ready worker takes the job: start-up (loading, under tsx compiling) is not charged.
 *
 * The worker protocol: the worker posts `{ ready: true }` once loaded, then answers each
 * `{ id, job }` with `{ id, …reply }`. Used by parsers (parse-worker-pool.ts) and templates
 * (render-pool.ts).
 */
export interface WorkerPool<Job, Result> {
  run(job: Job): Promise<Result>;
  /** Workers started so far (first use, after a timeout, after a retirement). */
  started(): number;
  close(): Promise<void>;
}

export interface WorkerPoolOptions<Reply, Result> {
  /** The caller's `import.meta.url` and the worker module's base name beside it (`parse-worker`). */
  module: { base: string; name: string };
  workerData: unknown;
  size: number;
  /** Budget per job from the moment a ready worker takes it. */
  budgetMs: number;
  /** What a job answers when its worker was terminated for overrunning: a result, or an Error to reject with. */
  onTimeout(): Result | Error;
  /** A worker's reply → the job's result, or an Error to reject with. */
  decode(reply: Reply): Result | Error;
  /** Whether the worker asked to be replaced after this reply (e.g. its code space grew too large). */
  retire?(reply: Reply): boolean;
  errors: {
    /** The worker crashed (`cause`) or exited while working on a job. */
    failed(cause?: Error): Error;
    /** A worker died before it was ready: it would again, so the queue fails instead of respawning in a loop. */
    unavailable(): Error;
    closed(): Error;
  };
}

/**
 * Built code runs the compiled `.js`. In development (tsx, vitest) the worker is TypeScript: a
 * small bootstrap registers tsx's loader inside the worker thread, then imports it.
 */
function startWorker(module: { base: string; name: string }, workerData: unknown): Worker {
  if (!module.base.endsWith('.ts')) return new Worker(new URL(`./${module.name}.js`, module.base), { workerData });
  // NOTE: require.resolve yields the CommonJS build; its ESM sibling is the one that works in a worker.
  const tsx = pathToFileURL(
    createRequire(module.base)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL(`./${module.name}.ts`, module.base).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData });
}

interface Pending<Job, Result> {
  id: number;
  job: Job;
  resolve: (result: Result) => void;
  reject: (err: Error) => void;
}

interface Slot<Job, Result> {
  worker: Worker | null;
  /** The worker has loaded and said so; jobs are only posted to ready workers. */
  ready: boolean;
  current: Pending<Job, Result> | null;
  timer: NodeJS.Timeout | null;
}

export function createWorkerPool<Job, Reply, Result>(o: WorkerPoolOptions<Reply, Result>): WorkerPool<Job, Result> {
  const slots: Slot<Job, Result>[] = Array.from({ length: Math.max(1, o.size) }, () => ({ worker: null, ready: false, current: null, timer: null }));
  const queue: Pending<Job, Result>[] = [];
  let started = 0;
  let nextId = 1;
  let closed = false;

  const answer = (pending: Pending<Job, Result> | null, outcome: Result | Error): void => {
    if (outcome instanceof Error) pending?.reject(outcome);
    else pending?.resolve(outcome);
  };

  /** Frees the slot's job (and its timer); the worker stays. */
  const settle = (slot: Slot<Job, Result>): Pending<Job, Result> | null => {
    const pending = slot.current;
    slot.current = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker?.unref();
    return pending;
  };

  /** Takes the worker out of the slot (the next job that needs it starts a fresh one). */
  const discard = (slot: Slot<Job, Result>): void => {
    const worker = slot.worker;
    slot.worker = null;
    slot.ready = false;
    void worker?.terminate();
  };

  function spawn(slot: Slot<Job, Result>): void {
    const worker = startWorker(o.module, o.workerData);
    started++;
    worker.on('message', (msg: { ready: true } | (Reply & { id: number })) => {
      if ('ready' in msg) {
        slot.ready = true;
        if (slot.current === null) worker.unref();
        dispatch();
        return;
      }
      if (slot.worker !== worker || slot.current?.id !== msg.id) return;
      const pending = settle(slot);
      if (o.retire?.(msg)) discard(slot);
      answer(pending, o.decode(msg));
      dispatch();
    });
    const lost = (err: Error): void => {
      if (slot.worker !== worker) return;
      const wasReady = slot.ready;
      slot.worker = null;
      slot.ready = false;
      settle(slot)?.reject(err);
      if (!wasReady) for (const pending of queue.splice(0)) pending.reject(o.errors.unavailable());
      else dispatch();
    };
    worker.on('error', (err) => lost(o.errors.failed(err)));
    worker.on('exit', () => lost(o.errors.failed()));
    slot.worker = worker;
    slot.ready = false;
  }

  function timeout(slot: Slot<Job, Result>): void {
    discard(slot);
    answer(settle(slot), o.onTimeout());
    dispatch();
  }

  function dispatch(): void {
    if (closed) return;
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.current !== null) continue;
      if (slot.worker === null) spawn(slot);
      const worker = slot.worker as Worker | null;
      if (worker === null || !slot.ready) {
        worker?.ref(); // starting for queued work: keep the process alive until it is done
        continue;
      }
      const pending = queue.shift()!;
      slot.current = pending;
      worker.ref();
      slot.timer = setTimeout(() => timeout(slot), o.budgetMs);
      worker.postMessage({ id: pending.id, job: pending.job });
    }
  }

  return {
    run(job) {
      if (closed) return Promise.reject(o.errors.closed());
      return new Promise<Result>((resolve, reject) => {
        queue.push({ id: nextId++, job, resolve, reject });
        dispatch();
      });
    },
    started: () => started,
    async close() {
      closed = true;
      for (const pending of queue.splice(0)) pending.reject(o.errors.closed());
      await Promise.all(
        slots.map(async (slot) => {
          const worker = slot.worker;
          slot.worker = null;
          slot.ready = false;
          settle(slot)?.reject(o.errors.closed());
          await worker?.terminate();
        }),
      );
    },
  };
}
