import { assertJobId, assertRegistryComplete, type EnqueueOptions, type JobMap, type JobQueue, type JobRegistry, type WorkerOptions } from './job-queue.js';

interface Entry {
  id: string;
  name: string;
  payload: unknown;
  priority: number;
  seq: number;
}

export interface EmbeddedQueueOptions {
  onHandlerError?: (err: unknown, job: { id: string; name: string }) => void;
}

/** Higher priority first, then first in, first out. */
function before(a: Entry, b: Entry): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

/** A binary heap: O(log n) push/pop so a long backlog does not make dispatch quadratic. */
class Heap {
  private items: Entry[] = [];
  get size(): number {
    return this.items.length;
  }
  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The single-node queue: in-process, priorities, delays, dedupe by job id, bounded concurrency.
 * It holds nothing durable on purpose: the owners' tables are the record and are re-read at
 * start (`onReconnect` fires once when the worker starts), which is what makes a restart on
 * the same data directory lose nothing.
 */
export function createEmbeddedQueue<M extends JobMap>(options: EmbeddedQueueOptions = {}): JobQueue<M> {
  const heap = new Heap();
  const pending = new Set<string>();
  const delayed = new Map<string, NodeJS.Timeout>();
  const listeners: (() => void)[] = [];
  let registry: JobRegistry<M> | undefined;
  let concurrency = 0;
  let active = 0;
  let seq = 0;
  let draining = false;
  let closed = false;
  const idle: (() => void)[] = [];

  function pump(): void {
    while (registry && !draining && active < concurrency && heap.size > 0) {
      const entry = heap.pop()!;
      pending.delete(entry.id);
      const handler = registry.handler(entry.name);
      if (!handler) continue;
      active++;
      const job = { id: entry.id, name: entry.name };
      // A handler may call enqueue synchronously; start it on a fresh tick so pump stays simple.
      void Promise.resolve()
        .then(() => handler(entry.payload, job))
        .catch((err: unknown) => options.onHandlerError?.(err, job))
        .finally(() => {
          active--;
          if (active === 0) for (const done of idle.splice(0)) done();
          pump();
        });
    }
  }

  function enqueueOne(name: string, payload: unknown, opts: EnqueueOptions): void {
    if (closed) throw new Error('queue is closed');
    assertJobId(opts.jobId);
    if (pending.has(opts.jobId) || delayed.has(opts.jobId)) return;
    if (opts.delayMs && opts.delayMs > 0) {
      const timer = setTimeout(() => {
        delayed.delete(opts.jobId);
        if (!closed) push(name, payload, opts);
      }, opts.delayMs);
      timer.unref();
      delayed.set(opts.jobId, timer);
      return;
    }
    push(name, payload, opts);
  }

  function push(name: string, payload: unknown, opts: EnqueueOptions): void {
    pending.add(opts.jobId);
    heap.push({ id: opts.jobId, name, payload, priority: opts.priority ?? 5, seq: seq++ });
    pump();
  }

  return {
    kind: 'embedded',
    async enqueue(name, payload, opts) {
      enqueueOne(name, payload, opts);
    },
    async enqueueMany(jobs) {
      for (const j of jobs) assertJobId(j.options.jobId);
      for (const j of jobs) enqueueOne(j.name, j.payload, j.options);
    },
    async startWorker(reg, workerOptions: WorkerOptions) {
      assertRegistryComplete(reg as JobRegistry<JobMap>);
      registry = reg;
      concurrency = workerOptions.concurrency;
      draining = false;
      for (const l of listeners) l();
      pump();
    },
    async drain() {
      draining = true;
      if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
    },
    onReconnect(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      draining = true;
      for (const t of delayed.values()) clearTimeout(t);
      delayed.clear();
      if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
