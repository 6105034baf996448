export interface CacheSetOptions {
  /** Time to live; without it the entry lives until evicted, deleted or invalidated. */
  ttlMs?: number;
  tags?: string[];
}

export interface CacheStats {
  hits: number;
  misses: number;
  l1Hits: number;
  l2Hits: number;
}

/** One namespace (a key's text up to its first colon) as this node sees it. */
export interface NamespaceStats {
  namespace: string;
  hits: number;
  misses: number;
  /** Entries held in this node's memory tier now. */
  size: number;
  /** Entries this node's memory tier dropped to stay within its bound. */
  evictions: number;
}

/**
 * Two-level cache with tag invalidation. Values must be JSON-serialisable (the Redis tier
 * stores JSON) and must be treated as immutable: the in-memory tier hands out the stored
 * object itself. `undefined` means "absent" and is never stored.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, options?: CacheSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every entry set with this tag, on every node. */
  invalidateTag(tag: string): Promise<void>;
  /** get, or load + set on miss; concurrent misses for one key share one load (single flight). */
  wrap<T>(key: string, options: CacheSetOptions, load: () => Promise<T>): Promise<T>;
  /** Drops every entry of the namespace (keys `<namespace>:…`), on every node, like a tag. */
  clearNamespace(namespace: string): Promise<void>;
  stats(): CacheStats;
  namespaceStats(): NamespaceStats[];
  close(): Promise<void>;
}

/** Hook for the observability code to count hits and misses (kept free of prom-client). */
export interface CacheMetrics {
  hit(level: 'l1' | 'l2', key: string): void;
  miss(key: string): void;
}

/** The slice of a pino logger the cache uses; a pino `Logger` satisfies it. */
export interface CacheLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Used when no logger is injected, so a degraded Redis tier is never silent. */
export const consoleCacheLogger: CacheLogger = {
  // eslint-disable-next-line no-console
  warn: (obj, msg) => console.warn(msg, obj),
  // eslint-disable-next-line no-console
  error: (obj, msg) => console.error(msg, obj),
};
