import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** Configuration templates (templates module) and their immutable versions. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('config_templates')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('source', 'varchar(20)', (c) => c.notNull())
    .addColumn('source_path', 'varchar(1000)')
    .addColumn('type', 'varchar(20)', (c) => c.notNull())
    .addColumn('category', 'varchar(100)')
    .addColumn('description', 'varchar(2000)')
    .addColumn('tags', t.json, (c) => c.notNull())
    .addColumn('variables_schema', t.json)
    .addColumn('active', t.bool, (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  // A name is unique among active templates; inactive ones may share it.
  await db.schema
    .createIndex('config_templates_active_name_uq')
    .on('config_templates')
    .column('name')
    .unique()
    .where(sql.ref('active'), '=', sql.lit(true))
    .execute();
  await db.schema.createIndex('config_templates_category_idx').on('config_templates').columns(['category', 'name']).execute();

  await db.schema
    .createTable('config_template_versions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('template_id', t.id, (c) => c.notNull().references('config_templates.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('author_id', 'varchar(100)')
    .addColumn('author_name', 'varchar(255)')
    .addColumn('notes', 'varchar(2000)')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('config_template_versions_template_version_uq')
    .on('config_template_versions')
    .columns(['template_id', 'version'])
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('config_template_versions').execute();
  await db.schema.dropTable('config_templates').execute();
}
