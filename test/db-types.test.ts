import fs from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { generateDbTypes, SCHEMA_FILE } from '../scripts/db-types.js';
import { createDatabase, type Db } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { createPgDatabase, pgAdminUrl } from './helpers/db.js';

type Shape = Record<string, Record<string, boolean>>;

/** Table → column → nullable, as the migrated database reports it (Kysely's introspection). */
async function shape(db: Db, primaryKeyNotNull: (table: string) => Promise<Set<string>>): Promise<Shape> {
  const out: Shape = {};
  for (const table of await db.introspection.getTables()) {
    if (table.name.startsWith('opsdeck_migration')) continue;
    const keys = await primaryKeyNotNull(table.name);
    out[table.name] = Object.fromEntries(table.columns.map((c) => [c.name, c.isNullable && !keys.has(c.name)]));
  }
  return out;
}

describe('generated database types', () => {
  it('match the migrations (npm run db:types regenerates them)', async () => {
    const generated = await generateDbTypes(pgAdminUrl());
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8'), 'src/platform/db/schema.generated.ts is stale: run npm run db:types').toBe(generated);
  });

  it('describe SQLite too: the same tables, columns and nullability as PostgreSQL', async () => {
    const sqlite = createDatabase({ dialect: 'sqlite' });
    const pgDb = await createPgDatabase();
    const postgres = createDatabase({ dialect: 'postgres', url: pgDb.url, poolSize: 1 });
    try {
      await migrateToLatest(sqlite.db);
      await migrateToLatest(postgres.db);
      // NOTE: SQLite lets a non-integer PRIMARY KEY column hold NULL (a legacy quirk); PostgreSQL
      // does not, and no code writes one, so such a column counts as NOT NULL.
      const sqliteKeys = async (table: string) => {
        const { rows } = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table})`.execute(sqlite.db);
        return new Set(rows.filter((r) => r.pk > 0).map((r) => r.name));
      };
      const none = () => Promise.resolve(new Set<string>());
      expect(await shape(sqlite.db, sqliteKeys)).toEqual(await shape(postgres.db, none));
    } finally {
      await sqlite.destroy();
      await postgres.destroy();
      await pgDb.drop();
    }
  });
});
