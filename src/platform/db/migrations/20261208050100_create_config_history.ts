import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** The history index: commits and per-file versions of configuration repositories, so version lists are one indexed query. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('config_commits')
    .addColumn('repository_id', t.id, (c) => c.notNull().references('git_repositories.id').onDelete('cascade'))
    .addColumn('sha', 'varchar(64)', (c) => c.notNull())
    .addColumn('author_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('author_email', 'varchar(255)', (c) => c.notNull())
    .addColumn('committed_at', t.timestamp, (c) => c.notNull())
    .addColumn('message', 'varchar(2000)', (c) => c.notNull())
    .addPrimaryKeyConstraint('config_commits_pk', ['repository_id', 'sha'])
    .execute();
  await db.schema.createIndex('config_commits_time_idx').on('config_commits').columns(['repository_id', 'committed_at']).execute();

  await db.schema
    .createTable('config_versions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('repository_id', t.id, (c) => c.notNull().references('git_repositories.id').onDelete('cascade'))
    .addColumn('commit_sha', 'varchar(64)', (c) => c.notNull())
    .addColumn('path', 'varchar(1024)', (c) => c.notNull())
    // The device the file belongs to, by name (the file's base name without extension).
    .addColumn('device_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('change', 'varchar(10)', (c) => c.notNull())
    .addColumn('old_path', 'varchar(1024)')
    .addColumn('author_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('committed_at', t.timestamp, (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('config_versions_commit_path_idx').on('config_versions').columns(['repository_id', 'commit_sha', 'path']).unique().execute();
  await db.schema.createIndex('config_versions_device_idx').on('config_versions').columns(['device_name', 'committed_at', 'id']).execute();
  await db.schema.createIndex('config_versions_path_idx').on('config_versions').columns(['repository_id', 'path', 'committed_at']).execute();
  await db.schema.createIndex('config_versions_time_idx').on('config_versions').columns(['committed_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('config_versions').execute();
  await db.schema.dropTable('config_commits').execute();
}
