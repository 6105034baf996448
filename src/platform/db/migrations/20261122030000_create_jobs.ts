import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('job_templates')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(2000)')
    .addColumn('type', 'varchar(50)', (c) => c.notNull())
    .addColumn('params', t.json, (c) => c.notNull())
    .addColumn('targets', t.json, (c) => c.notNull())
    .addColumn('credential_id', 'varchar(100)')
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('target_timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('target_concurrency', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('backoff_ms', 'integer', (c) => c.notNull())
    .addColumn('tags', t.json, (c) => c.notNull())
    .addColumn('folder', 'varchar(200)')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('job_runs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('type', 'varchar(50)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('params', t.json, (c) => c.notNull())
    .addColumn('targets', t.json, (c) => c.notNull())
    .addColumn('credential_id', 'varchar(100)')
    .addColumn('template_id', t.id, (c) => c.references('job_templates.id').onDelete('set null'))
    .addColumn('retry_of', t.id)
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('target_timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('target_concurrency', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('backoff_ms', 'integer', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('changes_devices', t.bool, (c) => c.notNull())
    .addColumn('trigger_kind', 'varchar(20)', (c) => c.notNull())
    .addColumn('triggered_by', 'varchar(100)')
    .addColumn('idempotency_key', 'varchar(300)', (c) => c.unique())
    .addColumn('not_before', t.timestamp)
    .addColumn('blocked_by', 'varchar(200)')
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('lease_expires_at', t.timestamp)
    .addColumn('worker_id', 'varchar(200)')
    .addColumn('cancel_requested', t.bool, (c) => c.notNull())
    .addColumn('reason', 'varchar(2000)')
    .addColumn('output', t.json)
    .addColumn('log_next_seq', 'integer', (c) => c.notNull())
    .addColumn('log_dropped', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('started_at', t.timestamp)
    .addColumn('finished_at', t.timestamp)
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_runs_status_idx').on('job_runs').columns(['status', 'priority', 'id']).execute();
  await db.schema.createIndex('job_runs_template_idx').on('job_runs').columns(['template_id', 'finished_at']).execute();
  await db.schema.createIndex('job_runs_lease_idx').on('job_runs').columns(['lease_expires_at']).execute();
  await db.schema.createIndex('job_runs_retry_of_idx').on('job_runs').column('retry_of').execute();

  await db.schema
    .createTable('job_run_targets')
    .addColumn('run_id', t.id, (c) => c.notNull().references('job_runs.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('host', 'varchar(300)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(100)')
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', t.timestamp)
    .addColumn('finished_at', t.timestamp)
    .addColumn('duration_ms', 'integer')
    .addColumn('output', 'text')
    .addColumn('parsed', t.json)
    .addColumn('error', 'varchar(4000)')
    .addPrimaryKeyConstraint('job_run_targets_pk', ['run_id', 'idx'])
    .execute();

  await db.schema
    .createTable('job_logs')
    .addColumn('run_id', t.id, (c) => c.notNull().references('job_runs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('ts', t.timestamp, (c) => c.notNull())
    .addColumn('level', 'varchar(10)', (c) => c.notNull())
    .addColumn('target', 'varchar(300)')
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_logs_pk', ['run_id', 'seq'])
    .execute();

  // One row per held session slot: (device, slot) is unique, so at most N sessions per device.
  await db.schema
    .createTable('job_device_locks')
    .addColumn('device_key', 'varchar(300)', (c) => c.notNull())
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('run_id', t.id, (c) => c.notNull())
    .addColumn('target_idx', 'integer', (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('job_device_locks_pk', ['device_key', 'slot'])
    .execute();
  await db.schema.createIndex('job_device_locks_run_idx').on('job_device_locks').column('run_id').execute();

  await db.schema
    .createTable('job_workers')
    .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('hostname', 'varchar(255)', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('started_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_workers').execute();
  await db.schema.dropTable('job_device_locks').execute();
  await db.schema.dropTable('job_logs').execute();
  await db.schema.dropTable('job_run_targets').execute();
  await db.schema.dropTable('job_runs').execute();
  await db.schema.dropTable('job_templates').execute();
}
