import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createDatabase, type Database, type Dialect } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { newId } from '../../src/platform/ids.js';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

/** The PostgreSQL the tests use: OPSDECK_TEST_PG_URL (set by test/global-setup.ts to its throwaway one unless given); benches default to :5432. */
export function pgAdminUrl(): string {
  return process.env.OPSDECK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

const PG_DOWN = (url: string, err: unknown) =>
  new Error(
    `PostgreSQL is not reachable at ${url} (${err instanceof Error ? err.message : String(err)}). ` +
      `Unset OPSDECK_TEST_PG_URL to let the test run start a throwaway PostgreSQL (test/global-setup.ts), or point it at a running one.`,
  );

export interface TestDatabase {
  dialect: Dialect;
  database: Database;
  /** `OPSDECK_DATABASE_URL` for PostgreSQL, undefined for SQLite */
  url: string | undefined;
  /** data dir holding the SQLite file (also usable as OPSDECK_DATA_DIR) */
  dataDir: string;
  drop(): Promise<void>;
}

/** Creates an empty PostgreSQL database and returns its URL. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = pgAdminUrl();
  const name = `opsdeck_t_${newId().replace(/-/g, '').slice(-16)}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw PG_DOWN(admin, err);
  }
  await client.query(`create database ${name}`);
  await client.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A fresh, migrated database of the dialect, private to the caller. */
export async function createTestDatabase(dialect: Dialect, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-test-'));
  let url: string | undefined;
  let dropPg = async (): Promise<void> => undefined;
  if (dialect === 'postgres') {
    const pgdb = await createPgDatabase();
    url = pgdb.url;
    dropPg = pgdb.drop;
  }
  const database = createDatabase({ dialect, sqlitePath: path.join(dataDir, 'opsdeck.db'), ...(url ? { url } : {}), poolSize: 5 });
  if (options.migrate !== false) await migrateToLatest(database.db);
  return {
    dialect,
    database,
    url,
    dataDir,
    async drop() {
      await database.destroy();
      await dropPg();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Registers beforeAll/afterAll for a test database; call the result inside tests. */
export function useTestDatabase(dialect: Dialect, options: { migrate?: boolean } = {}): () => TestDatabase {
  let t: TestDatabase | undefined;
  beforeAll(async () => {
    t = await createTestDatabase(dialect, options);
  });
  afterAll(async () => {
    await t?.drop();
  });
  return () => {
    if (!t) throw new Error('test database not ready');
    return t;
  };
}
