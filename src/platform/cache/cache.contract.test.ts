import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deleteRedisKeys, redisTestUrl, requireRedis, testRedisClient, uniqueRedisPrefix } from '../../../test/helpers/redis.js';
import type { Cache, CacheLogger, CacheMetrics } from './cache.js';
import { createMemoryCache } from './memory-cache.js';
import { createTieredCache } from './tiered-cache.js';

const filePrefix = uniqueRedisPrefix('cache');
let testCount = 0;
/** Each test gets its own namespace; nodes created within one test share it. */
const testPrefix = (): string => `${filePrefix}${(testCount += 1)}:`;

interface Implementation {
  name: string;
  needsRedis: boolean;
  create(prefix: string, metrics?: CacheMetrics): Cache;
}

const implementations: Implementation[] = [
  { name: 'memory', needsRedis: false, create: (_prefix, metrics) => createMemoryCache({ metrics }) },
  {
    name: 'tiered',
    needsRedis: true,
    create: (prefix, metrics) => createTieredCache({ redisUrl: redisTestUrl(), prefix, metrics }),
  },
];

const open: Cache[] = [];
function track(cache: Cache): Cache {
  open.push(cache);
  return cache;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()));
});
afterAll(async () => {
  await deleteRedisKeys(filePrefix);
});

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Polls until a read of `key` is served by L1 (the tiered cache fills L1 once its invalidation subscription is live). */
async function untilL1Hit(cache: Cache, key: string): Promise<void> {
  await vi.waitFor(async () => {
    const before = cache.stats().l1Hits;
    await cache.get(key);
    expect(cache.stats().l1Hits).toBe(before + 1);
  });
}

