import { AsyncLocalStorage } from 'node:async_hooks';
import {
  Kysely,
  SqliteDialect,
  type ConnectionProvider,
  type DatabaseConnection,
  type Driver,
  type KyselyConfig,
  type QueryExecutor,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';
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

/**
 * Which transaction, if any, the current async flow runs inside (per driver).
 *
 * NOTE: on Node 20 an AsyncLocalStorage that has been entered once keeps a promise hook running for
 * every promise in the process until it is disabled: that cost 17% of a `/health` request's CPU when
 * the guard switched it on with the first transaction and never off. So it is on only while a
 * transaction holds a connection (`transactionsHeld` > 0) and off otherwise: a request that does not
 * open a transaction, and any request while none is open, pays nothing (bench/sqlite-guard.bench.ts).
 * The mark is scoped like `flow.run` around the connection's consumer (GuardedDriver.provide): set
 * when the consumer begins a transaction, taken off the calling resource when the consumer's call
 * returns, so it cannot stay on a resource other flows share (the bare `enterWith` it replaced did).
 */
const flow = new AsyncLocalStorage<Holding>();

/** A consumer being run: the transaction it began, and the store the calling resource had before. */
interface Opening {
  holding?: Holding;
  previous?: Holding | undefined;
}
let transactionsHeld = 0;

/** Transactions open on guarded drivers now; while 0 the store is disabled (tests read it). */
export function sqliteTransactionsHeld(): number {
  return transactionsHeld;
}

/** Frames of the caller, without this module's and Kysely's own. */
function callSite(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40; // Kysely's own frames, filtered out below, would use up the default 10
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
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
  /** The consumer `provide` is running right now (synchronously), if any. */
  #opening: Opening | undefined;
  constructor(inner: Driver) {
    this.#inner = inner;
  }
  init(): Promise<void> {
    return this.#inner.init();
  }
  acquireConnection(): Promise<DatabaseConnection> {
    if (transactionsHeld > 0) {
      const holding = flow.getStore();
      if (holding?.driver === this && holding.held) return Promise.reject(new SqliteReentryError(callSite()));
    }
    return this.#inner.acquireConnection();
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // Kysely calls this synchronously from the consumer `provide` runs, and the transaction's
    // callback after it in the same flow: from here to the end of that call, promises, timers and
    // callbacks the flow creates carry the mark. `provide` takes it off the resource it was put on.
    const opening = this.#opening;
    if (opening && !opening.holding) {
      const holding: Holding = { driver: this, held: true };
      opening.holding = holding;
      opening.previous = flow.getStore();
      flow.enterWith(holding);
      this.#current = holding;
      transactionsHeld++;
      // A BEGIN that fails is followed by neither commit nor rollback: release here, or the store
      // would stay enabled for good.
      return this.#inner.beginTransaction(connection, settings).catch((err: unknown) => {
        this.#release();
        throw err;
      });
    }
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
    this.#release();
    return this.#inner.destroy();
  }
  /**
   * Runs a connection's consumer (a query; or a transaction's begin, callback and commit). A plain
   * query costs a field write; one that begins a transaction is marked for the rest of this call,
   * as `flow.run` would, and the mark taken off the calling resource when the call returns.
   */
  provide<T>(connection: DatabaseConnection, consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    const opening: Opening = {};
    const outer = this.#opening;
    this.#opening = opening;
    try {
      return consumer(connection);
    } finally {
      this.#opening = outer;
      if (opening.holding) flow.enterWith(opening.previous as Holding);
    }
  }
  /** Work the transaction started and did not await may go on after it; it may query then. */
  #release(): void {
    if (!this.#current) return;
    this.#current.held = false;
    this.#current = undefined;
    if (--transactionsHeld === 0) flow.disable();
  }
}

/**
 * Hands out connections through the dialect's own provider, running each consumer (a query, or a
 * transaction's begin, callback and commit) through `GuardedDriver.provide`, so a transaction it opens marks its
 * own flow and nothing else. Every executor Kysely derives (`withTables`, `withPlugin`, …) keeps it.
 */
class GuardedConnectionProvider implements ConnectionProvider {
  constructor(
    readonly inner: QueryExecutor,
    readonly driver: GuardedDriver,
  ) {}
  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    return this.inner.provideConnection((connection) => this.driver.provide(connection, consumer));
  }
}

/**
 * Kysely's SQLite dialect whose driver refuses a query that would wait on its own transaction,
 * and, given `readers`, runs reads outside transactions on them (sqlite-readers.ts). Open it with
 * `guardedSqliteKysely`, which installs the connection provider the guard needs.
 */
export class GuardedSqliteDialect extends SqliteDialect {
  readonly #readers: SqliteReaders | undefined;
  #driver: GuardedDriver | undefined;
  constructor(config: SqliteDialectConfig, readers?: SqliteReaders) {
    super(config);
    this.#readers = readers;
  }
  override createDriver(): Driver {
    const writer = super.createDriver();
    this.#driver = new GuardedDriver(this.#readers ? new ReadRoutingDriver(writer, this.#readers) : writer);
    return this.#driver;
  }
  /** The driver the last Kysely built on this dialect uses. */
  get driver(): GuardedDriver | undefined {
    return this.#driver;
  }
}

/**
 * A Kysely over `dialect` as `new Kysely({ dialect, ...config })` opens it, whose executors hand out
 * connections through GuardedConnectionProvider. Transactions begin and end on the guarded driver
 * directly (Kysely's own runtime driver only forwards those), and `destroy` goes through Kysely's.
 */
export function guardedSqliteKysely<DB>(dialect: GuardedSqliteDialect, config: Omit<KyselyConfig, 'dialect'>): Kysely<DB> {
  const base = new Kysely<DB>({ ...config, dialect });
  const driver = dialect.driver!;
  const executor = base.getExecutor().withConnectionProvider(new GuardedConnectionProvider(base.getExecutor(), driver));
  const transactions: Driver = {
    init: () => Promise.resolve(),
    // Kysely takes connections from the executor, never from its props' driver.
    acquireConnection: () => Promise.reject(new Error('connections come from the executor')),
    releaseConnection: (connection) => driver.releaseConnection(connection),
    beginTransaction: (connection, settings) => driver.beginTransaction(connection, settings),
    commitTransaction: (connection) => driver.commitTransaction(connection),
    rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
    destroy: () => base.destroy(),
  };
  return new Kysely<DB>({ config: { ...config, dialect }, executor, dialect, driver: transactions });
}
