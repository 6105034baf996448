import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, writeAtomically, type Database } from './database.js';
import { createUnitOfWork } from './unit-of-work.js';
import { SqliteReentryError, sqliteTransactionsHeld } from './sqlite-guard.js';

/** Resolves with 'timeout' if `p` has not settled within `ms`: a hang is a failure, not a wait. */
function within<T>(p: Promise<T>, ms = 2000): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
}

const count = async (db: Database['db']) => (await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]!.n;

describe('SQLite: a query outside the transaction that holds the one connection', () => {
  let dir: string;
  let database: Database;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-guard-'));
    database = createDatabase({ dialect: 'sqlite', sqlitePath: path.join(dir, 'g.db') });
    await sql`create table t (id integer primary key)`.execute(database.db);
  });
  afterEach(async () => {
    await database.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails at once, naming the call site, instead of waiting forever', async () => {
    const { db } = database;
    async function readsTheRootHandleByMistake() {
      return count(db);
    }
    const outcome = within(
      db.transaction().execute(async (trx) => {
        await sql`insert into t (id) values (1)`.execute(trx);
        return readsTheRootHandleByMistake();
      }),
    ).catch((err: unknown) => err);
    const err = await outcome;
    expect(err).toBeInstanceOf(SqliteReentryError);
    expect((err as Error).message).toContain('readsTheRootHandleByMistake');
    expect((err as Error).message).toContain('sqlite-guard.test.ts');
    // The transaction rolled back and the connection is free again.
    expect(await within(count(db))).toBe(0);
  });

  it('catches it however deep in the flow: timers, nested awaits, a unit of work', async () => {
    const { db } = database;
    const uow = createUnitOfWork(
      db,
      (handle) => ({ handle }),
      () => undefined,
    );
    const err = await within(
      uow(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await Promise.resolve();
        return new Promise((resolve, reject) => setImmediate(() => count(db).then(resolve, reject)));
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqliteReentryError);
  });

  it("lets another flow's query wait its turn and run after the commit", async () => {
    const { db } = database;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction().execute(async (trx) => {
      await sql`insert into t (id) values (1)`.execute(trx);
      await gate;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const other = count(db); // another request: not inside the transaction's flow
    release();
    await tx;
    expect(await within(other)).toBe(1);
  });

  it('leaves the flow that opened the transaction outside it: its own later query waits, however the transaction was started', async () => {
    const { db } = database;
    for (const start of [
      (work: () => Promise<void>) => work(),
      (work: () => Promise<void>) => new Promise<void>((resolve, reject) => setImmediate(() => work().then(resolve, reject))),
      (work: () => Promise<void>) => Promise.resolve().then(work),
    ]) {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let inside = false;
      const tx = start(() =>
        db.transaction().execute(async (trx) => {
          await sql`insert into t (id) values (${Math.floor(Math.random() * 1e9)})`.execute(trx);
          inside = true;
          await gate;
        }),
      );
      while (!inside) await new Promise((resolve) => setImmediate(resolve));
      const waiting = within(count(db)).catch((e: unknown) => e); // this flow's own query: it waits for the commit
      release();
      await tx;
      expect(await waiting).not.toBeInstanceOf(SqliteReentryError);
    }
    expect(await count(db)).toBe(3);
  });

  it('switches its async context tracking off once no transaction is open: after a commit, a rollback, a refused query and a failed BEGIN', async () => {
    const { db } = database;
    let inside = -1;
    await db.transaction().execute(async (trx) => {
      await sql`insert into t (id) values (1)`.execute(trx);
      inside = sqliteTransactionsHeld();
    });
    expect(inside).toBe(1);
    expect(sqliteTransactionsHeld()).toBe(0);
    await db
      .transaction()
      .execute(async () => {
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    expect(sqliteTransactionsHeld()).toBe(0);
    await db
      .transaction()
      .execute(() => count(db))
      .catch(() => undefined);
    expect(sqliteTransactionsHeld()).toBe(0);
    // The one connection already inside a transaction Kysely does not know of: its BEGIN fails.
    await sql`begin`.execute(db);
    const failed = await db
      .transaction()
      .execute(async () => undefined)
      .catch((e: unknown) => e);
    expect(String(failed)).toMatch(/within a transaction/);
    expect(sqliteTransactionsHeld()).toBe(0);
    await sql`rollback`.execute(db);
    await sql`select 1`.execute(db); // a plain query opens nothing
    expect(sqliteTransactionsHeld()).toBe(0);
    expect(await count(db)).toBe(1);
  });

  it('allows queries through the handle, and work the transaction left running to query after it ends', async () => {
    const { db } = database;
    let late: Promise<number> | undefined;
    await db.transaction().execute(async (trx) => {
      await sql`insert into t (id) values (1)`.execute(trx);
      expect(await count(trx)).toBe(1);
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => count(db));
    });
    expect(await within(late!)).toBe(1);
    await writeAtomically(db, [{ table: 't', rows: [{ id: 2 }] }]);
    expect(await count(db)).toBe(2);
  });

  it('is per database: a second SQLite database is free to use inside the first one’s transaction', async () => {
    const other = createDatabase({ dialect: 'sqlite', sqlitePath: path.join(dir, 'other.db') });
    try {
      await sql`create table t (id integer primary key)`.execute(other.db);
      const n = await within(database.db.transaction().execute(async () => count(other.db)));
      expect(n).toBe(0);
    } finally {
      await other.destroy();
    }
  });

  it('readiness goes through the connection queue: a held connection makes ping wait, not lie', async () => {
    const { db } = database;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction().execute(() => gate);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await within(database.ping(), 100)).toBe('timeout');
    release();
    await tx;
    expect(typeof (await within(database.ping()))).toBe('number');
  });
});
