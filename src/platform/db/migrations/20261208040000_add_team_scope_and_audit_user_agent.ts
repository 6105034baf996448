import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Team scoping for job templates and runs (`team_id`, null = shared; docs/architecture.md
 * "Team scoping"), the user agent on audit records, and the audit's own team (`team_id` of the
 * resource an entry is about, so an audit reader outside that team does not see it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('job_templates').addColumn('team_id', t.id).execute();
  await db.schema.createIndex('job_templates_team_idx').on('job_templates').column('team_id').execute();
  await db.schema.alterTable('job_runs').addColumn('team_id', t.id).execute();
  await db.schema.createIndex('job_runs_team_idx').on('job_runs').column('team_id').execute();
  await db.schema.alterTable('audit_log').addColumn('user_agent', 'varchar(256)').execute();
  await db.schema.alterTable('audit_log').addColumn('team_id', t.id).execute();
  await db.schema.createIndex('audit_log_team_idx').on('audit_log').column('team_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_log_team_idx').execute();
  await db.schema.alterTable('audit_log').dropColumn('team_id').execute();
  await db.schema.alterTable('audit_log').dropColumn('user_agent').execute();
  await db.schema.dropIndex('job_runs_team_idx').execute();
  await db.schema.alterTable('job_runs').dropColumn('team_id').execute();
  await db.schema.dropIndex('job_templates_team_idx').execute();
  await db.schema.alterTable('job_templates').dropColumn('team_id').execute();
}
