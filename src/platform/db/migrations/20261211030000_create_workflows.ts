import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Workflows (the current definition), their immutable versions (one per save), executions (with a
 * lease for the engine that drives them) and one row per node of an execution.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('workflows')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('folder', 'varchar(200)', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('graph', 'text', (c) => c.notNull())
    .addColumn('input_schema', 'text', (c) => c.notNull())
    .addColumn('trigger_events', 'text', (c) => c.notNull())
    .addColumn('webhook_token_hash', 'varchar(64)', (c) => c.unique())
    .addColumn('owner_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflows_folder_idx').on('workflows').column('folder').execute();
  await db.schema.createIndex('workflows_team_idx').on('workflows').column('team_id').execute();

  await db.schema
    .createTable('workflow_versions')
    .addColumn('workflow_id', t.id, (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('graph', 'text', (c) => c.notNull())
    .addColumn('input_schema', 'text', (c) => c.notNull())
    .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_versions_pk', ['workflow_id', 'version'])
    .execute();

  await db.schema
    .createTable('workflow_executions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('workflow_id', t.id, (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('trigger_kind', 'varchar(20)', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('retry_of', t.id)
    .addColumn('error', 'text')
    .addColumn('cancel_requested', t.bool, (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(200)')
    .addColumn('lease_until', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('started_at', t.timestamp)
    .addColumn('finished_at', t.timestamp)
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflow_executions_workflow_idx').on('workflow_executions').columns(['workflow_id', 'created_at']).execute();
  await db.schema.createIndex('workflow_executions_status_idx').on('workflow_executions').columns(['status', 'lease_until']).execute();
  await db.schema.createIndex('workflow_executions_retry_of_idx').on('workflow_executions').column('retry_of').execute();

  await db.schema
    .createTable('workflow_node_runs')
    .addColumn('execution_id', t.id, (c) => c.notNull().references('workflow_executions.id').onDelete('cascade'))
    .addColumn('node_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('type', 'varchar(50)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('port', 'varchar(100)')
    .addColumn('input', 'text')
    .addColumn('output', 'text')
    .addColumn('error', 'text')
    .addColumn('job_run_id', t.id)
    // An approval node's decision: {"decision":"approved"|"rejected","by","at","comment"}.
    .addColumn('decision', 'text')
    .addColumn('started_at', t.timestamp)
    .addColumn('finished_at', t.timestamp)
    .addPrimaryKeyConstraint('workflow_node_runs_pk', ['execution_id', 'node_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['workflow_node_runs', 'workflow_executions', 'workflow_versions', 'workflows']) await db.schema.dropTable(table).execute();
}
