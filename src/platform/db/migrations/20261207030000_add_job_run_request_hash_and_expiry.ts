import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * `request_hash`: the fingerprint of the request that created a run under an Idempotency-Key, so
 * a reuse of the key with another body is refused instead of answered with the first run.
 * `expires_at`: a run still queued at that time ends `expired` instead of running late.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('job_runs').addColumn('request_hash', 'varchar(64)').execute();
  await db.schema.alterTable('job_runs').addColumn('expires_at', t.timestamp).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job_runs').dropColumn('expires_at').execute();
  await db.schema.alterTable('job_runs').dropColumn('request_hash').execute();
}
