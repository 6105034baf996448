import type { NamespaceStats } from './cache.js';

const NAMESPACE = /^[a-z][a-z0-9_-]{0,31}$/;

/** A cache key's namespace: its text up to the first colon, or `other` (label cardinality stays bounded by the code's key names). */
export function cacheNamespace(key: string): string {
  const ns = key.slice(0, Math.max(0, key.indexOf(':')));
  return NAMESPACE.test(ns) ? ns : 'other';
}

/** The tag every entry carries for its namespace, so a namespace is cleared (on every node) the way a tag is. */
export function namespaceTag(namespace: string): string {
  return `namespace:${namespace}`;
}

/** `tags` plus the key's namespace tag, without duplicates. */
export function withNamespaceTag(key: string, tags: readonly string[] | undefined): string[] {
  return [...new Set([...(tags ?? []), namespaceTag(cacheNamespace(key))])];
}

/** Hits, misses and evictions per namespace since this node started (bounded: namespaces come from the code's key names). */
export function createNamespaceCounters() {
  const rows = new Map<string, { hits: number; misses: number; evictions: number }>();
  const row = (key: string) => {
    const ns = cacheNamespace(key);
    let r = rows.get(ns);
    if (r === undefined) {
      r = { hits: 0, misses: 0, evictions: 0 };
      rows.set(ns, r);
    }
    return r;
  };
  return {
    hit: (key: string) => void (row(key).hits += 1),
    miss: (key: string) => void (row(key).misses += 1),
    evicted: (key: string) => void (row(key).evictions += 1),
    /** One row per namespace seen or holding entries, by name; `sizes` are the entries held now. */
    snapshot(sizes: ReadonlyMap<string, number>): NamespaceStats[] {
      const names = new Set([...rows.keys(), ...sizes.keys()]);
      return [...names].sort().map((namespace) => ({ namespace, hits: 0, misses: 0, evictions: 0, ...rows.get(namespace), size: sizes.get(namespace) ?? 0 }));
    },
  };
}

/** Entries held per namespace, counted over the keys (an administrative read, not a hot path). */
export function sizesByNamespace(keys: Iterable<string>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const key of keys) {
    const ns = cacheNamespace(key);
    sizes.set(ns, (sizes.get(ns) ?? 0) + 1);
  }
  return sizes;
}
