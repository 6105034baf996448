import type { Cache, CacheLogger, CacheMetrics } from './cache.js';
import { createMemoryCache } from './memory-cache.js';
import { createTieredCache } from './tiered-cache.js';

export type { Cache, CacheLogger, CacheMetrics, CacheSetOptions, CacheStats, NamespaceStats } from './cache.js';
export { cacheNamespace, namespaceTag } from './namespaces.js';
export { createMemoryCache } from './memory-cache.js';
export { createTieredCache } from './tiered-cache.js';

export interface CacheOptions {
  /** Set in cluster mode; without it the cache is in-process only. */
  redisUrl?: string;
  prefix?: string;
  maxEntries?: number;
  metrics?: CacheMetrics;
  logger?: CacheLogger;
}

/** Builds the cache for the deployment mode: L1 + Redis L2 with cross-node invalidation when a Redis URL is configured, in-process LRU otherwise. */
export function createCache(options: CacheOptions = {}): Cache {
  if (options.redisUrl) {
    return createTieredCache({ ...options, redisUrl: options.redisUrl });
  }
  return createMemoryCache({ maxEntries: options.maxEntries, metrics: options.metrics });
}
export { createCachePrefetch, type CachePrefetch, type PrefetchSettings } from './prefetch.js';
