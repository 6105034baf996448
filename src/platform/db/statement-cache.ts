import type SQLite from 'better-sqlite3';

/** The part of a better-sqlite3 connection Kysely's SQLite driver uses. */
export interface SqliteDatabase {
  close(): void;
  prepare(sql: string): SQLite.Statement;
}

/**
 * Kysely prepares every statement anew; for short queries SQLite's parse and plan cost more
 * than the query. Statements are reused by SQL text (most recently used kept, up to `max`),
 * except one still being iterated, which SQLite cannot run twice at once. A schema change
 * re-prepares a cached statement by itself (sqlite3_prepare_v2).
 */
export function withStatementCache(sqlite: SQLite.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
  };
}
