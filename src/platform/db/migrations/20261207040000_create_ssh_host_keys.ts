import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * SSH host keys pinned on first use: one row per device (`target = device:<id>`) or ad-hoc
 * `host:port` (`target = host:<host>:<port>`). No foreign key to devices: they belong to the
 * inventory module; a pin of a deleted device is harmless (ids are never reused).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('ssh_host_keys')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('target', 'varchar(600)', (c) => c.notNull().unique())
    .addColumn('device_id', t.id)
    .addColumn('host', 'varchar(255)', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('fingerprint', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssh_host_keys_device_idx').on('ssh_host_keys').column('device_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ssh_host_keys').execute();
}
