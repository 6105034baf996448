import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/** Compliance rules over device configurations and the latest result per device and rule. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('config_compliance_rules')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(2000)', (c) => c.notNull())
    .addColumn('kind', 'varchar(20)', (c) => c.notNull())
    // Scope: inventory ids (no foreign keys: they belong to the inventory module); empty lists match every device.
    .addColumn('platform_ids', t.json, (c) => c.notNull())
    .addColumn('role_ids', t.json, (c) => c.notNull())
    .addColumn('location_ids', t.json, (c) => c.notNull())
    .addColumn('lines', t.json, (c) => c.notNull())
    .addColumn('parent', 'varchar(1000)')
    .addColumn('ordered', t.bool, (c) => c.notNull())
    .addColumn('pattern', 'varchar(1000)')
    .addColumn('severity', 'varchar(10)', (c) => c.notNull())
    .addColumn('active', t.bool, (c) => c.notNull())
    .addColumn('created_by', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('config_compliance_results')
    .addColumn('device_id', t.id, (c) => c.notNull())
    .addColumn('rule_id', t.id, (c) => c.notNull().references('config_compliance_rules.id').onDelete('cascade'))
    .addColumn('device_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('missing', t.json, (c) => c.notNull())
    .addColumn('extra', t.json, (c) => c.notNull())
    .addColumn('error', 'varchar(1000)')
    .addColumn('version_id', t.id, (c) => c.notNull())
    .addColumn('repository_id', t.id, (c) => c.notNull())
    .addColumn('commit_sha', 'varchar(64)', (c) => c.notNull())
    .addColumn('evaluated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('config_compliance_results_pk', ['device_id', 'rule_id'])
    .execute();
  await db.schema.createIndex('config_compliance_results_rule_idx').on('config_compliance_results').columns(['rule_id', 'status']).execute();
  await db.schema.createIndex('config_compliance_results_device_idx').on('config_compliance_results').columns(['device_name', 'device_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('config_compliance_results').execute();
  await db.schema.dropTable('config_compliance_rules').execute();
}
