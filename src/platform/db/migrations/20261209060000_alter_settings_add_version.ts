import type { Kysely } from 'kysely';

/**
 * The `settings` table becomes the runtime settings store: one row per section (`key` is the
 * section name, `value` the JSON object of the keys set in the database), with a version for
 * optimistic concurrency and cross-node change detection, and who changed it last.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('settings')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('settings').addColumn('updated_by', 'varchar(200)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('settings').dropColumn('updated_by').execute();
  await db.schema.alterTable('settings').dropColumn('version').execute();
}
