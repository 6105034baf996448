import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** Templates synced from a Git repository of category `templates`: the repository and the commit of the current version. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('config_templates').addColumn('source_repository_id', t.id).execute();
  await db.schema.alterTable('config_templates').addColumn('source_commit', 'varchar(64)').execute();
  await db.schema.createIndex('config_templates_source_repository_idx').on('config_templates').columns(['source_repository_id', 'source_path']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('config_templates_source_repository_idx').execute();
  await db.schema.alterTable('config_templates').dropColumn('source_commit').execute();
  await db.schema.alterTable('config_templates').dropColumn('source_repository_id').execute();
}
