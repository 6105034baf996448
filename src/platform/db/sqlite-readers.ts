import SQLite from 'better-sqlite3';
import { SelectQueryNode, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import { createWorkerPool, type WorkerPool } from '../worker-pool.js';
import type { ReadJob, ReadReply } from './sqlite-reader-worker.js';

/**
 * SQLite reads off the event loop: a small pool of worker threads, each with its own read-only
 * connection to the same file (sqlite-reader-worker.ts). Under WAL readers never wait for the
 * writer nor it for them, and a read started after a commit sees it.
 */
export interface SqliteReaders {
  read(query: CompiledQuery): Promise<QueryResult<unknown>>;
  started(): number;
  close(): Promise<void>;
}

/** A read that has not answered in this long has its thread terminated (a runaway query). */
const READ_BUDGET_MS = 5 * 60_000;

export function createSqliteReaders(options: { file: string; size: number; busyTimeoutMs: number }): SqliteReaders {
  const pool: WorkerPool<ReadJob, unknown[]> = createWorkerPool<ReadJob, ReadReply, unknown[]>({
    module: { base: import.meta.url, name: 'sqlite-reader-worker' },
    workerData: { file: options.file, busyTimeoutMs: options.busyTimeoutMs },
    size: options.size,
    budgetMs: READ_BUDGET_MS,
    onTimeout: () => new SQLite.SqliteError(`read ran longer than ${READ_BUDGET_MS} ms and was interrupted`, 'SQLITE_INTERRUPT'),
    decode(reply) {
      // The same error class and code as the writer's connection throws, so errors map alike.
      if (!reply.ok) return new SQLite.SqliteError(reply.error.message, reply.error.code ?? 'SQLITE_ERROR');
      if (reply.blobs) for (const row of reply.rows as Record<string, unknown>[]) toBuffers(row);
      return reply.rows;
    },
    errors: {
      failed: (cause) => new Error('SQLite reader thread failed', cause ? { cause } : {}),
      unavailable: () => new Error('SQLite reader thread could not start'),
      closed: () => new Error('database is closed'),
    },
  });
  return {
    read: async (query) => ({ rows: await pool.run({ sql: query.sql, parameters: query.parameters }) }),
    started: () => pool.started(),
    close: () => pool.close(),
  };
}

/** Structured clone turns a Buffer into a plain Uint8Array; the writer's connection returns Buffers. */
function toBuffers(row: Record<string, unknown>): void {
  for (const key in row) {
    const value = row[key];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
}

/**
 * The connection Kysely gets: a SELECT outside a transaction goes to a reader; anything else
 * takes the writer's one connection (its mutex) for as long as it needs it — one statement, or
 * from BEGIN to COMMIT. Raw `sql` statements are not classified and take the writer.
 */
class RoutedConnection implements DatabaseConnection {
  writer: DatabaseConnection | undefined;
  constructor(readonly driver: ReadRoutingDriver) {}
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.writer) return this.writer.executeQuery<R>(query);
    if (SelectQueryNode.is(query.query)) return (await this.driver.readers.read(query)) as QueryResult<R>;
    const writer = await this.driver.inner.acquireConnection();
    try {
      return await writer.executeQuery<R>(query);
    } finally {
      await this.driver.inner.releaseConnection(writer);
    }
  }
  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    if (this.writer) return yield* this.writer.streamQuery<R>(query, chunkSize);
    const writer = await this.driver.inner.acquireConnection();
    try {
      yield* writer.streamQuery<R>(query, chunkSize);
    } finally {
      await this.driver.inner.releaseConnection(writer);
    }
  }
}

/** Wraps Kysely's SQLite driver (the writer) and routes reads to `readers`. */
export class ReadRoutingDriver implements Driver {
  constructor(
    readonly inner: Driver,
    readonly readers: SqliteReaders,
  ) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new RoutedConnection(this));
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const routed = connection as RoutedConnection;
    routed.writer = await this.inner.acquireConnection();
    try {
      await this.inner.beginTransaction(routed.writer, settings);
    } catch (err) {
      await this.#releaseWriter(routed);
      throw err;
    }
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(writerOf(connection));
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(writerOf(connection));
  }
  async savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.savepoint?.(writerOf(connection), name, compile);
  }
  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2]): Promise<void> {
    await this.inner.rollbackToSavepoint?.(writerOf(connection), name, compile);
  }
  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2]): Promise<void> {
    await this.inner.releaseSavepoint?.(writerOf(connection), name, compile);
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#releaseWriter(connection as RoutedConnection);
  }
  async destroy(): Promise<void> {
    // Readers first: the writer, closing last, checkpoints the WAL and removes it.
    await this.readers.close();
    await this.inner.destroy();
  }
  async #releaseWriter(routed: RoutedConnection): Promise<void> {
    const writer = routed.writer;
    routed.writer = undefined;
    if (writer) await this.inner.releaseConnection(writer);
  }
}

function writerOf(connection: DatabaseConnection): DatabaseConnection {
  const writer = (connection as RoutedConnection).writer;
  if (!writer) throw new Error('no transaction on this connection');
  return writer;
}
