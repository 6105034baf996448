import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, useTestDatabase } from '../../../test/helpers/db.js';
import { migrateDownAll, migrateToLatest, pendingMigrations } from './migrate.js';
import { bool, columnTypes, json } from './columns.js';
import { createUnitOfWork } from './unit-of-work.js';
import { dialectOf } from './database.js';
import { newId, nowIso } from '../ids.js';

type Things = {
  things: { id: string; name: string; data: unknown; enabled: number | boolean; createdAt: string };
};

describe.each(DIALECTS)('data layer on %s', (dialect) => {
  const t = useTestDatabase(dialect);

  it('knows its dialect', () => {
    expect(dialectOf(t().database.db)).toBe(dialect);
  });

  it('has applied every migration', async () => {
    expect(await pendingMigrations(t().database.db)).toEqual([]);
  });

  it('round-trips ids, JSON, booleans and ISO timestamps identically', async () => {
    const db = t().database.db.withTables<Things>();
    const types = columnTypes(t().database.db);
    await db.schema
      .createTable('things')
      .addColumn('id', types.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(50)', (c) => c.notNull())
      .addColumn('data', types.json, (c) => c.notNull())
      .addColumn('enabled', types.bool, (c) => c.notNull())
      .addColumn('created_at', types.timestamp, (c) => c.notNull())
      .execute();
    const id = newId();
    const at = nowIso();
    await db.insertInto('things').values({ id, name: 'a', data: json.write({ x: [1, 'two'], n: null }), enabled: bool.write(true), createdAt: at }).execute();
    const row = await db.selectFrom('things').select(['id', 'data', 'enabled', 'createdAt']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.id).toBe(id);
    expect(json.read(row.data)).toEqual({ x: [1, 'two'], n: null });
    const snake = newId();
    await db.insertInto('things').values({ id: snake, name: 'b', data: json.write({ rack_units: { max_value: 2 } }), enabled: bool.write(false), createdAt: at }).execute();
    const kept = await db.selectFrom('things').select('data').where('id', '=', snake).executeTakeFirstOrThrow();
    // Keys inside JSON are data, not columns: they come back exactly as written on both dialects.
    expect(json.read(kept.data)).toEqual({ rack_units: { max_value: 2 } });
    await db.deleteFrom('things').where('id', '=', snake).execute();
    expect(bool.read(row.enabled)).toBe(true);
    expect(row.createdAt).toBe(at);
    const later = await db.selectFrom('things').select('id').where('createdAt', '>=', at).execute();
    expect(later).toHaveLength(1);
  });

  it('commits a unit of work and runs after-commit callbacks only after commit', async () => {
    const db = t().database.db.withTables<Things>();
    const errors: unknown[] = [];
    const uow = createUnitOfWork(t().database.db, (trx) => ({ things: trx.withTables<Things>() }), (e) => errors.push(e));
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
    const db = t().database.db.withTables<Things>();
    const uow = createUnitOfWork(t().database.db, (trx) => trx.withTables<Things>(), () => undefined);
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
