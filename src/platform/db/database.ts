import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  CamelCasePlugin,
  CompiledQuery,
  Kysely,
  PostgresDialect,
  sql,
  type Compilable,
  type LogEvent,
  type OperationNodeSource,
  type RawBuilder,
} from 'kysely';
import { GuardedSqliteDialect, guardedSqliteKysely } from './sqlite-guard.js';
import { createSqliteReaders } from './sqlite-readers.js';
import { withStatementCache } from './statement-cache.js';
import { ensurePrivateDir, ensurePrivateFile } from '../private-files.js';

/**
 * The application's database handle. Modules describe their own tables and narrow it with
 * `db.withTables<ModuleTables>()`, so the platform knows no domain table.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Db = Kysely<{}>;
export type Dialect = 'sqlite' | 'postgres';
export { withStatementCache };

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
  /**
   * SQLite: threads, each with a read-only connection, that run reads outside transactions off
   * the event loop (sqlite-readers.ts). 0, or a ':memory:' database, reads on the one connection.
   */
  sqliteReaders?: number;
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
const CAMEL_CASE = { maintainNestedObjectKeys: true } as const;
const camelCase = () => new CamelCasePlugin(CAMEL_CASE);

const BUSY_TIMEOUT_MS = 5000;

/** Opens SQLite (WAL, foreign keys, busy timeout) or a PostgreSQL pool behind one Kysely. */
export function createDatabase(options: DatabaseOptions): Database {
  const log = options.onQuery ? (event: LogEvent) => options.onQuery?.(event.queryDurationMillis, event.level === 'query') : undefined;
  if (options.dialect === 'sqlite') {
    const file = options.sqlitePath ?? ':memory:';
    if (file !== ':memory:') {
      ensurePrivateDir(path.dirname(file));
      ensurePrivateFile(file);
    }
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('synchronous = NORMAL');
    const readerCount = file === ':memory:' ? 0 : (options.sqliteReaders ?? 0);
    const readers = readerCount > 0 ? createSqliteReaders({ file, size: readerCount, busyTimeoutMs: BUSY_TIMEOUT_MS }) : undefined;
    const dialect = new GuardedSqliteDialect({ database: withStatementCache(sqlite) }, readers);
    const db: Db = guardedSqliteKysely(dialect, { plugins: [camelCase()], ...(log ? { log } : {}) });
    return {
      db,
      dialect: 'sqlite',
      // Through Kysely, so the ping waits its turn for the one connection like any request: a
      // connection held by a stuck transaction makes readiness fail (see withDeadline).
      ping: async () => {
        const t = performance.now();
        await sql`select 1`.execute(db);
        return performance.now() - t;
      },
      destroy: () => db.destroy(),
    };
  }
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  // NOTE: a client losing its connection (PostgreSQL restarted, pg_terminate_backend) emits
  // 'error'; with no listener that kills the process. The pool listens only while a client is
  // idle, so every client gets its own listener for the time it is checked out (a transaction,
  // a query): the failure reaches the caller as the rejected query, and the pool drops the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }), plugins: [camelCase()], ...(log ? { log } : {}) });
  preparedPools.set(db.getExecutor(), { pool, onQuery: options.onQuery });
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

/**
 * Rows to insert into one table, for `writeAtomically`: keys and table name as repositories
 * write them (camelCase), values in their written form (`json.write`, `bool.write`). Rows may
 * leave out keys: a column no row names takes its default, one some rows leave out is NULL there.
 */
export interface Write {
  readonly table: string;
  readonly rows: readonly Record<string, unknown>[];
}

/** An un-executed read whose rows `writeAtomically` returns. */
export type Read<R> = OperationNodeSource & Compilable<R> & { execute(): Promise<R[]> };

/** The CamelCasePlugin's own key mapping, so table and column names match every other query. */
class SnakeCase extends CamelCasePlugin {
  /** Names are few (tables and columns) and mapping one walks it character by character: kept. */
  readonly #names = new Map<string, string>();
  name(camel: string): string {
    let name = this.#names.get(camel);
    if (name === undefined) this.#names.set(camel, (name = this.snakeCase(camel)));
    return name;
  }
}
const snakeCase = new SnakeCase(CAMEL_CASE);

/** Every key some row names, in first-seen order: the columns of a multi-row insert. */
function columnKeys(rows: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const row of rows) for (const key in row) keys.add(key);
  return [...keys];
}

/** Per database (its adapter) and table: each column's type, as `json_to_recordset` declares it. */
const columnTypesCache = new WeakMap<object, Map<string, Promise<Map<string, string>>>>();

