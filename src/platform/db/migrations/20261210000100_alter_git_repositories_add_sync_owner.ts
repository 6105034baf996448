import { sql, type Kysely } from 'kysely';

/**
 * Scheduled syncs act for the user who set the interval (`sync_owner_id`), re-checked at every
 * fire. Existing intervals are owned by the repository's creator.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('git_repositories').addColumn('sync_owner_id', 'varchar(100)').execute();
  await sql`update git_repositories set sync_owner_id = created_by where sync_interval_seconds is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('git_repositories').dropColumn('sync_owner_id').execute();
}
