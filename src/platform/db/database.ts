import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';

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
    const db: Db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }), plugins: [camelCase()], ...(log ? { log } : {}) });
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
