import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * TextFSM libraries fed by Git repositories of category `textfsm` (parsers module): the index and
 * the templates that compiled, at the synced commit. Stored in the database so every node loads
 * the same library without the syncing node's mirror.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('parser_libraries')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('commit_sha', 'varchar(64)', (c) => c.notNull())
    .addColumn('source_path', 'varchar(1024)', (c) => c.notNull())
    .addColumn('index_text', 'text', (c) => c.notNull())
    .addColumn('templates', 'integer', (c) => c.notNull())
    .addColumn('skipped', t.json, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('parser_library_files')
    .addColumn('library_id', t.id, (c) => c.notNull().references('parser_libraries.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('parser_library_files_pk', ['library_id', 'name'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('parser_library_files').execute();
  await db.schema.dropTable('parser_libraries').execute();
}
