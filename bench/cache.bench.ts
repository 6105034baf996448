/**
 * Cache: the cluster cache (L1 over Redis L2) per operation, against the in-process LRU as the
 * peer (the floor). Needs Redis: OPSDECK_BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 * Measured: an L1 hit (`get` and `wrap`), an L2 hit (a second node's first read), a `wrap` miss
 * with a trivial loader (load + L2 write), and `invalidateTag` (Redis delete + broadcast).
 */
import { randomUUID } from 'node:crypto';
import { createMemoryCache, createTieredCache, type Cache } from '../src/platform/cache/index.js';
import { ratio } from './lib.js';

const redisUrl = process.env.OPSDECK_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_CACHE_OPS ?? 20_000);
const value = { id: randomUUID(), permissions: Array.from({ length: 40 }, (_, i) => `perm:${i}`) };

/** Mean µs per call of `op` over `n` sequential calls (after a warm-up of n/10). */
async function perOp(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < n / 10; i += 1) await op(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1) await op(i);
  return Number(process.hrtime.bigint() - start) / 1e3 / n;
}

async function measure(create: () => Cache): Promise<Record<string, number>> {
  const a = create();
  const b = create();
  try {
    await a.set('hot', value, { tags: ['t'] });
    await new Promise((r) => setTimeout(r, 200)); // the subscription is up, so L1 fills
    await a.get('hot');
    const l1Get = await perOp(N, () => a.get('hot'));
    const l1Wrap = await perOp(N, () => a.wrap('hot', { tags: ['t'] }, async () => value));
    const m = Math.min(N, 2_000);
    for (let i = 0; i < m * 1.1; i += 1) await a.set(`k${i}`, value);
    const l2Get = await perOp(m, (i) => b.get(`k${i}`));
    const wrapMiss = await perOp(m, (i) => a.wrap(`miss${i}`, { tags: [`t${i % 50}`] }, async () => value));
    const invalidate = await perOp(m / 4, (i) => a.invalidateTag(`t${i % 50}`));
    return {
      'get (L1 hit)': l1Get,
      'wrap (L1 hit)': l1Wrap,
      'get (L2 hit, other node)': l2Get,
      'wrap miss (load + L2 write)': wrapMiss,
      invalidateTag: invalidate,
    };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

const prefix = `bench-cache-${randomUUID()}:`;
const tiered = await measure(() => createTieredCache({ redisUrl, prefix }));
const memory = await measure(() => createMemoryCache());
console.log(`\ncache (${N} ops per L1 row, sequential, µs per op; peer: in-process LRU)`);
for (const [name, us] of Object.entries(tiered)) {
  const floor = memory[name] ?? 0;
  console.log(`  ${name.padEnd(30)} tiered ${us.toFixed(2).padStart(8)} µs   memory ${floor.toFixed(2).padStart(8)} µs   ${ratio(us, floor)}`);
}
