import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('git_repositories')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('category', 'varchar(20)', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('branch', 'varchar(255)', (c) => c.notNull())
    .addColumn('path', 'varchar(1024)', (c) => c.notNull())
    // No foreign key: the credential belongs to the credentials module, checked through its index.ts.
    .addColumn('credential_id', t.id)
    .addColumn('verify_tls', t.bool, (c) => c.notNull())
    .addColumn('ca_cert', 'text')
    .addColumn('sync_interval_seconds', 'integer')
    .addColumn('description', 'varchar(2000)')
    .addColumn('active', t.bool, (c) => c.notNull())
    .addColumn('last_sync_at', t.timestamp)
    .addColumn('last_sync_status', 'varchar(20)', (c) => c.notNull())
    .addColumn('last_sync_error', 'varchar(2000)')
    .addColumn('last_sync_run_id', t.id)
    .addColumn('head_commit', 'varchar(64)')
    .addColumn('created_by', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('git_repositories_credential_idx').on('git_repositories').column('credential_id').execute();
  await db.schema.createIndex('git_repositories_category_idx').on('git_repositories').columns(['category', 'name']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('git_repositories').execute();
}
