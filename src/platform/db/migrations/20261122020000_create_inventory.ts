import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

// Default statuses, with fixed ids so every installation shares them.
const STATUSES: [string, string, string][] = [
  ['0192f0a0-0000-7000-8000-000000000001', 'active', '4caf50'],
  ['0192f0a0-0000-7000-8000-000000000002', 'planned', '03a9f4'],
  ['0192f0a0-0000-7000-8000-000000000003', 'staged', '2196f3'],
  ['0192f0a0-0000-7000-8000-000000000004', 'failed', 'f44336'],
  ['0192f0a0-0000-7000-8000-000000000005', 'offline', '9e9e9e'],
  ['0192f0a0-0000-7000-8000-000000000006', 'decommissioning', 'ffc107'],
  ['0192f0a0-0000-7000-8000-000000000007', 'inventory', '607d8b'],
];

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  const stamps = <T extends { addColumn: (...a: any[]) => T }>(b: T): T =>
    b.addColumn('created_at', t.timestamp, (c: any) => c.notNull()).addColumn('updated_at', t.timestamp, (c: any) => c.notNull());

  // Small reference tables: manufacturers, platforms, device roles, statuses, tags, device types.
  await stamps(
    db.schema
      .createTable('manufacturers')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo('')),
  ).execute();
  await stamps(
    db.schema
      .createTable('platforms')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
      .addColumn('manufacturer_id', t.id, (c) => c.references('manufacturers.id').onDelete('restrict'))
      .addColumn('network_driver', 'varchar(100)', (c) => c.notNull().defaultTo(''))
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo('')),
  ).execute();
  await db.schema.createIndex('platforms_manufacturer_idx').on('platforms').column('manufacturer_id').execute();
  for (const table of ['device_roles', 'statuses', 'tags']) {
    await stamps(
      db.schema
        .createTable(table)
        .addColumn('id', t.id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
        .addColumn('color', 'varchar(6)', (c) => c.notNull().defaultTo('9e9e9e'))
        .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo('')),
    ).execute();
  }
  await stamps(
    db.schema
      .createTable('device_types')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('model', 'varchar(100)', (c) => c.notNull().unique())
      .addColumn('manufacturer_id', t.id, (c) => c.references('manufacturers.id').onDelete('restrict'))
      .addColumn('part_number', 'varchar(100)', (c) => c.notNull().defaultTo(''))
      .addColumn('u_height', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo('')),
  ).execute();
  await db.schema.createIndex('device_types_manufacturer_idx').on('device_types').column('manufacturer_id').execute();

  await stamps(
    db.schema
      .createTable('locations')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
      .addColumn('location_type', 'varchar(50)', (c) => c.notNull().defaultTo('site'))
      .addColumn('parent_id', t.id, (c) => c.references('locations.id').onDelete('restrict'))
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo(''))
      .addColumn('custom_fields', t.json, (c) => c.notNull()),
  ).execute();
  await db.schema.createIndex('locations_parent_idx').on('locations').column('parent_id').execute();

  await stamps(
    db.schema
      .createTable('devices')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
      .addColumn('hostname', 'varchar(255)')
      .addColumn('primary_ip4', 'varchar(15)')
      .addColumn('primary_ip6', 'varchar(39)')
      .addColumn('platform_id', t.id, (c) => c.references('platforms.id').onDelete('restrict'))
      .addColumn('role_id', t.id, (c) => c.references('device_roles.id').onDelete('restrict'))
      .addColumn('location_id', t.id, (c) => c.references('locations.id').onDelete('restrict'))
      .addColumn('status_id', t.id, (c) => c.notNull().references('statuses.id').onDelete('restrict'))
      .addColumn('device_type_id', t.id, (c) => c.references('device_types.id').onDelete('restrict'))
      .addColumn('serial', 'varchar(100)')
      .addColumn('asset_tag', 'varchar(100)', (c) => c.unique())
      .addColumn('os_version', 'varchar(100)')
      .addColumn('credential_id', t.id)
      .addColumn('comments', 'varchar(10000)', (c) => c.notNull().defaultTo(''))
      .addColumn('custom_fields', t.json, (c) => c.notNull())
      .addColumn('source', 'varchar(20)', (c) => c.notNull().defaultTo('manual'))
      .addColumn('external_id', 'varchar(200)'),
  ).execute();
  // Foreign keys are the hot filters; (fk, name) serves both the filter and the default
  // name order, so a filtered page is an index range, not a sort of every match.
  for (const col of ['platform_id', 'role_id', 'location_id', 'status_id', 'device_type_id']) {
    await db.schema.createIndex(`devices_${col}_idx`).on('devices').columns([col, 'name']).execute();
  }
  for (const col of ['primary_ip4', 'primary_ip6', 'hostname', 'serial', 'credential_id']) {
    await db.schema.createIndex(`devices_${col}_idx`).on('devices').column(col).execute();
  }
  await db.schema.createIndex('devices_created_idx').on('devices').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('devices_updated_idx').on('devices').columns(['updated_at', 'id']).execute();
  await db.schema.createIndex('devices_external_uq').on('devices').columns(['source', 'external_id']).unique().execute();

  await db.schema
    .createTable('device_tags')
    .addColumn('device_id', t.id, (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('tag_id', t.id, (c) => c.notNull().references('tags.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('device_tags_pk', ['device_id', 'tag_id'])
    .execute();
  await db.schema.createIndex('device_tags_tag_idx').on('device_tags').columns(['tag_id', 'device_id']).execute();

  await stamps(
    db.schema
      .createTable('interfaces')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('device_id', t.id, (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('name', 'varchar(100)', (c) => c.notNull())
      .addColumn('type', 'varchar(50)', (c) => c.notNull().defaultTo('other'))
      .addColumn('enabled', t.bool, (c) => c.notNull().defaultTo(true))
      .addColumn('mac_address', 'varchar(17)')
      .addColumn('mtu', 'integer')
      .addColumn('speed', t.bigint)
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo(''))
      .addColumn('parent_id', t.id, (c) => c.references('interfaces.id').onDelete('set null'))
      .addColumn('lag_id', t.id, (c) => c.references('interfaces.id').onDelete('set null'))
      .addColumn('custom_fields', t.json, (c) => c.notNull())
      .addUniqueConstraint('interfaces_device_name_uq', ['device_id', 'name']),
  ).execute();
  for (const col of ['parent_id', 'lag_id', 'mac_address']) {
    await db.schema.createIndex(`interfaces_${col}_idx`).on('interfaces').column(col).execute();
  }

  await stamps(
    db.schema
      .createTable('ip_addresses')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('address', 'varchar(43)', (c) => c.notNull())
      .addColumn('host', 'varchar(39)', (c) => c.notNull())
      .addColumn('prefix_length', 'integer', (c) => c.notNull())
      .addColumn('family', 'integer', (c) => c.notNull())
      .addColumn('namespace', 'varchar(100)', (c) => c.notNull().defaultTo('Global'))
      .addColumn('interface_id', t.id, (c) => c.references('interfaces.id').onDelete('set null'))
      .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('active'))
      .addColumn('dns_name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo(''))
      .addColumn('custom_fields', t.json, (c) => c.notNull())
      .addUniqueConstraint('ip_addresses_namespace_host_uq', ['namespace', 'host']),
  ).execute();
  await db.schema.createIndex('ip_addresses_interface_idx').on('ip_addresses').column('interface_id').execute();
  await db.schema.createIndex('ip_addresses_host_idx').on('ip_addresses').column('host').execute();

  await stamps(
    db.schema
      .createTable('custom_field_definitions')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('object_type', 'varchar(30)', (c) => c.notNull())
      .addColumn('name', 'varchar(50)', (c) => c.notNull())
      .addColumn('label', 'varchar(100)', (c) => c.notNull().defaultTo(''))
      .addColumn('type', 'varchar(20)', (c) => c.notNull())
      .addColumn('required', t.bool, (c) => c.notNull().defaultTo(false))
      .addColumn('default_value', t.json)
      .addColumn('validation', t.json, (c) => c.notNull())
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo(''))
      .addUniqueConstraint('custom_field_definitions_uq', ['object_type', 'name']),
  ).execute();

  await stamps(
    db.schema
      .createTable('device_groups')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
      .addColumn('kind', 'varchar(10)', (c) => c.notNull())
      .addColumn('filter', t.json, (c) => c.notNull())
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo('')),
  ).execute();
  await db.schema
    .createTable('device_group_members')
    .addColumn('group_id', t.id, (c) => c.notNull().references('device_groups.id').onDelete('cascade'))
    .addColumn('device_id', t.id, (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('device_group_members_pk', ['group_id', 'device_id'])
    .execute();
  await db.schema.createIndex('device_group_members_device_idx').on('device_group_members').column('device_id').execute();

  // A link joins two interfaces; stored with a_interface_id < b_interface_id so a pair is unique in either order.
  await stamps(
    db.schema
      .createTable('topology_links')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('a_interface_id', t.id, (c) => c.notNull().references('interfaces.id').onDelete('cascade'))
      .addColumn('b_interface_id', t.id, (c) => c.notNull().references('interfaces.id').onDelete('cascade'))
      .addColumn('kind', 'varchar(10)', (c) => c.notNull().defaultTo('manual'))
      .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo(''))
      .addUniqueConstraint('topology_links_pair_uq', ['a_interface_id', 'b_interface_id']),
  ).execute();
  await db.schema.createIndex('topology_links_b_idx').on('topology_links').column('b_interface_id').execute();

  const now = '2026-11-22T02:00:00.000Z';
  await db
    .insertInto('statuses')
    .values(STATUSES.map(([id, name, color]) => ({ id, name, color, description: '', created_at: now, updated_at: now })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'topology_links',
    'device_group_members',
    'device_groups',
    'custom_field_definitions',
    'ip_addresses',
    'interfaces',
    'device_tags',
    'devices',
    'locations',
    'device_types',
    'tags',
    'statuses',
    'device_roles',
    'platforms',
    'manufacturers',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