function pgColumnTypes(db: Db, table: string): Promise<Map<string, string>> {
  // The adapter is one per database and shared by its transactions' handles (the executor is not).
  const key = db.getExecutor().adapter;
  let tables = columnTypesCache.get(key);
  if (!tables) columnTypesCache.set(key, (tables = new Map()));
  let types = tables.get(table);
  if (!types) {
    types = sql<{
      name: string;
      type: string;
    }>`select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = to_regclass(${table}) and attnum > 0 and not attisdropped`
      .execute(db)
      .then(({ rows }) => {
        if (rows.length === 0) throw new Error(`writeAtomically: no table ${table}`);
        return new Map(rows.map((r) => [r.name, r.type]));
      });
    types.catch(() => tables!.delete(table));
    tables.set(table, types);
  }
  return types;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * One table's insert for PostgreSQL: all rows as one JSON parameter, expanded by
 * `json_to_recordset`. The statement's text depends only on the columns, so its cost does not
 * grow with the rows (a multi-row VALUES list has a parameter per cell to bind and plan).
 * JSON columns arrive as text (their written form) and are cast.
 */
async function pgInsert(db: Db, write: Write): Promise<RawBuilder<unknown>> {
  const table = snakeCase.name(write.table);
  const types = await pgColumnTypes(db, table);
  const columns = columnKeys(write.rows).map((key) => {
    const column = snakeCase.name(key);
    const type = types.get(column);
    if (type === undefined) throw new Error(`writeAtomically: ${table} has no column ${column}`);
    if (type === 'bytea') throw new Error(`writeAtomically: binary columns are not supported (${table}.${column})`);
    return { key, column, type, json: type === 'json' || type === 'jsonb' };
  });
  const record = columns.map((c) => `${ident(c.key)} ${c.json ? 'text' : c.type}`).join(', ');
  const select = columns.map((c) => (c.json ? `${ident(c.key)}::${c.type}` : ident(c.key))).join(', ');
  const rows = JSON.stringify(write.rows);
  return sql`insert into ${sql.raw(ident(table))} (${sql.raw(columns.map((c) => ident(c.column)).join(', '))}) select ${sql.raw(select)} from json_to_recordset(${rows}::json) as x(${sql.raw(record)})`;
}

/**
 * Per PostgreSQL database (executor): its pool, to run `writeAtomically`'s statement as a named
 * prepared statement. Its text depends only on the tables, columns and read, so each connection
 * parses and plans it once instead of per call (about 1.5 ms for the statement that stores runs).
 * Handles of a transaction have another executor, and take the unnamed path.
 */
const preparedPools = new WeakMap<object, { pool: pg.Pool; onQuery: DatabaseOptions['onQuery'] }>();
const statementNames = new Map<string, string>();
/** Bounds the texts named (and prepared on every connection); past it, statements run unnamed. */
const MAX_NAMED_STATEMENTS = 200;

async function runPrepared<R>(db: Db, statement: CompiledQuery<R>): Promise<R[]> {
  const prepared = preparedPools.get(db.getExecutor());
  if (!prepared) return (await db.executeQuery(statement)).rows;
  let name = statementNames.get(statement.sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `opsdeck_write_${statementNames.size + 1}`;
    statementNames.set(statement.sql, name);
  }
  if (name === undefined) return (await db.executeQuery(statement)).rows;
  const started = performance.now();
  try {
    const result = await prepared.pool.query({ name, text: statement.sql, values: [...statement.parameters] });
    prepared.onQuery?.(performance.now() - started, true);
    // The rows as Kysely returns them: keys camelCased by the same plugin.
    return (await snakeCase.transformResult({ result: { rows: result.rows as Record<string, unknown>[] }, queryId: statement.queryId })).rows as R[];
  } catch (err) {
    prepared.onQuery?.(performance.now() - started, false);
    throw err;
  }
}

/** SQLite binds at most 32766 parameters per statement. */
const SQLITE_MAX_PARAMETERS = 32_766;

/**
 * Runs several inserts all-or-nothing with the fewest round trips, and optionally one read that
 * sees the state *before* the writes. PostgreSQL: one statement, `WITH w0 AS (insert …),
 * w1 AS (insert …) <read>`, each insert with its rows as one JSON parameter — a statement is
 * atomic, foreign keys are checked at its end, every part sees the snapshot taken when it
 * starts, and it needs no BEGIN and COMMIT round trips. SQLite (in-process, where round trips
 * cost nothing): one transaction, the read first, inserts chunked under the parameter limit.
 * `read` is called with the handle to build on (the transaction's, on SQLite). Given a
 * transaction's handle, the writes join that transaction.
 */
export async function writeAtomically<R = never>(db: Db, writes: readonly Write[], read?: (db: Db) => Read<R>): Promise<R[]> {
  const nonEmpty = writes.filter((w) => w.rows.length > 0);
  if (dialectOf(db) === 'postgres') {
    if (nonEmpty.length === 0) return read ? read(db).execute() : [];
    const inserts = await Promise.all(nonEmpty.map((w) => pgInsert(db, w)));
    const statement = sql<R>`with ${sql.join(inserts.map((insert, i) => sql`${sql.raw(`w${i}`)} as (${insert})`))} ${read ? read(db) : sql`select 1`}`.compile(
      db,
    );
    const rows = await runPrepared(db, statement);
    return read ? rows : [];
  }
  // Inside a caller's transaction (a unit of work) its handle is used as it is.
  const inTransaction = async <T>(work: (trx: Db) => Promise<T>): Promise<T> => (db.isTransaction ? work(db) : db.transaction().execute(work));
  return inTransaction(async (trx) => {
    const rows = read ? await read(trx).execute() : [];
    for (const w of nonEmpty) {
      // The SQL is written here rather than built with Kysely: building and compiling a
      // multi-row insert cost more than SQLite running it (the text is prepared once, see
      // withStatementCache).
      const keys = columnKeys(w.rows);
      const head = `insert into ${ident(snakeCase.name(w.table))} (${keys.map((k) => ident(snakeCase.name(k))).join(', ')}) values `;
      const tuple = `(${keys.map(() => '?').join(', ')})`;
      const chunk = Math.max(1, Math.floor(SQLITE_MAX_PARAMETERS / Math.max(1, keys.length)));
      for (let i = 0; i < w.rows.length; i += chunk) {
        const part = w.rows.slice(i, i + chunk);
        const parameters = new Array<unknown>(part.length * keys.length);
        let p = 0;
        for (const row of part) for (const key of keys) parameters[p++] = row[key] ?? null;
        await trx.executeQuery(CompiledQuery.raw(head + Array<string>(part.length).fill(tuple).join(', '), parameters));
      }
    }
    return rows;
  });
}
