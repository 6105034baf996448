import type { Kysely } from 'kysely';

/**
 * Who a run acts for, re-checked when it executes: `initiator_kind` / `initiator_id` (the user
 * or API key that started it, or a schedule's owner) and `initiator_user_id` (the person behind
 * either, whose queued and running runs count against OPSDECK_RUN_MAX_ACTIVE_PER_USER).
 * `schedules.paused_reason`: why the scheduler disabled a schedule whose owner may no longer run it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job_runs').addColumn('initiator_kind', 'varchar(20)').execute();
  await db.schema.alterTable('job_runs').addColumn('initiator_id', 'varchar(100)').execute();
  await db.schema.alterTable('job_runs').addColumn('initiator_user_id', 'varchar(100)').execute();
  await db.schema.createIndex('job_runs_initiator_user_status_idx').on('job_runs').columns(['initiator_user_id', 'status']).execute();
  await db.schema.alterTable('schedules').addColumn('paused_reason', 'varchar(1000)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('schedules').dropColumn('paused_reason').execute();
  await db.schema.dropIndex('job_runs_initiator_user_status_idx').execute();
  await db.schema.alterTable('job_runs').dropColumn('initiator_user_id').execute();
  await db.schema.alterTable('job_runs').dropColumn('initiator_id').execute();
  await db.schema.alterTable('job_runs').dropColumn('initiator_kind').execute();
}
