import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * The file library (`files`), tus uploads in progress (`file_uploads`), each owner's reserved
 * bytes (`file_quotas`, reserved by a conditional update so concurrent uploads cannot pass the
 * quota) and the images registered from files (`images`: disk images and firmware).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('files')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('size', t.bigint, (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('owner_id', t.id, (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('files_owner_idx').on('files').column('owner_id').execute();
  await db.schema.createIndex('files_team_idx').on('files').column('team_id').execute();
  await db.schema.createIndex('files_sha256_idx').on('files').column('sha256').execute();

  await db.schema
    .createTable('file_uploads')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('length', t.bigint, (c) => c.notNull())
    .addColumn('offset', t.bigint, (c) => c.notNull())
    .addColumn('declared_sha256', 'varchar(64)')
    .addColumn('owner_id', t.id, (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('file_id', t.id)
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('file_uploads_owner_idx').on('file_uploads').column('owner_id').execute();
  await db.schema.createIndex('file_uploads_expires_idx').on('file_uploads').column('expires_at').execute();

  await db.schema
    .createTable('file_quotas')
    .addColumn('owner_id', t.id, (c) => c.primaryKey())
    .addColumn('used_bytes', t.bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('images')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('file_id', t.id, (c) => c.notNull().unique().references('files.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(10)', (c) => c.notNull())
    .addColumn('format', 'varchar(20)')
    .addColumn('virtual_size', t.bigint)
    .addColumn('backing_file', 'varchar(1000)')
    .addColumn('vendor', 'varchar(100)')
    .addColumn('model', 'varchar(100)')
    .addColumn('version', 'varchar(100)')
    .addColumn('vendor_sha256', 'varchar(64)')
    .addColumn('owner_id', t.id, (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('images_owner_idx').on('images').column('owner_id').execute();
  await db.schema.createIndex('images_team_idx').on('images').column('team_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('images').execute();
  await db.schema.dropTable('file_quotas').execute();
  await db.schema.dropTable('file_uploads').execute();
  await db.schema.dropTable('files').execute();
}
