import { sql, type Kysely } from 'kysely';

/**
 * Job runs' template, lease and retry indexes cover only the rows that have a value: most runs
 * are ad hoc, not retries, and hold no lease while queued or finished, so every new run paid for
 * three index entries no query reads (`col = x` and `col < x` imply `col is not null`, so both
 * PostgreSQL and SQLite still use these indexes for those lookups).
 */
const PARTIAL = [
  { name: 'job_runs_template_idx', columns: ['template_id', 'finished_at'], key: 'template_id' },
  { name: 'job_runs_lease_idx', columns: ['lease_expires_at'], key: 'lease_expires_at' },
  { name: 'job_runs_retry_of_idx', columns: ['retry_of'], key: 'retry_of' },
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  for (const index of PARTIAL) {
    await db.schema.dropIndex(index.name).execute();
    await db.schema
      .createIndex(index.name)
      .on('job_runs')
      .columns([...index.columns])
      .where(sql.ref(index.key), 'is not', null)
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of PARTIAL) {
    await db.schema.dropIndex(index.name).execute();
    await db.schema
      .createIndex(index.name)
      .on('job_runs')
      .columns([...index.columns])
      .execute();
  }
}
