import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Discovery scans (their job run holds the per-host results) and the review decision per
 * discovered host: accepted, rejected or onboarded, with the edits a reviewer made.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('discovery_scans')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('run_id', t.id, (c) => c.notNull())
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('range_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('host_count', 'integer', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('discovery_scans_run_idx').on('discovery_scans').column('run_id').execute();
  await db.schema.createIndex('discovery_scans_range_idx').on('discovery_scans').columns(['range_key', 'created_at']).execute();
  await db.schema
    .createTable('discovery_hosts')
    .addColumn('scan_id', t.id, (c) => c.notNull().references('discovery_scans.id').onDelete('cascade'))
    .addColumn('address', 'varchar(45)', (c) => c.notNull())
    .addColumn('decision', 'varchar(15)', (c) => c.notNull())
    .addColumn('edits', 'text', (c) => c.notNull())
    .addColumn('device_id', t.id)
    .addColumn('updated_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('discovery_hosts_pk', ['scan_id', 'address'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('discovery_hosts').execute();
  await db.schema.dropTable('discovery_scans').execute();
}
