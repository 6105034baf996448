import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../platform/errors.js';
import { RETIRE_AT_CODE_BYTES } from './code-space.js';
import { deserializeError, type SerializedError } from './parse-errors.fns.js';
import type { ParsedRecord, ParseJob } from './parse-job.fns.js';

/**
 * A small pool of worker threads that run parse jobs under a time budget, so a regex that
 * backtracks catastrophically cannot block the event loop. A job that overruns its budget gets
 * its worker terminated (the only way to stop a running RegExp) and a fresh worker takes its
 * place; queued jobs then continue. Workers start on first use and are unref'd when idle, so an
 * idle pool never keeps the process alive. The budget starts when a started worker takes the job:
 * a worker's start-up (loading the engine, under tsx compiling it) is not charged to the input.
 */
export interface ParseWorkerPool {
  run(job: ParseJob): Promise<ParsedRecord[]>;
  /** Workers started so far (first use, after a timeout, after a retirement). */
  started(): number;
  close(): Promise<void>;
}

export interface ParseWorkerPoolOptions {
  size?: number;
  /**
   * Budget per job, from the moment a worker picks it up. The default leaves room for posting
   * the job and the answer, so a parse that runs away is answered within one second.
   */
  timeoutMs?: number;
  /**
   * A worker whose V8 code space passes this is replaced after its job (see code-space.ts):
   * below V8's 16 MB, past which new RegExps are no longer optimised.
   */
  retireAtCodeBytes?: number;
}

interface Pending {
  id: number;
  job: ParseJob;
  resolve: (records: ParsedRecord[]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker | null;
  /** The worker has loaded and said so; jobs are only posted to ready workers. */
  ready: boolean;
  current: Pending | null;
  timer: NodeJS.Timeout | null;
}

type Reply = ({ id: number; ok: true; records: ParsedRecord[] } | { id: number; ok: false; error: SerializedError }) & { retire?: boolean } | { ready: true };

/**
 * Built code runs the compiled `.js`. In development (tsx, vitest) the worker is TypeScript: a
 * small bootstrap registers tsx's loader inside the worker thread, then imports it.
 */
function startWorker(workerData: { retireAtCodeBytes: number }): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', self), { workerData });
  // NOTE: require.resolve yields the CommonJS build; its ESM sibling is the one that works in a worker.
  const tsx = pathToFileURL(createRequire(self).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./parse-worker.ts', self).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export function createParseWorkerPool(options: ParseWorkerPoolOptions = {}): ParseWorkerPool {
  const size = Math.max(1, options.size ?? 1);
  const timeoutMs = options.timeoutMs ?? 950;
  const retireAtCodeBytes = options.retireAtCodeBytes ?? RETIRE_AT_CODE_BYTES;
  let started = 0;
  const slots: Slot[] = Array.from({ length: size }, () => ({ worker: null, ready: false, current: null, timer: null }));
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (slot: Slot): void => {
    const worker = startWorker({ retireAtCodeBytes });
    started++;
    worker.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        slot.ready = true;
        if (slot.current === null) worker.unref();
        dispatch();
      } else finish(slot, reply);
    });
    worker.on('error', (err) => fail(slot, worker, new AppError('PARSER_WORKER_FAILED', 422, `The parser failed on this input: ${err.message}`)));
    worker.on('exit', () => fail(slot, worker, new AppError('PARSER_WORKER_FAILED', 422, 'The parser stopped while parsing this input')));
    slot.worker = worker;
    slot.ready = false;
  };

  const settle = (slot: Slot): Pending | null => {
    const pending = slot.current;
    slot.current = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker?.unref();
    return pending;
  };

  function finish(slot: Slot, reply: Exclude<Reply, { ready: true }>): void {
    if (slot.current?.id !== reply.id) return;
    const pending = settle(slot);
    if (reply.retire) {
      // Replaced lazily: the next job that needs this slot starts a fresh worker.
      const worker = slot.worker;
      slot.worker = null;
      slot.ready = false;
      void worker?.terminate();
    }
    if (reply.ok) pending?.resolve(reply.records);
    else pending?.reject(deserializeError(reply.error));
    dispatch();
  }

  function fail(slot: Slot, worker: Worker, err: Error): void {
    if (slot.worker !== worker) return;
    const started = slot.ready;
    slot.worker = null;
    slot.ready = false;
    settle(slot)?.reject(err);
    // NOTE: a worker that dies before it is ready would die again: fail the queue, do not respawn in a loop.
    if (!started) {
      for (const pending of queue.splice(0)) pending.reject(new AppError('PARSER_WORKER_UNAVAILABLE', 503, 'The parser worker could not start'));
      return;
    }
    dispatch();
  }

  function timeout(slot: Slot): void {
    const worker = slot.worker;
    slot.worker = null;
    slot.ready = false;
    const pending = settle(slot);
    void worker?.terminate();
    pending?.reject(new AppError('PARSER_TIMEOUT', 422, `Parsing took longer than ${timeoutMs} ms and was stopped`));
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
      const pending = queue.shift() as Pending;
      slot.current = pending;
      worker.ref();
      slot.timer = setTimeout(() => timeout(slot), timeoutMs);
      worker.postMessage({ id: pending.id, job: pending.job });
    }
  }

  return {
    run(job) {
      if (closed) return Promise.reject(new AppError('PARSER_POOL_CLOSED', 503, 'The parser pool is shut down'));
      return new Promise<ParsedRecord[]>((resolve, reject) => {
        queue.push({ id: nextId++, job, resolve, reject });
        dispatch();
      });
    },
    started: () => started,
    async close() {
      closed = true;
      for (const pending of queue.splice(0)) pending.reject(new AppError('PARSER_POOL_CLOSED', 503, 'The parser pool is shut down'));
      await Promise.all(
        slots.map(async (slot) => {
          const worker = slot.worker;
          slot.worker = null;
          settle(slot)?.reject(new AppError('PARSER_POOL_CLOSED', 503, 'The parser pool is shut down'));
          await worker?.terminate();
        }),
      );
    },
  };
}
