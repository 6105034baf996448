import { sql, type Kysely } from 'kysely';

/**
 * The worker's sweep looks for queued runs past their `expires_at` every half lease; few runs
 * have a deadline, so a partial index on it keeps that lookup off the queue's size
 * (`expires_at <= x` implies `expires_at is not null` on both dialects).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('job_runs_expires_at_idx').on('job_runs').column('expires_at').where(sql.ref('expires_at'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('job_runs_expires_at_idx').execute();
}
