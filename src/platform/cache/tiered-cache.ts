import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { closeRedis, watchErrors } from '../bus/redis-connection.js';
import { consoleCacheLogger, type Cache, type CacheLogger, type CacheMetrics, type CacheSetOptions, type CacheStats } from './cache.js';
import { createMemoryCache, isExpiredOnArrival } from './memory-cache.js';
import { createNamespaceCounters, namespaceTag, withNamespaceTag } from './namespaces.js';
import { createRedisStore, encodeEntry } from './redis-store.js';
import { createSingleFlight } from './single-flight.js';

export interface TieredCacheOptions {
  redisUrl: string;
  /** Prepended to every Redis key and channel, so deployments (and test files) sharing a Redis stay apart. */
  prefix?: string;
  /** Bound of the in-process L1. */
  maxEntries?: number;
  metrics?: CacheMetrics;
  logger?: CacheLogger;
}

/** Sent on the invalidation channel; `origin` lets a node skip its own messages. */
interface Invalidation {
  origin: string;
  tag?: string;
  key?: string;
}

/**
 * Two-level cache for cluster mode: in-process LRU (L1) over Redis (L2).
 *
 * Why a broadcast plus guards rather than tag epochs alone: epochs checked on every read
 * would cost an L1 hit a Redis round trip, which is what L1 exists to avoid. So nodes drop
 * L1 entries when an invalidation message arrives, and three guards close the races that a
 * bare broadcast leaves open:
 * - the invalidating node drops its own L1 and in-flight loads before `invalidateTag`
 *   resolves, so it cannot read stale data afterwards;
 * - an L2 read that overlaps any invalidation does not fill L1 (`generation`), so a reply
 *   that raced the message cannot resurrect the entry;
 * - a `wrap` load writes L2 only if the tag epochs it read before loading are unchanged
 *   (checked atomically in Redis), so a slow load on one node cannot put pre-invalidation
 *   data back into L2 for everybody.
 * Pub/sub is at-most-once, so L1 is only used while the subscription is up and is emptied
 * whenever the subscriber connection drops: a missed message cannot leave a stale L1.
 * NOTE: `delete(key)` has no epoch, so a load of that key in flight on another node may
 * write its result back to L2; use tags for data that must not outlive a change.
 */
