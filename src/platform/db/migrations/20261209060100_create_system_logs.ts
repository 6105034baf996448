import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** Warnings, errors and audit-relevant info lines of every node, bounded by age and count. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('system_logs')
    .addColumn('id', t.serial, (c) => c.primaryKey())
    .addColumn('time', t.timestamp, (c) => c.notNull())
    .addColumn('level', 'varchar(10)', (c) => c.notNull())
    .addColumn('source', 'varchar(20)', (c) => c.notNull())
    .addColumn('node', 'varchar(100)', (c) => c.notNull())
    .addColumn('message', 'varchar(1000)', (c) => c.notNull())
    .addColumn('fields', t.json, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('system_logs_time_idx').on('system_logs').column('time').execute();
  await db.schema.createIndex('system_logs_level_source_idx').on('system_logs').columns(['level', 'source', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('system_logs').execute();
}
