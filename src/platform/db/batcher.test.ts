import { describe, expect, it, vi } from 'vitest';
import { createBatcher } from './batcher.js';

describe('createBatcher (group commit)', () => {
  it('flushes a lone call at once, and calls arriving during a flush together in the next one', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const double = createBatcher(async (items: number[]) => {
      flushes.push(items);
      if (flushes.length === 1) await gate;
      return items.map((n) => n * 2);
    });
    const first = double(1);
    expect(flushes).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => double(n));
    release();
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('lets callers just answered join the next batch, so steady producers share full batches', async () => {
    const sizes: number[] = [];
    const echo = createBatcher(async (items: string[]) => {
      sizes.push(items.length);
      await new Promise((r) => setTimeout(r, 1));
      return items;
    });
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map(async (p) => {
        for (let i = 1; i <= 4; i++) {
          expect(await echo(`${p}${i}`)).toBe(`${p}${i}`);
          // A real caller awaits a little more (shaping its answer) before its next item.
          for (let k = 0; k < 5; k++) await Promise.resolve();
        }
      }),
    );
    expect(sizes).toEqual([1, 5, 5, 5, 4]);
  });

  it('caps a batch at maxBatch', async () => {
    const sizes: number[] = [];
    const echo = createBatcher(async (items: number[]) => (sizes.push(items.length), items), { maxBatch: 2 });
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => echo(n)))).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([1, 2, 2]);
  });

  it('retries a failed batch one by one, so only the bad item fails', async () => {
    const flushes: number[][] = [];
    const strict = createBatcher(async (items: number[]) => {
      flushes.push(items);
      if (items.includes(13)) throw new Error(`unlucky ${items.length}`);
      return items;
    });
    const results = await Promise.allSettled([10, 11, 13, 12].map((n) => strict(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 11, 'unlucky 1', 12]);
    expect(flushes).toEqual([[10], [11, 13, 12], [11], [13], [12]]);
    // The batcher keeps working after a failure.
    expect(await strict(7)).toBe(7);
  });
});

describe('createBatcher with concurrency', () => {
  it('runs up to `concurrency` flushes at once and batches the rest', async () => {
    const gates: (() => void)[] = [];
    const flushes: number[][] = [];
    const echo = createBatcher(
      async (items: number[]) => {
        flushes.push(items);
        await new Promise<void>((r) => gates.push(r));
        return items;
      },
      { concurrency: 2 },
    );
    const all = [1, 2, 3, 4].map((n) => echo(n));
    expect(flushes).toEqual([[1], [2]]);
    gates.shift()!();
    // The freed flusher yields one event-loop turn before cutting the next batch; wait for it
    // rather than guess which of a timer and an immediate runs first.
    await vi.waitFor(() => expect(flushes).toHaveLength(3));
    expect(flushes).toEqual([[1], [2], [3, 4]]);
    for (const g of gates.splice(0)) g();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4]);
  });
});

describe('createBatcher idle', () => {
  it('resolves at once when nothing is pending, and after the last flush when items are', async () => {
    const done: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = createBatcher(async (items: number[]) => {
      await gate;
      done.push(...items);
      return items;
    });
    await slow.idle();
    void slow(1);
    void slow(2);
    let idle = false;
    const waiting = slow.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(done).toEqual([1, 2]);
  });
});