export function createTieredCache(options: TieredCacheOptions): Cache {
  const prefix = options.prefix ?? 'opsdeck:';
  const logger = options.logger ?? consoleCacheLogger;
  const metrics = options.metrics;
  const nodeId = randomUUID();
  const counters: CacheStats = { hits: 0, misses: 0, l1Hits: 0, l2Hits: 0 };
  const namespaces = createNamespaceCounters();
  const newL1 = (): Cache => createMemoryCache({ maxEntries: options.maxEntries, onEvict: namespaces.evicted });
  const flights = createSingleFlight();

  // One retry: a cache read should fall through to the loader, not wait out a Redis outage.
  const client = new Redis(options.redisUrl, { connectionName: 'opsdeck-cache', maxRetriesPerRequest: 1 });
  // Subscribed by hand on every 'ready' (not autoResubscribe) to know when L1 is safe again.
  const subscriber = new Redis(options.redisUrl, { connectionName: 'opsdeck-cache-sub', autoResubscribe: false });
  watchErrors(client, logger, 'cache');
  watchErrors(subscriber, logger, 'cache subscriber');
  const store = createRedisStore(client, prefix);

  let l1 = newL1();
  /** Whether invalidation messages are reaching us; L1 is neither read nor filled otherwise. */
  let listening = false;
  /** Bumped by every invalidation seen here; an L2 read that spans a bump does not fill L1. */
  let generation = 0;
  let closed = false;

  // NOTE: the memory cache's invalidateTag/delete finish synchronously (no await inside), so
  // L1 is already clean when this returns even though their promises are not awaited.
  function dropLocal(invalidation: { tag?: string; key?: string }): void {
    generation += 1;
    if (closed) {
      return;
    }
    if (invalidation.tag !== undefined) {
      flights.forgetTag(invalidation.tag);
      void l1.invalidateTag(invalidation.tag);
    }
    if (invalidation.key !== undefined) {
      flights.forgetKey(invalidation.key);
      void l1.delete(invalidation.key);
    }
  }

  subscriber.on('ready', () => {
    subscriber.subscribe(store.invalidationChannel).then(
      () => {
        listening = !closed;
      },
      (err: unknown) => logger.warn({ err }, 'cache could not subscribe to invalidations; L1 stays off'),
    );
  });
  subscriber.on('close', () => {
    // Messages sent while we are away are lost for good, so nothing in L1 can be trusted.
    if (listening) {
      listening = false;
      generation += 1;
      flights.clear();
      void l1.close();
      l1 = newL1();
    }
  });
  subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== store.invalidationChannel) {
      return;
    }
    try {
      const message = JSON.parse(raw) as Invalidation;
      if (message.origin !== nodeId) {
        dropLocal(message);
      }
    } catch (err) {
      logger.warn({ err }, 'cache dropped a malformed invalidation message');
    }
  });

  async function broadcast(invalidation: { tag?: string; key?: string }): Promise<void> {
    const message: Invalidation = { origin: nodeId, ...invalidation };
    await client.publish(store.invalidationChannel, JSON.stringify(message));
  }

  /**
   * While ioredis is between reconnect attempts a command waits for the next attempt (up to
   * seconds); reads and writes skip L2 instead, so an outage costs loads, not latency.
   * Invalidations still wait and then fail, because their caller must know.
   */
  function l2Reachable(): boolean {
    const status = client.status;
    return status === 'ready' || status === 'connect' || status === 'connecting' || status === 'wait';
  }

  function assertOpen(): void {
    if (closed) {
      throw new Error('cache is closed');
    }
  }

  function count(level: 'l1' | 'l2' | 'miss', key: string): void {
    if (level === 'miss') {
      counters.misses += 1;
      namespaces.miss(key);
      metrics?.miss(key);
      return;
    }
    counters.hits += 1;
    namespaces.hit(key);
    counters[level === 'l1' ? 'l1Hits' : 'l2Hits'] += 1;
    metrics?.hit(level, key);
  }

  /** L1, then L2 (filling L1); `epochs` is null when L2 could not be read, so nothing may be written. */
  async function lookup(key: string, guardTags: readonly string[], skipL1 = false): Promise<{ value: unknown; epochs: string[] | null }> {
    assertOpen();
    if (listening && !skipL1) {
      const value = await l1.get(key);
      if (value !== undefined) {
        count('l1', key);
        return { value, epochs: [] };
      }
    }
    if (!l2Reachable()) {
      count('miss', key);
      return { value: undefined, epochs: null };
    }
    const startedAt = generation;
    try {
      const { entry, epochs } = await store.read(key, guardTags);
      if (entry === undefined) {
        count('miss', key);
        return { value: undefined, epochs };
      }
      count('l2', key);
      if (listening && generation === startedAt) {
        await l1.set(key, entry.value, { ttlMs: entry.ttlMs, tags: entry.tags });
      }
      return { value: entry.value, epochs };
    } catch (err) {
      logger.warn({ err, key }, 'cache L2 read failed; treating as a miss');
      count('miss', key);
      return { value: undefined, epochs: null };
    }
  }

  /** Writes L2 then L1; a failed or refused L2 write leaves L1 alone, so L1 never holds what other nodes cannot see. */
  async function writeThrough(key: string, value: unknown, setOptions: CacheSetOptions, tags: string[], expectedEpochs?: string[]): Promise<void> {
    const ttlMs = setOptions.ttlMs === undefined ? undefined : Math.ceil(setOptions.ttlMs);
    // Outside the try: a value that is not JSON is the caller's bug, not a Redis outage.
    const payload = encodeEntry(value, tags);
    if (!l2Reachable()) {
      return;
    }
    const startedAt = generation;
    let stored: boolean;
    try {
      stored = await store.write(key, payload, ttlMs, tags, expectedEpochs);
    } catch (err) {
      logger.warn({ err, key }, 'cache L2 write failed; value not cached');
      return;
    }
    if (stored && listening && generation === startedAt) {
      await l1.set(key, value, { ttlMs, tags });
    }
  }

  async function remove(key: string): Promise<void> {
    assertOpen();
    try {
      await store.delete(key);
    } finally {
      dropLocal({ key });
    }
    await broadcast({ key });
  }

  async function invalidateTag(tag: string): Promise<void> {
    assertOpen();
    try {
      await store.invalidateTag(tag);
    } finally {
      // After the L2 delete, so a read on this node racing the script cannot refill L1 behind us.
      dropLocal({ tag });
    }
    await broadcast({ tag });
  }

  return {
    async get<T>(key: string): Promise<T | undefined> {
      return (await lookup(key, [])).value as T | undefined;
    },

    async set<T>(key: string, value: T, setOptions: CacheSetOptions = {}): Promise<void> {
      assertOpen();
      if (value === undefined || isExpiredOnArrival(setOptions)) {
        return remove(key);
      }
      await writeThrough(key, value, setOptions, withNamespaceTag(key, setOptions.tags));
    },

    delete: remove,

    invalidateTag,

    clearNamespace: (namespace) => invalidateTag(namespaceTag(namespace)),

    async wrap<T>(key: string, setOptions: CacheSetOptions, load: () => Promise<T>): Promise<T> {
      const tags = withNamespaceTag(key, setOptions.tags);
      assertOpen();
      if (listening) {
        const value = await l1.get(key);
        if (value !== undefined) {
          count('l1', key);
          return value as T;
        }
      }
      // NOTE: the L2 read happens inside the flight: concurrent misses whose L2 reads finished at
      // different times each started a load before (one failing fast let the next one load).
      return flights.run(key, tags, async (isCurrent) => {
        const { value, epochs } = await lookup(key, tags, true);
        if (value !== undefined) return value as T;
        const loaded = await load();
        // Stale if this node saw a delete/invalidation meanwhile; the epoch guard covers other nodes.
        if (loaded !== undefined && epochs !== null && isCurrent() && !closed && !isExpiredOnArrival(setOptions)) {
          await writeThrough(key, loaded, setOptions, tags, epochs);
        }
        return loaded;
      });
    },

    stats: () => ({ ...counters }),

    // L1 is what this node holds; L2 is shared and not counted per namespace.
    namespaceStats: () => namespaces.snapshot(new Map(listening ? l1.namespaceStats().map((r) => [r.namespace, r.size]) : [])),

    async close() {
      if (closed) {
        return;
      }
      closed = true;
      listening = false;
      flights.clear();
      await l1.close();
      await Promise.all([closeRedis(client), closeRedis(subscriber)]);
    },
  };
}
