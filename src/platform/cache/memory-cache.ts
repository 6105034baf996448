import { LRUCache } from 'lru-cache';
import type { Cache, CacheMetrics, CacheSetOptions, CacheStats } from './cache.js';
import { createNamespaceCounters, namespaceTag, sizesByNamespace, withNamespaceTag } from './namespaces.js';
import { createSingleFlight } from './single-flight.js';

export interface MemoryCacheOptions {
  /** LRU bound; the least recently used entry is evicted beyond it. */
  maxEntries?: number;
  metrics?: CacheMetrics;
  /** Called for each entry dropped to stay within `maxEntries` (the tiered cache counts its L1's evictions across rebuilds). */
  onEvict?: (key: string) => void;
}

interface Entry {
  // lru-cache requires non-nullish values; undefined is never stored (set(undefined) deletes).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  readonly value: {};
  readonly tags: readonly string[];
}

const DEFAULT_MAX_ENTRIES = 10_000;

/** True when the options ask for an entry that is already expired (lru-cache reads ttl 0 as "no TTL"). */
export function isExpiredOnArrival(options: CacheSetOptions | undefined): boolean {
  return options?.ttlMs !== undefined && !(options.ttlMs > 0);
}

/** In-process LRU cache with per-entry TTL and tags: the whole cache in single-node mode, L1 in a cluster. */
export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const metrics = options.metrics;
  const counters: CacheStats = { hits: 0, misses: 0, l1Hits: 0, l2Hits: 0 };
  const flights = createSingleFlight();
  const keysByTag = new Map<string, Set<string>>();
  const namespaces = createNamespaceCounters();

  // dispose runs for every way an entry leaves (evict, expire, delete, overwrite), so the tag
  // index can never point at a key that is gone. No ttlAutopurge: it would keep one timer
  // per entry; expired entries are dropped (and unindexed) when read or evicted.
  const lru = new LRUCache<string, Entry>({
    max: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    dispose: (entry, key, reason) => {
      unindex(key, entry.tags);
      if (reason === 'evict') {
        namespaces.evicted(key);
        options.onEvict?.(key);
      }
    },
  });
  let closed = false;

  function unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) {
        keysByTag.delete(tag);
      }
    }
  }

  function assertOpen(): void {
    if (closed) {
      throw new Error('cache is closed');
    }
  }

  async function get<T>(key: string): Promise<T | undefined> {
    assertOpen();
    const entry = lru.get(key);
    if (entry === undefined) {
      counters.misses += 1;
      namespaces.miss(key);
      metrics?.miss(key);
      return undefined;
    }
    counters.hits += 1;
    counters.l1Hits += 1;
    namespaces.hit(key);
    metrics?.hit('l1', key);
    return entry.value as T;
  }

  async function set<T>(key: string, value: T, setOptions?: CacheSetOptions): Promise<void> {
    assertOpen();
    if (value === undefined || isExpiredOnArrival(setOptions)) {
      flights.forgetKey(key);
      lru.delete(key);
      return;
    }
    const tags = withNamespaceTag(key, setOptions?.tags);
    // Index after set: set disposes the previous entry, which unindexes the old tags.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    lru.set(key, { value: value as {}, tags }, { ttl: setOptions?.ttlMs });
    for (const tag of tags) {
      const keys = keysByTag.get(tag) ?? new Set<string>();
      keys.add(key);
      keysByTag.set(tag, keys);
    }
  }

  async function invalidateTag(tag: string): Promise<void> {
    assertOpen();
    flights.forgetTag(tag);
    for (const key of [...(keysByTag.get(tag) ?? [])]) {
      lru.delete(key);
    }
    keysByTag.delete(tag);
  }

  return {
    get,
    set,

    async delete(key) {
      assertOpen();
      flights.forgetKey(key);
      lru.delete(key);
    },

    invalidateTag,

    clearNamespace: (namespace) => invalidateTag(namespaceTag(namespace)),

    async wrap<T>(key: string, setOptions: CacheSetOptions, load: () => Promise<T>): Promise<T> {
      const cached = await get<T>(key);
      if (cached !== undefined) {
        return cached;
      }
      return flights.run(key, withNamespaceTag(key, setOptions.tags), async (isCurrent) => {
        const value = await load();
        // A delete or invalidation during the load makes its result possibly stale: return it
        // to the callers that were already waiting, but do not store it.
        if (isCurrent() && !closed) {
          await set(key, value, setOptions);
        }
        return value;
      });
    },

    stats: () => ({ ...counters }),

    namespaceStats: () => namespaces.snapshot(sizesByNamespace(lru.keys())),

    async close() {
      closed = true;
      flights.clear();
      lru.clear();
      keysByTag.clear();
    },
  };
}
