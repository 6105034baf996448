import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, sql, SqliteDialect, type Compilable, type LogEvent, type OperationNodeSource, type SqliteDatabase } from 'kysely';

/**
 * The application's database handle. Modules describe their own tables and narrow it with
 * `db.withTables<ModuleTables>()`, so the platform knows no domain table.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Db = Kysely<{}>;
export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Db;
  dialect: Dialect;
  /** Round trip to the database; resolves with the latency in milliseconds. */
  ping(): Promise<number>;
  destroy(): Promise<void>;
}

export interface DatabaseOptions {
  dialect: Dialect;
  /** SQLite file path (':memory:' allowed) */
  sqlitePath?: string;
  /** PostgreSQL connection string */
  url?: string;
  poolSize?: number;
  /** Called for every query with its duration (metrics). */
  onQuery?: (durationMs: number, ok: boolean) => void;
}

// NOTE: timestamps are served as ISO strings on both dialects; without these parsers pg
// returns Date objects for timestamptz and bigint columns as strings.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => new Date(v).toISOString());
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (v) => new Date(`${v}Z`).toISOString());
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

// NOTE: keys inside JSON values are data (custom-field names, filter keys like `name__ic`), not
// columns: without maintainNestedObjectKeys, PostgreSQL's decoded jsonb had them camelCased
// while SQLite's JSON text kept them, so the dialects disagreed.
const camelCase = () => new CamelCasePlugin({ maintainNestedObjectKeys: true });

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

/** Opens SQLite (WAL, foreign keys, busy timeout) or a PostgreSQL pool behind one Kysely. */
export function createDatabase(options: DatabaseOptions): Database {
  const log = options.onQuery
    ? (event: LogEvent) => options.onQuery?.(event.queryDurationMillis, event.level === 'query')
    : undefined;
  if (options.dialect === 'sqlite') {
    const file = options.sqlitePath ?? ':memory:';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    const db: Db = new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), plugins: [camelCase()], ...(log ? { log } : {}) });
    return {
      db,
      dialect: 'sqlite',
      ping: async () => {
        const t = performance.now();
        sqlite.prepare('select 1').get();
        return performance.now() - t;
      },
      destroy: () => db.destroy(),
    };
  }
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [camelCase()], ...(log ? { log } : {}) });
  return {
    db,
    dialect: 'postgres',
    ping: async () => {
      const t = performance.now();
      await pool.query('select 1');
      return performance.now() - t;
    },
    destroy: () => db.destroy(),
  };
}

export function dialectOf(db: Kysely<never> | Db): Dialect {
  return db.getExecutor().adapter.constructor.name.startsWith('Postgres') ? 'postgres' : 'sqlite';
}

/** An un-executed write (an insert builder) that `writeAtomically` can run alone or combine. */
export type Write = OperationNodeSource & Compilable & { execute(): Promise<unknown> };

/** PostgreSQL binds at most 65535 parameters per statement. */
const PG_MAX_PARAMETERS = 65_535;

/** An un-executed read whose rows `writeAtomically` returns. */
export type Read<R> = OperationNodeSource & Compilable<R> & { execute(): Promise<R[]> };

/**
 * Runs several writes all-or-nothing with the fewest round trips, and optionally one read that
 * sees the state *before* the writes. PostgreSQL: one statement, `WITH w0 AS (insert …),
 * w1 AS (insert …) <read>` — a statement is atomic, foreign keys are checked at its end, every
 * part sees the snapshot taken when it starts, and it needs no BEGIN and COMMIT round trips.
 * SQLite (in-process, where round trips cost nothing), and a PostgreSQL batch over the
 * parameter limit: one transaction, the read first. `build` and `read` are called with the
 * handle to build on (the transaction's, on that path).
 */
export async function writeAtomically<R = never>(db: Db, build: (db: Db) => readonly Write[], read?: (db: Db) => Read<R>): Promise<R[]> {
  if (dialectOf(db) === 'postgres') {
    const writes = build(db);
    if (writes.length === 0) return read ? read(db).execute() : [];
    const statement = sql<R>`with ${sql.join(writes.map((w, i) => sql`${sql.raw(`w${i}`)} as (${w})`))} ${read ? read(db) : sql`select 1`}`.compile(db);
    if (statement.parameters.length <= PG_MAX_PARAMETERS) return read ? (await db.executeQuery(statement)).rows : (await db.executeQuery(statement), []);
  }
  return db.transaction().execute(async (trx) => {
    const rows = read ? await read(trx).execute() : [];
    for (const w of build(trx)) await w.execute();
    return rows;
  });
}
