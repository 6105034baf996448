import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Team scoping for job templates and runs (`team_id`, null = shared; docs/architecture.md
 * "Team scoping") and the user agent on audit records. (Which audit entries a reader sees is
 * decided when listing, from the team of the resource each entry is about: audit.service.ts#visible.)
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('job_templates').addColumn('team_id', t.id).execute();
  await db.schema.createIndex('job_templates_team_idx').on('job_templates').column('team_id').execute();
  await db.schema.alterTable('job_runs').addColumn('team_id', t.id).execute();
  await db.schema.createIndex('job_runs_team_idx').on('job_runs').column('team_id').execute();
  await db.schema.alterTable('audit_log').addColumn('user_agent', 'varchar(256)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_log').dropColumn('user_agent').execute();
  await db.schema.dropIndex('job_runs_team_idx').execute();
  await db.schema.alterTable('job_runs').dropColumn('team_id').execute();
  await db.schema.dropIndex('job_templates_team_idx').execute();
  await db.schema.alterTable('job_templates').dropColumn('team_id').execute();
}
