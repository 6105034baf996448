import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('integration_connections')
    .addColumn('system', 'varchar(20)', (c) => c.primaryKey())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    // No foreign key: the credential belongs to the credentials module, checked through its index.ts.
    .addColumn('credential_id', t.id)
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('verify_tls', t.bool, (c) => c.notNull())
    .addColumn('ca_cert', 'text')
    .addColumn('api_version', 'varchar(50)')
    .addColumn('updated_by', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('integration_connections_credential_idx').on('integration_connections').column('credential_id').execute();
  await db.schema
    .createTable('integration_objects')
    .addColumn('system', 'varchar(20)', (c) => c.notNull())
    .addColumn('kind', 'varchar(30)', (c) => c.notNull())
    .addColumn('external_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('local_id', t.id, (c) => c.notNull())
    .addColumn('synced_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('integration_objects_pk', ['system', 'kind', 'external_id'])
    .execute();
  await db.schema.createIndex('integration_objects_local_idx').on('integration_objects').columns(['system', 'kind', 'local_id']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('integration_objects').execute();
  await db.schema.dropTable('integration_connections').execute();
}
