import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** The vault credential (api_token) holding a repository's webhook secret. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('git_repositories').addColumn('webhook_credential_id', t.id).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('git_repositories').dropColumn('webhook_credential_id').execute();
}
