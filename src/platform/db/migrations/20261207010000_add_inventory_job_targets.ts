import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Jobs run on the inventory: each run target records what selected it (`selector`), the device's
 * name and platform driver at resolution time, and which credential (by id, never value) served
 * it and from where (`credential_source`). Devices, locations and device groups may name a
 * credential profile, tried when a run gives no credential of its own.
 */
const PROFILE_TABLES = ['devices', 'locations', 'device_groups'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('job_run_targets').addColumn('device_name', 'varchar(200)').execute();
  await db.schema.alterTable('job_run_targets').addColumn('network_driver', 'varchar(100)').execute();
  await db.schema.alterTable('job_run_targets').addColumn('selector', 'varchar(300)').execute();
  await db.schema.alterTable('job_run_targets').addColumn('credential_id', 'varchar(100)').execute();
  await db.schema.alterTable('job_run_targets').addColumn('credential_profile_id', 'varchar(100)').execute();
  await db.schema.alterTable('job_run_targets').addColumn('credential_source', 'varchar(30)').execute();
  for (const table of PROFILE_TABLES) {
    await db.schema.alterTable(table).addColumn('credential_profile_id', t.id).execute();
    await db.schema.createIndex(`${table}_credential_profile_idx`).on(table).column('credential_profile_id').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of PROFILE_TABLES) {
    await db.schema.dropIndex(`${table}_credential_profile_idx`).execute();
    await db.schema.alterTable(table).dropColumn('credential_profile_id').execute();
  }
  for (const column of ['credential_source', 'credential_profile_id', 'credential_id', 'selector', 'network_driver', 'device_name']) {
    await db.schema.alterTable('job_run_targets').dropColumn(column).execute();
  }
}
