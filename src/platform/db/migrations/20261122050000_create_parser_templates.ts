import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** User TextFSM templates (parsers module): they take precedence over library templates. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('parser_templates')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('platform', 'varchar(200)')
    .addColumn('command', 'varchar(500)')
    .addColumn('description', 'varchar(2000)')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('parser_templates_platform_idx').on('parser_templates').columns(['platform', 'name']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('parser_templates').execute();
}
