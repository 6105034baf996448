import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { redisTestUrl, requireRedis, deleteRedisKeys } from '../../../test/helpers/redis.js';
import { createBullmqQueue } from './bullmq.js';
import { createEmbeddedQueue } from './embedded.js';
import { createJobRegistry, type JobQueue } from './job-queue.js';

type Map1 = { 'test.job': { n: number } };
const impls = [
  { name: 'embedded', needsRedis: false, create: (_p: string) => createEmbeddedQueue<Map1>() },
  { name: 'bullmq', needsRedis: true, create: (p: string) => createBullmqQueue<Map1>({ url: redisTestUrl(), prefix: p }) },
];

describe.each(impls)('JobQueue contract: $name', (impl) => {
  let queue: JobQueue<Map1>;
  let prefix: string;
  beforeEach(async () => {
    if (impl.needsRedis) await requireRedis();
    prefix = `opsdeck-test-q-${randomBytes(4).toString('hex')}`;
    queue = impl.create(prefix);
  });
  afterEach(async () => {
    await queue.close();
    if (impl.needsRedis) await deleteRedisKeys(prefix);
  });

  it('refuses to start without a handler for every declared job', async () => {
    await expect(queue.startWorker(createJobRegistry<Map1>(['test.job']), { concurrency: 1 })).rejects.toThrow(/no handler/);
  });

  it('runs higher priority first, dedupes waiting ids, honours delays', async () => {
    const seen: number[] = [];
    for (const [n, priority] of [
      [1, 1],
      [2, 9],
      [3, 5],
    ] as const) {
      await queue.enqueue('test.job', { n }, { jobId: `j${n}`, priority });
    }
    await queue.enqueue('test.job', { n: 2 }, { jobId: 'j2', priority: 9 });
    await queue.enqueue('test.job', { n: 4 }, { jobId: 'j4', delayMs: 300 });
    const registry = createJobRegistry<Map1>(['test.job']);
    registry.register('test.job', async ({ n }) => void seen.push(n));
    await queue.startWorker(registry, { concurrency: 1 });
    await vi.waitFor(() => expect(seen).toEqual([2, 3, 1, 4]), { timeout: 10_000 });
  });

  it('enqueues a batch with the same priority, dedupe and delay rules', async () => {
    const seen: number[] = [];
    await queue.enqueueMany([
      { name: 'test.job', payload: { n: 1 }, options: { jobId: 'b1', priority: 1 } },
      { name: 'test.job', payload: { n: 2 }, options: { jobId: 'b2', priority: 9 } },
      { name: 'test.job', payload: { n: 2 }, options: { jobId: 'b2', priority: 9 } },
      { name: 'test.job', payload: { n: 3 }, options: { jobId: 'b3', delayMs: 2000 } },
    ]);
    await queue.enqueueMany([{ name: 'test.job', payload: { n: 1 }, options: { jobId: 'b1', priority: 1 } }]);
    await expect(queue.enqueueMany([{ name: 'test.job', payload: { n: 5 }, options: { jobId: 'bad:id' } }])).rejects.toThrow(/invalid job id/);
    const registry = createJobRegistry<Map1>(['test.job']);
    registry.register('test.job', async ({ n }) => void seen.push(n));
    await queue.startWorker(registry, { concurrency: 1 });
    await vi.waitFor(() => expect(seen).toEqual([2, 1, 3]), { timeout: 10_000 });
  });

  it('drain waits for in-flight handlers', async () => {
    let started = false;
    let finished = false;
    const registry = createJobRegistry<Map1>(['test.job']);
    registry.register('test.job', async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 200));
      finished = true;
    });
    await queue.startWorker(registry, { concurrency: 2 });
    await queue.enqueue('test.job', { n: 1 }, { jobId: 'slow' });
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 10_000 });
    expect(finished).toBe(false);
    await queue.drain();
    expect(finished).toBe(true);
  });
});
