import { AsyncLocalStorage } from 'node:async_hooks';
import { SqliteDialect, type DatabaseConnection, type Driver, type SqliteDialectConfig, type TransactionSettings } from 'kysely';
import { ReadRoutingDriver, type SqliteReaders } from './sqlite-readers.js';

/**
 * SQLite has one connection, which a transaction holds until it ends. A query issued on the
 * root handle from inside that transaction's own async flow (a repository built on `deps.db`
 * instead of the transaction's handle, a cache loader, a port into another module) waits for
 * the connection the flow itself holds: the request never answers, and every later request
 * queues behind it. Such a query is refused at once with this error, naming its call site.
 * A query from an unrelated flow (another request) still waits its turn as before.
 */
export class SqliteReentryError extends Error {
  readonly code = 'SQLITE_TRANSACTION_REENTRY';
  constructor(callSite: string) {
    super(
      'SQLite deadlock avoided: a query on the root database handle was issued from inside a transaction that holds ' +
        "the only connection. Pass the transaction's handle (unit of work) to the code that made it. Call site:\n" +
        callSite,
    );
    this.name = 'SqliteReentryError';
  }
}

interface Holding {
  readonly driver: Driver;
  held: boolean;
}

/** Which transaction, if any, the current async flow runs inside (per driver). */
const flow = new AsyncLocalStorage<Holding>();

/** Frames of the caller, without this module's and Kysely's own. */
function callSite(): string {
  const stack = new Error().stack ?? '';
  const frames = stack
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes('/node_modules/kysely/') && !/sqlite-guard\.[jt]s:/.test(line));
  return frames.slice(0, 12).join('\n');
}

class GuardedDriver implements Driver {
  readonly #inner: Driver;
  /** The transaction holding the one connection, if any. */
  #current: Holding | undefined;
  constructor(inner: Driver) {
    this.#inner = inner;
  }
  init(): Promise<void> {
    return this.#inner.init();
  }
  acquireConnection(): Promise<DatabaseConnection> {
    const holding = flow.getStore();
    if (holding?.driver === this && holding.held) return Promise.reject(new SqliteReentryError(callSite()));
    return this.#inner.acquireConnection();
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // NOTE: enterWith (not run): Kysely calls the transaction's callback after this returns,
    // in the continuation of the same flow, which is the flow that must see the marker. The
    // marker is entered before the first await so the continuation inherits it.
    const holding: Holding = { driver: this, held: true };
    this.#current = holding;
    flow.enterWith(holding);
    return this.#inner.beginTransaction(connection, settings);
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#release();
    return this.#inner.commitTransaction(connection);
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#release();
    return this.#inner.rollbackTransaction(connection);
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(connection);
  }
  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
  /** Work the transaction started and did not await may go on after it; it may query then. */
  #release(): void {
    if (this.#current) this.#current.held = false;
    this.#current = undefined;
  }
}

/**
 * Kysely's SQLite dialect whose driver refuses a query that would wait on its own transaction,
 * and, given `readers`, runs reads outside transactions on them (sqlite-readers.ts).
 */
export class GuardedSqliteDialect extends SqliteDialect {
  readonly #readers: SqliteReaders | undefined;
  constructor(config: SqliteDialectConfig, readers?: SqliteReaders) {
    super(config);
    this.#readers = readers;
  }
  override createDriver(): Driver {
    const writer = super.createDriver();
    return new GuardedDriver(this.#readers ? new ReadRoutingDriver(writer, this.#readers) : writer);
  }
}