describe.each(implementations)('Cache contract: $name', (impl) => {
  beforeEach(async () => {
    if (impl.needsRedis) {
      await requireRedis();
    }
  });
  const node = (metrics?: CacheMetrics): Cache => track(impl.create(testPrefix(), metrics));

  it('returns undefined on a miss and what was set on a hit', async () => {
    const cache = node();
    expect(await cache.get('nope')).toBeUndefined();
    const values: Record<string, unknown> = {
      object: { id: 'd1', nested: { ports: [1, 2] } },
      array: [1, 'two', null],
      string: '',
      zero: 0,
      no: false,
      nothing: null,
    };
    for (const [key, value] of Object.entries(values)) {
      await cache.set(key, value);
    }
    for (const [key, value] of Object.entries(values)) {
      expect(await cache.get(key)).toEqual(value);
    }
  });

  it('overwrites, deletes, and treats setting undefined as a delete', async () => {
    const cache = node();
    await cache.set('k', 1);
    await cache.set('k', 2);
    expect(await cache.get('k')).toBe(2);
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
    await cache.delete('k');
    await cache.set('u', 'x');
    await cache.set('u', undefined);
    expect(await cache.get('u')).toBeUndefined();
  });

  it('expires an entry after its TTL and keeps entries without one', async () => {
    const cache = node();
    await cache.set('short', 'v', { ttlMs: 100 });
    await cache.set('forever', 'v');
    await cache.set('born-dead', 'v', { ttlMs: 0 });
    expect(await cache.get('short')).toBe('v');
    expect(await cache.get('born-dead')).toBeUndefined();
    await vi.waitFor(async () => expect(await cache.get('short')).toBeUndefined(), { timeout: 2_000, interval: 10 });
    expect(await cache.get('forever')).toBe('v');
  });

  it('invalidateTag drops every entry with the tag, and only those, before it resolves', async () => {
    const cache = node();
    await cache.set('d1', 1, { tags: ['devices', 'site:a'] });
    await cache.set('d2', 2, { tags: ['devices'] });
    await cache.set('s1', 3, { tags: ['site:a'] });
    await cache.set('plain', 4);
    await cache.invalidateTag('devices');
    expect(await cache.get('d1')).toBeUndefined();
    expect(await cache.get('d2')).toBeUndefined();
    expect(await cache.get('s1')).toBe(3);
    expect(await cache.get('plain')).toBe(4);
    await cache.invalidateTag('never-used');
  });

  it('forgets the old tags of an overwritten entry', async () => {
    const cache = node();
    await cache.set('k', 'old', { tags: ['a'] });
    await cache.set('k', 'new', { tags: ['b'] });
    await cache.invalidateTag('a');
    expect(await cache.get('k')).toBe('new');
    await cache.invalidateTag('b');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('wrap loads on a miss, stores the result, and serves it afterwards', async () => {
    const cache = node();
    const load = vi.fn(async () => ({ n: 1 }));
    expect(await cache.wrap('w', { tags: ['t'] }, load)).toEqual({ n: 1 });
    expect(await cache.wrap('w', { tags: ['t'] }, load)).toEqual({ n: 1 });
    expect(load).toHaveBeenCalledTimes(1);
    await cache.invalidateTag('t');
    expect(await cache.wrap('w', { tags: ['t'] }, load)).toEqual({ n: 1 });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('wrap shares one load between concurrent misses (single flight)', async () => {
    const cache = node();
    const gate = deferred<string>();
    const load = vi.fn(() => gate.promise);
    const callers = Array.from({ length: 10 }, () => cache.wrap('sf', {}, load));
    await vi.waitFor(() => expect(load).toHaveBeenCalledTimes(1));
    gate.resolve('once');
    expect(await Promise.all(callers)).toEqual(Array.from({ length: 10 }, () => 'once'));
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('wrap rejects every waiter when the load fails, caches nothing, and retries next time', async () => {
    const cache = node();
    const failing = vi.fn(async () => {
      throw new Error('db down');
    });
    const results = await Promise.allSettled([cache.wrap('f', {}, failing), cache.wrap('f', {}, failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(await cache.wrap('f', {}, async () => 'ok')).toBe('ok');
  });

  it('wrap does not store a load that an invalidation or delete overtook, and later callers load afresh', async () => {
    const cache = node();
    for (const invalidate of [() => cache.invalidateTag('t'), () => cache.delete('race')]) {
      const stale = deferred<string>();
      const staleLoad = vi.fn(() => stale.promise);
      const first = cache.wrap('race', { tags: ['t'] }, staleLoad);
      await vi.waitFor(() => expect(staleLoad).toHaveBeenCalledTimes(1));
      await invalidate();
      const fresh = vi.fn(async () => 'fresh');
      const second = await cache.wrap('race', { tags: ['t'] }, fresh);
      stale.resolve('stale');
      expect(await first).toBe('stale');
      expect(second).toBe('fresh');
      expect(fresh).toHaveBeenCalledTimes(1);
      expect(await cache.get('race')).toBe('fresh');
      await cache.delete('race');
    }
  });

  it('wrap returns but never stores undefined', async () => {
    const cache = node();
    const load = vi.fn(async () => undefined);
    expect(await cache.wrap('u', {}, load)).toBeUndefined();
    expect(await cache.wrap('u', {}, load)).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('clearNamespace drops every entry of the namespace, and only those, before it resolves, wrap included', async () => {
    const cache = node();
    await cache.set('identity:a', 1, { tags: ['t'] });
    await cache.wrap('identity:b', {}, async () => 2);
    await cache.set('identityx:c', 3);
    await cache.set('parsers:d', 4);
    await cache.clearNamespace('identity');
    expect(await cache.get('identity:a')).toBeUndefined();
    expect(await cache.get('identity:b')).toBeUndefined();
    expect(await cache.get('identityx:c')).toBe(3);
    expect(await cache.get('parsers:d')).toBe(4);
  });

  it('counts hits, misses and entries held per namespace', async () => {
    const cache = node();
    await cache.get('identity:a');
    await cache.set('identity:a', 1);
    await cache.set('identity:b', 1);
    await untilL1Hit(cache, 'identity:a');
    await cache.wrap('parsers:x', {}, async () => 1);
    const rows = cache.namespaceStats();
    const identity = rows.find((r) => r.namespace === 'identity');
    expect(identity).toMatchObject({ misses: 1, size: 2, evictions: 0 });
    expect(identity!.hits).toBeGreaterThanOrEqual(1);
    expect(rows.find((r) => r.namespace === 'parsers')).toMatchObject({ hits: 0, misses: 1, size: 1 });
    await cache.clearNamespace('identity');
    expect(cache.namespaceStats().find((r) => r.namespace === 'identity')).toMatchObject({ size: 0 });
  });

  it('counts hits and misses in stats and the metrics hook', async () => {
    const metrics = { hit: vi.fn(), miss: vi.fn() };
    const cache = node(metrics);
    await cache.get('a');
    await cache.set('a', 1);
    await cache.get('a');
    await cache.wrap('a', {}, async () => 2);
    const stats = cache.stats();
    expect(stats).toMatchObject({ hits: 2, misses: 1 });
    expect(stats.l1Hits + stats.l2Hits).toBe(2);
    expect(metrics.miss).toHaveBeenCalledTimes(1);
    expect(metrics.hit).toHaveBeenCalledTimes(2);
    expect(metrics.hit.mock.calls.every(([level]) => level === 'l1' || level === 'l2')).toBe(true);
  });

  it('rejects use after close', async () => {
    const cache = impl.create(testPrefix());
    await cache.close();
    await expect(cache.get('x')).rejects.toThrow(/closed/);
    await expect(cache.set('x', 1)).rejects.toThrow(/closed/);
    await cache.close();
  });
});

describe('memory cache', () => {
  it('evicts the least recently used entry and unindexes its tags', async () => {
    const cache = track(createMemoryCache({ maxEntries: 2 }));
    await cache.set('a', 'tagged', { tags: ['t'] });
    await cache.set('b', 'b');
    await cache.set('c', 'c');
    expect(await cache.get('a')).toBeUndefined();
    // A stale index entry for 'a' would make this invalidation delete the untagged 'a'.
    await cache.set('a', 'untagged');
    await cache.invalidateTag('t');
    expect(await cache.get('a')).toBe('untagged');
    expect(cache.stats()).toMatchObject({ l1Hits: 1, l2Hits: 0 });
  });

  it('counts evictions per namespace', async () => {
    const cache = track(createMemoryCache({ maxEntries: 2 }));
    for (const key of ['jobs:a', 'jobs:b', 'parsers:c', 'parsers:d']) await cache.set(key, 1);
    expect(cache.namespaceStats()).toEqual([
      { namespace: 'jobs', hits: 0, misses: 0, size: 0, evictions: 2 },
      { namespace: 'parsers', hits: 0, misses: 0, size: 2, evictions: 0 },
    ]);
  });
});

describe('tiered cache across nodes', () => {
  const logger: CacheLogger = { warn: vi.fn(), error: vi.fn() };
  beforeEach(async () => {
    await requireRedis();
  });
  /** A fresh namespace and a factory for nodes sharing it. */
  const cluster = () => {
    const prefix = testPrefix();
    const node = (): Cache => track(createTieredCache({ redisUrl: redisTestUrl(), prefix, logger }));
    return { prefix, node };
  };

  it('serves a value set on node A to node B from L2, then from B’s L1', async () => {
    const { node } = cluster();
    const [a, b] = [node(), node()];
    await a.set('k', { v: 1 }, { tags: ['t'] });
    expect(await b.get('k')).toEqual({ v: 1 });
    expect(b.stats()).toMatchObject({ l1Hits: 0, l2Hits: 1, misses: 0 });
    await untilL1Hit(b, 'k');
  });

  it('drops other nodes’ L1 entries within milliseconds of invalidateTag', async () => {
    const { node } = cluster();
    const [a, b] = [node(), node()];
    await a.set('k', 'v', { tags: ['t'] });
    await untilL1Hit(a, 'k');
    await untilL1Hit(b, 'k'); // B's L1 was filled from L2, with the tags read from L2
    const started = performance.now();
    await b.invalidateTag('t');
    expect(await b.get('k')).toBeUndefined();
    await vi.waitFor(async () => expect(await a.get('k')).toBeUndefined(), { timeout: 1_000, interval: 1 });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('drops other nodes’ L1 entry on delete', async () => {
    const { node } = cluster();
    const [a, b] = [node(), node()];
    await a.set('k', 'v');
    await untilL1Hit(b, 'k');
    await a.delete('k');
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined(), { timeout: 1_000, interval: 1 });
  });

  it('clearNamespace drops the namespace from L2 and from other nodes’ L1', async () => {
    const { node } = cluster();
    const [a, b] = [node(), node()];
    await a.set('jobs:k', 'v');
    await a.set('parsers:k', 'v');
    await untilL1Hit(b, 'jobs:k');
    await untilL1Hit(b, 'parsers:k');
    await a.clearNamespace('jobs');
    await vi.waitFor(async () => expect(await b.get('jobs:k')).toBeUndefined());
    expect(await node().get('jobs:k')).toBeUndefined();
    expect(await b.get('parsers:k')).toBe('v');
  });

  it('carries the remaining TTL from L2 into another node’s L1', async () => {
    const { node } = cluster();
    const [a, b] = [node(), node()];
    await a.set('probe', 'p');
    await untilL1Hit(b, 'probe'); // B listens for invalidations, so it fills L1 from L2
    await a.set('k', 'v', { ttlMs: 300 });
    expect(await b.get('k')).toBe('v');
    const l1Hits = b.stats().l1Hits;
    expect(await b.get('k')).toBe('v');
    expect(b.stats().l1Hits).toBe(l1Hits + 1);
    // Without the TTL, B's L1 copy would outlive the L2 entry.
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined(), { timeout: 2_000, interval: 10 });
  });

  it('refuses to write back to L2 a load that another node’s invalidation overtook', async () => {
    const { node } = cluster();
    const [a, b] = [node(), node()];
    const stale = deferred<string>();
    const loading = b.wrap('k', { tags: ['t'] }, () => stale.promise);
    await vi.waitFor(() => expect(b.stats().misses).toBe(1));
    await a.invalidateTag('t');
    stale.resolve('stale');
    expect(await loading).toBe('stale');
    const fresh = node();
    expect(await fresh.get('k')).toBeUndefined();
    expect(await b.get('k')).toBeUndefined();
  });

  it('removes the L2 keys and the tag set on invalidation', async () => {
    const { prefix, node } = cluster();
    const a = node();
    await a.set('k1', 1, { tags: ['t'], ttlMs: 60_000 });
    await a.set('k2', 2, { tags: ['t'] });
    const admin = testRedisClient();
    await admin.connect();
    try {
      const keys = async (): Promise<string[]> => (await admin.keys(`${prefix}*`)).sort();
      // Every entry also carries its namespace's tag (`other` for a key without one).
      expect(await keys()).toEqual([`${prefix}cache:t:namespace:other`, `${prefix}cache:t:t`, `${prefix}cache:v:k1`, `${prefix}cache:v:k2`]);
      expect(await admin.ttl(`${prefix}cache:t:t`)).toBe(-1); // k2 never expires, so neither may its tag set
      await a.invalidateTag('t');
      // The epoch stays, and expires; the namespace's set may name deleted keys (invalidation checks each).
      expect(await keys()).toEqual([`${prefix}cache:e:t`, `${prefix}cache:t:namespace:other`]);
      expect(await admin.ttl(`${prefix}cache:e:t`)).toBeGreaterThan(0);
      await a.clearNamespace('other');
      expect(await keys()).toEqual([`${prefix}cache:e:namespace:other`, `${prefix}cache:e:t`]);
    } finally {
      admin.disconnect();
    }
  });

  it('keeps deployments with different prefixes apart', async () => {
    const [a, other] = [cluster().node(), cluster().node()];
    await a.set('k', 'mine');
    expect(await other.get('k')).toBeUndefined();
  });

  it('degrades to the loader when Redis is unreachable, but fails invalidation loudly', async () => {
    const warn = vi.fn();
    const down = track(createTieredCache({ redisUrl: 'redis://127.0.0.1:1', prefix: testPrefix(), logger: { warn, error: vi.fn() } }));
    expect(await down.get('k')).toBeUndefined();
    expect(await down.wrap('k', {}, async () => 'loaded')).toBe('loaded');
    // Once the first connection attempt failed, reads skip L2 instead of waiting for a reconnect.
    const started = performance.now();
    expect(await down.wrap('k', {}, async () => 'again')).toBe('again');
    await down.set('k', 'v');
    expect(performance.now() - started).toBeLessThan(100);
    await expect(down.invalidateTag('t')).rejects.toThrow();
    expect(warn).toHaveBeenCalled();
  });
});
