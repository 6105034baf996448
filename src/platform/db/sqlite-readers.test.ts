import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, createPgDatabase } from '../../../test/helpers/db.js';
import { createDatabase, type Database } from './database.js';

type Tables = {
  t: { id: number; name: string; blob: Buffer | null };
};

/** Resolves with 'timeout' if `p` has not settled within `ms`: a hang is a failure, not a wait. */
function within<T>(p: Promise<T>, ms = 10_000): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
}

const names = (database: Database) =>
  database.db
    .withTables<Tables>()
    .selectFrom('t')
    .select('name')
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((r) => r.name));

describe.each(DIALECTS)('reads in reader threads (%s, OPSDECK_SQLITE_READERS=2)', (dialect) => {
  let dir: string;
  let database: Database;
  let dropPg: () => Promise<void>;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-readers-'));
    const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
    dropPg = pg ? pg.drop : async () => undefined;
    database = createDatabase({ dialect, sqlitePath: path.join(dir, 'r.db'), ...(pg ? { url: pg.url } : {}), poolSize: 3, sqliteReaders: 2 });
    await sql`create table t (id integer primary key, name text not null, blob ${sql.raw(dialect === 'sqlite' ? 'blob' : 'bytea')})`.execute(database.db);
  });
  afterEach(async () => {
    await database.destroy();
    await dropPg();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a read after a committed write sees it, every time', async () => {
    const t = database.db.withTables<Tables>();
    for (let i = 1; i <= 50; i++) {
      await t
        .insertInto('t')
        .values({ id: i, name: `n${i}` })
        .execute();
      const row = await t.selectFrom('t').select(['id', 'name']).where('id', '=', i).executeTakeFirst();
      expect(row).toEqual({ id: i, name: `n${i}` });
    }
    await database.db.transaction().execute((trx) => trx.withTables<Tables>().updateTable('t').set({ name: 'changed' }).where('id', '=', 7).execute());
    expect((await names(database))[6]).toBe('changed');
  });

  it('a transaction reads its own writes; others see them only once it commits', async () => {
    await database.db.withTables<Tables>().insertInto('t').values({ id: 1, name: 'before' }).execute();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inside: string[] = [];
    const tx = database.db.transaction().execute(async (trx) => {
      const t = trx.withTables<Tables>();
      await t.insertInto('t').values({ id: 2, name: 'inside' }).execute();
      inside = (await t.selectFrom('t').select('name').orderBy('id').execute()).map((r) => r.name);
      await gate;
    });
    while (inside.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Another request, while the transaction holds the writer: answered, with committed rows only.
    expect(await within(names(database))).toEqual(['before']);
    release();
    await tx;
    expect(inside).toEqual(['before', 'inside']);
    expect(await names(database)).toEqual(['before', 'inside']);
  });

  it('binary columns read back as Buffers', async () => {
    const blob = Buffer.from([0, 1, 2, 255]);
    await database.db.withTables<Tables>().insertInto('t').values({ id: 1, name: 'b', blob }).execute();
    const row = await database.db.withTables<Tables>().selectFrom('t').select('blob').executeTakeFirstOrThrow();
    expect(Buffer.isBuffer(row.blob)).toBe(true);
    expect(row.blob).toEqual(blob);
  });
});

describe('SQLite reader threads', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-readers-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (sqliteReaders: number) => createDatabase({ dialect: 'sqlite', sqlitePath: path.join(dir, 'r.db'), sqliteReaders });
  const badRead = (database: Database) =>
    database.db
      .withTables<{ missing: { id: number } }>()
      .selectFrom('missing')
      .select('id')
      .execute()
      .catch((err: unknown) => err);

  it('a read error is the same SqliteError, code and message, as on the one connection', async () => {
    const single = open(0);
    const expected = await badRead(single);
    await single.destroy();
    const threaded = open(2);
    const err = await badRead(threaded);
    await threaded.destroy();
    expect(expected).toBeInstanceOf(SQLite.SqliteError);
    expect(err).toBeInstanceOf(SQLite.SqliteError);
    expect({ code: (err as InstanceType<typeof SQLite.SqliteError>).code, message: (err as Error).message }).toEqual({
      code: (expected as InstanceType<typeof SQLite.SqliteError>).code,
      message: (expected as Error).message,
    });
  });

  it('closing the database closes the readers: the writer, last, removes the WAL', async () => {
    const database = open(2);
    await sql`create table t (id integer primary key, name text not null)`.execute(database.db);
    await database.db.withTables<Tables>().insertInto('t').values({ id: 1, name: 'a' }).execute();
    // Both threads hold a connection: two reads at once.
    await Promise.all([names(database), names(database), names(database)]);
    expect(fs.existsSync(path.join(dir, 'r.db-wal'))).toBe(true);
    await database.destroy();
    // SQLite deletes the WAL only when the last connection to the file closes.
    expect(fs.existsSync(path.join(dir, 'r.db-wal'))).toBe(false);
    await expect(names(database)).rejects.toThrow();
  });

  it('leaves the database files private (0600): readers open read-only and create nothing', async () => {
    const database = open(2);
    await sql`create table t (id integer primary key, name text not null)`.execute(database.db);
    await database.db.withTables<Tables>().insertInto('t').values({ id: 1, name: 'a' }).execute();
    expect(await names(database)).toEqual(['a']);
    const files = fs.readdirSync(dir).sort();
    const modes = Object.fromEntries(files.map((f) => [f, (fs.statSync(path.join(dir, f)).mode & 0o777).toString(8)]));
    await database.destroy();
    expect(modes).toEqual({ 'r.db': '600', 'r.db-shm': '600', 'r.db-wal': '600' });
  });

  it('a database in memory has no other connection to share it: reads stay on the one connection', async () => {
    const database = createDatabase({ dialect: 'sqlite', sqlitePath: ':memory:', sqliteReaders: 2 });
    await sql`create table t (id integer primary key, name text not null)`.execute(database.db);
    await database.db.withTables<Tables>().insertInto('t').values({ id: 1, name: 'a' }).execute();
    expect(await names(database)).toEqual(['a']);
    await database.destroy();
  });
});
