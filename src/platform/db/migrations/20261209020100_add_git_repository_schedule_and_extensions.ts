import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** When a repository's next scheduled sync is due (claimed by compare-and-set), and its own allowed file extensions. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('git_repositories').addColumn('next_sync_at', t.timestamp).execute();
  await db.schema.alterTable('git_repositories').addColumn('allowed_extensions', t.json).execute();
  await db.schema.createIndex('git_repositories_next_sync_idx').on('git_repositories').column('next_sync_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('git_repositories_next_sync_idx').execute();
  await db.schema.alterTable('git_repositories').dropColumn('allowed_extensions').execute();
  await db.schema.alterTable('git_repositories').dropColumn('next_sync_at').execute();
}
