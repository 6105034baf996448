/**
 * Group commit: calls that arrive while `concurrency` flushes are running wait for one of them
 * and then go together into the next flush, so N concurrent writers share one transaction (one
 * round trip per statement, one WAL flush) instead of queueing for N. A lone call is flushed at
 * once, alone: batching adds no latency when there is no concurrency to exploit.
 *
 * After a flush the loop yields one turn of the event loop before cutting the next batch, so
 * callers just answered can join it: without that, batches alternate between one item and
 * everyone else.
 *
 * A failing batch is retried one item at a time, so one bad item (a unique-key race, say)
 * fails only its own caller, with its own error.
 */
export interface Batcher<I, O> {
  (item: I): Promise<O>;
  /** Resolves once every item handed in so far has been flushed (answered or failed). */
  idle(): Promise<void>;
}

export function createBatcher<I, O>(flush: (items: I[]) => Promise<O[]>, options: { maxBatch?: number; concurrency?: number } = {}): Batcher<I, O> {
  const maxBatch = options.maxBatch ?? 256;
  const concurrency = options.concurrency ?? 1;
  type Waiter = { item: I; resolve: (value: O) => void; reject: (err: unknown) => void };
  const waiting: Waiter[] = [];
  let flushing = 0;
  let idlers: (() => void)[] = [];

  async function one(w: Waiter): Promise<void> {
    try {
      const [out] = await flush([w.item]);
      w.resolve(out as O);
    } catch (err) {
      w.reject(err);
    }
  }

  async function many(batch: Waiter[]): Promise<void> {
    let results: O[];
    try {
      results = await flush(batch.map((w) => w.item));
    } catch {
      for (const w of batch) await one(w);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i] as O));
  }

  async function drain(): Promise<void> {
    flushing++;
    try {
      while (waiting.length > 0) {
        const batch = waiting.splice(0, maxBatch);
        if (batch.length === 1) await one(batch[0]!);
        else await many(batch);
        // Let the callers just answered come back with their next item before the next batch
        // is cut; otherwise it would be whoever arrived first, alone.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      flushing--;
      if (flushing === 0 && waiting.length === 0) {
        for (const wake of idlers) wake();
        idlers = [];
      }
    }
  }

  const batcher = (item: I) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (flushing < concurrency) void drain();
    });
  batcher.idle = () => (flushing === 0 && waiting.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idlers.push(resolve)));
  return batcher;
}
