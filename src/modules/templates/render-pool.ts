import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../platform/errors.js';
import type { Limits } from './engine/index.js';
import type { RenderFailure, RenderJob } from './render-job.fns.js';

/**
 * Renders run in worker threads, so a template that runs away never blocks the event loop. The
 * engine stops itself when its step-counted budget is spent (`limit`); a worker that still has not
 * answered `graceMs` later is terminated and replaced. Workers are unref'd when idle.
 */
export interface RenderPool {
  render(job: RenderJob): Promise<{ ok: true; output: string } | { ok: false; error: RenderFailure }>;
  close(): Promise<void>;
}

interface Task {
  id: number;
  job: RenderJob;
  settle: (r: Awaited<ReturnType<RenderPool['render']>>) => void;
  fail: (e: Error) => void;
}

interface Slot {
  worker: Worker | null;
  ready: boolean;
  task: Task | null;
  timer: NodeJS.Timeout | null;
}

function spawnWorker(limits: Limits): Worker {
  const self = import.meta.url;
  const workerData = { limits };
  if (!self.endsWith('.ts')) return new Worker(new URL('./render-worker.js', self), { workerData });
  const tsx = pathToFileURL(createRequire(self).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./render-worker.ts', self).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData });
}

export function createRenderPool(limits: Limits, size = 2, graceMs = 500): RenderPool {
  const slots: Slot[] = Array.from({ length: Math.max(1, size) }, () => ({ worker: null, ready: false, task: null, timer: null }));
  const queue: Task[] = [];
  let nextId = 1;
  let closed = false;
  const limitError = (): RenderFailure => ({ kind: 'limit', message: `rendering took longer than ${limits.timeoutMs} ms and was stopped`, lineno: null, column: null, template: null });

  const release = (slot: Slot): Task | null => {
    const task = slot.task;
    slot.task = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker?.unref();
    return task;
  };
  const drop = (slot: Slot): void => {
    const w = slot.worker;
    slot.worker = null;
    slot.ready = false;
    void w?.terminate();
  };

  function start(slot: Slot): void {
    const worker = spawnWorker(limits);
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (msg: { ready: true } | { id: number; ok: true; output: string } | { id: number; ok: false; error: RenderFailure }) => {
      if ('ready' in msg) {
        slot.ready = true;
        if (!slot.task) worker.unref();
        pump();
        return;
      }
      if (slot.task?.id !== msg.id) return;
      release(slot)?.settle(msg.ok ? { ok: true, output: msg.output } : { ok: false, error: msg.error });
      pump();
    });
    const lost = (err: Error): void => {
      if (slot.worker !== worker) return;
      const wasReady = slot.ready;
      slot.worker = null;
      slot.ready = false;
      release(slot)?.fail(err);
      if (!wasReady) for (const t of queue.splice(0)) t.fail(new AppError('TEMPLATE_WORKER_UNAVAILABLE', 503, 'The template renderer could not start'));
      else pump();
    };
    worker.on('error', (err) => lost(new AppError('TEMPLATE_WORKER_FAILED', 500, `The template renderer failed: ${err.message}`)));
    worker.on('exit', () => lost(new AppError('TEMPLATE_WORKER_FAILED', 500, 'The template renderer stopped')));
  }

  function pump(): void {
    if (closed) return;
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.task) continue;
      if (!slot.worker) start(slot);
      if (!slot.ready) {
        slot.worker?.ref();
        continue;
      }
      const task = queue.shift() as Task;
      slot.task = task;
      slot.worker?.ref();
      slot.timer = setTimeout(() => {
        drop(slot);
        release(slot)?.settle({ ok: false, error: limitError() });
        pump();
      }, limits.timeoutMs + graceMs);
      slot.worker?.postMessage({ id: task.id, job: task.job });
    }
  }

  return {
    render(job) {
      if (closed) return Promise.reject(new AppError('TEMPLATE_POOL_CLOSED', 503, 'The template renderer is shut down'));
      return new Promise((settle, fail) => {
        queue.push({ id: nextId++, job, settle, fail });
        pump();
      });
    },
    async close() {
      closed = true;
      const gone = new AppError('TEMPLATE_POOL_CLOSED', 503, 'The template renderer is shut down');
      for (const t of queue.splice(0)) t.fail(gone);
      await Promise.all(
        slots.map(async (slot) => {
          const w = slot.worker;
          slot.worker = null;
          release(slot)?.fail(gone);
          await w?.terminate();
        }),
      );
    },
  };
}
