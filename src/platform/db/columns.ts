import { sql, type ColumnDataType, type Expression, type Kysely, type RawBuilder } from 'kysely';

/**
 * The few places the two dialects differ, in one file. Migrations use `columnTypes(db)`;
 * repositories use `json`, `bool` to read and write values the same way on both.
 * Kept deliberately small and stable: migrations depend on it.
 */
export function columnTypes(db: Kysely<any>) {
  const pgsql = db.getExecutor().adapter.constructor.name.startsWith('Postgres');
  return {
    /** UUID ids (text on SQLite). */
    id: (pgsql ? 'uuid' : 'text') as ColumnDataType,
    /** ISO 8601 UTC timestamps (timestamptz on PostgreSQL, ISO text on SQLite). */
    timestamp: (pgsql ? 'timestamptz' : 'text') as ColumnDataType,
    json: (pgsql ? 'jsonb' : 'text') as ColumnDataType,
    bool: 'boolean' as ColumnDataType,
    bigint: (pgsql ? 'bigint' : 'integer') as ColumnDataType,
    /** Auto-increment integer primary key. */
    serial: (pgsql ? 'bigserial' : 'integer') as ColumnDataType,
    blob: (pgsql ? 'bytea' : 'blob') as ColumnDataType,
    pgsql,
  };
}

export const json = {
  /** Values go in as JSON text; jsonb and TEXT both accept it. */
  write(value: unknown): string {
    return JSON.stringify(value ?? null);
  },
  read<T>(value: unknown): T {
    return (typeof value === 'string' ? JSON.parse(value) : value) as T;
  },
};

export const bool = {
  // NOTE: better-sqlite3 cannot bind JS booleans; 1/0 is accepted by both dialects.
  write(value: boolean): number {
    return value ? 1 : 0;
  },
  read(value: unknown): boolean {
    return value === true || value === 1 || value === '1' || value === 't';
  },
};

/** Case-insensitive LIKE on both dialects (SQLite's LIKE is case-insensitive for ASCII). */
export function ilike(dialect: 'sqlite' | 'postgres', column: Expression<unknown>, pattern: string): RawBuilder<boolean> {
  return dialect === 'postgres' ? sql<boolean>`${column} ilike ${pattern} escape '\\'` : sql<boolean>`${column} like ${pattern} escape '\\'`;
}

/** Escapes LIKE wildcards in user text. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
