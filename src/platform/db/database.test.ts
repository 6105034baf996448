import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, useTestDatabase } from '../../../test/helpers/db.js';
import { migrateDownAll, migrateToLatest, pendingMigrations } from './migrate.js';
import { bool, columnTypes, json } from './columns.js';
import { createUnitOfWork } from './unit-of-work.js';
import SQLite from 'better-sqlite3';
import { dialectOf, withStatementCache, writeAtomically, type Write } from './database.js';
import { newId, nowIso } from '../ids.js';

type Things = {
  things: { id: string; name: string; data: unknown; enabled: number | boolean; createdAt: string };
};

describe.each(DIALECTS)('data layer on %s', (dialect) => {
  const t = useTestDatabase(dialect);

  it('knows its dialect', () => {
    expect(dialectOf(t().database.db)).toBe(dialect);
  });

  it('writes atomically: parent and child rows together, nothing when one write fails, any number of rows', async () => {
    type Family = { owners: { id: string; name: string }; pets: { id: string; ownerId: string } };
    const base = t().database.db;
    const db = base.withTables<Family>();
    await db.schema
      .createTable('owners')
      .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('pets')
      .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
      .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('owners.id'))
      .execute();
    const family = (n: number, tag: string): Write[] => {
      const ids = Array.from({ length: n }, (_, i) => `${tag}-${i}`);
      return [
        { table: 'owners', rows: ids.map((id) => ({ id, name: tag })) },
        { table: 'pets', rows: ids.map((id) => ({ id: `c-${id}`, ownerId: id })) },
      ];
    };
    await writeAtomically(base, family(3, 'ok'));
    expect((await db.selectFrom('pets').select('id').execute()).length).toBe(3);
    // The read sees the state before the writes, on both dialects.
    const before = await writeAtomically(base, family(2, 'more'), (d) =>
      d
        .withTables<Family>()
        .selectFrom('owners')
        .select((eb) => eb.fn.countAll<number>().as('n')),
    );
    expect(before.map((r) => Number(r.n))).toEqual([3]);
    expect((await db.selectFrom('owners').select('id').execute()).length).toBe(5);
    // A child whose parent is missing fails the lot: the owners written with it are gone too.
    await expect(writeAtomically(base, [...family(2, 'bad'), { table: 'pets', rows: [{ id: 'orphan', ownerId: 'nobody' }] }])).rejects.toThrow();
    expect(await db.selectFrom('owners').select('id').where('name', '=', 'bad').execute()).toEqual([]);
    // 40 000 owners and pets at once (chunked under SQLite's parameter limit, one JSON parameter a table on PostgreSQL).
    await writeAtomically(base, family(40_000, 'big'));
    expect(
      Number(
        (
          await db
            .selectFrom('pets')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(40_005);
    await writeAtomically(base, []);
    await writeAtomically(base, [{ table: 'owners', rows: [] }]);
  });

  it('writes JSON, booleans, nulls and defaults as a plain insert does, and names an unknown column', async () => {
    type Notes = { notes: { id: string; body: string | null; tag: string; data: string | null; flag: number; createdAt: string } };
    const types = columnTypes(t().database.db);
    const base = t().database.db;
    const db = base.withTables<Notes>();
    await db.schema
      .createTable('notes')
      .addColumn('id', types.id, (c) => c.primaryKey())
      .addColumn('body', 'varchar(40)')
      .addColumn('tag', 'varchar(40)', (c) => c.notNull().defaultTo('none'))
      .addColumn('data', types.json)
      .addColumn('flag', types.bool, (c) => c.notNull())
      .addColumn('created_at', types.timestamp, (c) => c.notNull())
      .execute();
    const at = nowIso();
    const ids = [newId(), newId(), newId()].sort();
    const payload = { nested: { first_start: true, name__ic: 'x"y' }, list: [1, 'two', null] };
    await writeAtomically(base, [
      {
        table: 'notes',
        rows: [
          { id: ids[0], body: 'x', data: json.write(payload), flag: bool.write(true), createdAt: at },
          { id: ids[1], body: null, data: null, flag: bool.write(false), createdAt: at },
          { id: ids[2], flag: bool.write(false), createdAt: at },
        ],
      },
    ]);
    const rows = await db
      .selectFrom('notes')
      .select(['id', 'body', 'tag', sql<string | null>`cast(data as text)`.as('data'), 'flag', 'createdAt'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => ({ ...r, data: r.data === null ? null : json.read(r.data), flag: bool.read(r.flag) }))).toEqual([
      { id: ids[0], body: 'x', tag: 'none', data: payload, flag: true, createdAt: at },
      { id: ids[1], body: null, tag: 'none', data: null, flag: false, createdAt: at },
      { id: ids[2], body: null, tag: 'none', data: null, flag: false, createdAt: at },
    ]);
    await expect(writeAtomically(base, [{ table: 'notes', rows: [{ id: newId(), flag: 1, createdAt: at, colour: 'red' }] }])).rejects.toThrow(/colour/);
    expect(await db.selectFrom('notes').select('id').execute()).toHaveLength(3);
  });

  it('has applied every migration', async () => {
    expect(await pendingMigrations(t().database.db)).toEqual([]);
  });

  /** The `things` table, created by whichever test runs first (tests run in any order). */
  async function things() {
    const db = t().database.db.withTables<Things>();
    const types = columnTypes(t().database.db);
    await db.schema
      .createTable('things')
      .ifNotExists()
      .addColumn('id', types.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(50)', (c) => c.notNull())
      .addColumn('data', types.json, (c) => c.notNull())
      .addColumn('enabled', types.bool, (c) => c.notNull())
      .addColumn('created_at', types.timestamp, (c) => c.notNull())
      .execute();
    return db;
  }

  it('round-trips ids, JSON, booleans and ISO timestamps identically', async () => {
    const db = await things();
    const id = newId();
    const at = nowIso();
    await db
      .insertInto('things')
      .values({ id, name: 'a', data: json.write({ x: [1, 'two'], n: null }), enabled: bool.write(true), createdAt: at })
      .execute();
    const row = await db.selectFrom('things').select(['id', 'data', 'enabled', 'createdAt']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.id).toBe(id);
    expect(json.read(row.data)).toEqual({ x: [1, 'two'], n: null });
    const snake = newId();
    await db
      .insertInto('things')
      .values({ id: snake, name: 'b', data: json.write({ rack_units: { max_value: 2 } }), enabled: bool.write(false), createdAt: at })
      .execute();
    const kept = await db.selectFrom('things').select('data').where('id', '=', snake).executeTakeFirstOrThrow();
    // Keys inside JSON are data, not columns: they come back exactly as written on both dialects.
    expect(json.read(kept.data)).toEqual({ rack_units: { max_value: 2 } });
    await db.deleteFrom('things').where('id', '=', snake).execute();
    expect(bool.read(row.enabled)).toBe(true);
    expect(row.createdAt).toBe(at);
    const later = await db.selectFrom('things').select('id').where('createdAt', '>=', at).where('name', 'in', ['a', 'b']).execute();
    expect(later).toHaveLength(1);
  });

  it('commits a unit of work and runs after-commit callbacks only after commit', async () => {
    const db = await things();
    const errors: unknown[] = [];
    const uow = createUnitOfWork(
      t().database.db,
      (trx) => ({ things: trx.withTables<Things>() }),
      (e) => errors.push(e),
    );
    const seen: string[] = [];
    await uow(async (repos, tx) => {
      await repos.things.insertInto('things').values({ id: newId(), name: 'uow', data: '{}', enabled: 0, createdAt: nowIso() }).execute();
      tx.afterCommit(async () => {
        const n = await db.selectFrom('things').select('id').where('name', '=', 'uow').execute();
        seen.push(`committed:${n.length}`);
      });
    });
    expect(seen).toEqual(['committed:1']);
    expect(errors).toEqual([]);
  });

  it('rolls back everything and runs no callback when the work throws', async () => {
    const db = await things();
    const uow = createUnitOfWork(
      t().database.db,
      (trx) => trx.withTables<Things>(),
      () => undefined,
    );
    let ran = false;
    await expect(
      uow(async (repo, tx) => {
        await repo.insertInto('things').values({ id: newId(), name: 'rolled', data: '{}', enabled: 0, createdAt: nowIso() }).execute();
        tx.afterCommit(() => {
          ran = true;
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(ran).toBe(false);
    expect(await db.selectFrom('things').select('id').where('name', '=', 'rolled').execute()).toEqual([]);
  });

  it('enforces foreign keys', async () => {
    const db = t().database.db;
    await sql`create table parents (id varchar(10) primary key)`.execute(db);
    await sql`create table children (id varchar(10) primary key, parent_id varchar(10) references parents(id))`.execute(db);
    await expect(sql`insert into children (id, parent_id) values ('c', 'missing')`.execute(db)).rejects.toThrow(/foreign key/i);
  });
});

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  it('go up and down and up again cleanly', async () => {
    const t = await createTestDatabase(dialect, { migrate: false });
    try {
      const pending = await pendingMigrations(t.database.db);
      expect(pending.length).toBeGreaterThan(0);
      expect(await migrateToLatest(t.database.db)).toEqual(pending);
      expect(await migrateToLatest(t.database.db)).toEqual([]);
      await migrateDownAll(t.database.db);
      expect(await pendingMigrations(t.database.db)).toEqual(pending);
      expect(await migrateToLatest(t.database.db)).toEqual(pending);
    } finally {
      await t.drop();
    }
  });
});

describe('SQLite statement cache', () => {
  it('reuses a statement by SQL text, never one still being iterated, and keeps at most max', () => {
    const raw = new SQLite(':memory:');
    const cached = withStatementCache(raw, 2);
    raw.exec('create table t (n integer)');
    const a = cached.prepare('insert into t values (?)');
    expect(cached.prepare('insert into t values (?)')).toBe(a);
    for (const n of [1, 2, 3]) a.run([n]);
    const select = cached.prepare('select n from t order by n');
    const outer = select.iterate([]);
    expect(outer.next().value).toEqual({ n: 1 });
    // The same query while the first is mid-iteration gets a statement of its own.
    const inner = cached.prepare('select n from t order by n');
    expect(inner).not.toBe(select);
    expect(inner.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect([...outer]).toEqual([{ n: 2 }, { n: 3 }]);
    expect(cached.prepare('select n from t order by n')).toBe(select);
    // A third statement pushes out the least recently used (the insert).
    cached.prepare('select count(*) from t');
    expect(cached.prepare('insert into t values (?)')).not.toBe(a);
    // A schema change is picked up by a cached statement.
    const all = cached.prepare('select * from t order by n');
    expect(all.all([])[0]).toEqual({ n: 1 });
    raw.exec('alter table t add column m integer default 7');
    expect(cached.prepare('select * from t order by n')).toBe(all);
    expect(all.all([])[0]).toEqual({ n: 1, m: 7 });
    cached.close();
  });
});
