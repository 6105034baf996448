import { isUuid } from '../../platform/ids.js';
import { sql } from 'kysely';
import type { Dialect } from '../../platform/db/database.js';
import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import type { InventoryDb } from './inventory.tables.js';

export const DEVICE_SOURCES = ['manual', 'discovery', 'nautobot', 'netbox'] as const;
const CF_FILTER = /^cf_([a-z][a-z0-9_]{0,49})$/;

/** Text of one custom field (`custom_fields->>'name'`), the same on both dialects for strings, numbers and booleans. */
function customFieldText(dialect: Dialect, name: string) {
  return dialect === 'postgres'
    ? sql<string>`devices.custom_fields ->> ${name}`
    : sql<string>`(case json_type(devices.custom_fields, ${`$.${name}`}) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(devices.custom_fields, ${`$.${name}`}) as text) end)`;
}

export const deviceSpec = tableSpec({
  table: 'devices',
  query: (db: InventoryDb) =>
    db
      .selectFrom('devices')
      .innerJoin('statuses', 'statuses.id', 'devices.statusId')
      .leftJoin('platforms', 'platforms.id', 'devices.platformId')
      .leftJoin('deviceRoles', 'deviceRoles.id', 'devices.roleId')
      .leftJoin('locations', 'locations.id', 'devices.locationId')
      .leftJoin('deviceTypes', 'deviceTypes.id', 'devices.deviceTypeId')
      .leftJoin('manufacturers', 'manufacturers.id', 'deviceTypes.manufacturerId')
      .select([
        'devices.id',
        'devices.name',
        'devices.hostname',
        'devices.primaryIp4',
        'devices.primaryIp6',
        'devices.platformId',
        'platforms.name as platformName',
        'platforms.networkDriver',
        'devices.roleId',
        'deviceRoles.name as roleName',
        'devices.locationId',
        'locations.name as locationName',
        'devices.statusId',
        'statuses.name as statusName',
        'statuses.color as statusColor',
        'devices.deviceTypeId',
        'deviceTypes.model as deviceTypeModel',
        'deviceTypes.manufacturerId',
        'manufacturers.name as manufacturerName',
        'devices.serial',
        'devices.assetTag',
        'devices.osVersion',
        'devices.credentialId',
        'devices.credentialProfileId',
        'devices.comments',
        'devices.customFields',
        'devices.source',
        'devices.externalId',
        'devices.createdAt',
        'devices.updatedAt',
      ]),
  idColumn: 'devices.id',
  filters: {
    ...stampFilters('devices'),
    name: { type: 'string', column: 'devices.name' },
    hostname: { type: 'string', column: 'devices.hostname' },
    primary_ip4: { type: 'string', column: 'devices.primaryIp4' },
    primary_ip6: { type: 'string', column: 'devices.primaryIp6' },
    serial: { type: 'string', column: 'devices.serial' },
    asset_tag: { type: 'string', column: 'devices.assetTag' },
    os_version: { type: 'string', column: 'devices.osVersion' },
    comments: { type: 'string', column: 'devices.comments' },
    source: { type: 'enum', column: 'devices.source', values: DEVICE_SOURCES },
    external_id: { type: 'string', column: 'devices.externalId' },
    credential_id: { type: 'uuid', column: 'devices.credentialId' },
    credential_profile_id: { type: 'uuid', column: 'devices.credentialProfileId' },
    platform: { type: 'string', column: 'platforms.name' },
    platform_id: { type: 'uuid', column: 'devices.platformId' },
    network_driver: { type: 'string', column: 'platforms.networkDriver' },
    role: { type: 'string', column: 'deviceRoles.name' },
    role_id: { type: 'uuid', column: 'devices.roleId' },
    location: { type: 'string', column: 'locations.name' },
    location_id: { type: 'uuid', column: 'devices.locationId' },
    status: { type: 'string', column: 'statuses.name' },
    status_id: { type: 'uuid', column: 'devices.statusId' },
    device_type: { type: 'string', column: 'deviceTypes.model' },
    device_type_id: { type: 'uuid', column: 'devices.deviceTypeId' },
    manufacturer: { type: 'string', column: 'manufacturers.name' },
  },
  sort: {
    name: 'devices.name',
    hostname: 'devices.hostname',
    primary_ip4: 'devices.primaryIp4',
    serial: 'devices.serial',
    asset_tag: 'devices.assetTag',
    os_version: 'devices.osVersion',
    created_at: 'devices.createdAt',
    updated_at: 'devices.updatedAt',
    platform: 'platforms.name',
    role: 'deviceRoles.name',
    location: 'locations.name',
    status: 'statuses.name',
  },
  sortRowKey: { platform: 'platformName', role: 'roleName', location: 'locationName', status: 'statusName' },
  notNullSort: ['name', 'created_at', 'updated_at', 'status'],
  defaultSort: 'name',
  search: ['devices.name', 'devices.hostname', 'devices.serial', 'devices.assetTag', 'devices.primaryIp4'],
  extraFilters(qb, query, dialect) {
    let q = qb;
    const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
    const tags = list(query.tag);
    if (tags.length > 0) {
      // A device matches when it has any of the tags (OR), like every other multi-value filter.
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('device_tags as dt')
            .innerJoin('tags as t', 't.id', 'dt.tagId')
            .select(sql`1`.as('one'))
            .whereRef('dt.deviceId', '=', 'devices.id')
            .where('t.name', 'in', tags),
        ),
      );
    }
    const notTags = list(query.tag__n);
    if (notTags.length > 0) {
      q = q.where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('device_tags as dt')
              .innerJoin('tags as t', 't.id', 'dt.tagId')
              .select(sql`1`.as('one'))
              .whereRef('dt.deviceId', '=', 'devices.id')
              .where('t.name', 'in', notTags),
          ),
        ),
      );
    }
    const groups = list(query.group_id);
    if (groups.length > 0) {
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('device_group_members as gm')
            .select(sql`1`.as('one'))
            .whereRef('gm.deviceId', '=', 'devices.id')
            .where('gm.groupId', 'in', groups),
        ),
      );
    }
    for (const [key, raw] of Object.entries(query)) {
      const m = CF_FILTER.exec(key);
      if (!m || raw === undefined) continue;
      q = q.where(customFieldText(dialect, m[1]!), 'in', list(raw));
    }
    return q;
  },
});

/** Device-only queries: tags, lookups by external id, the rows Ansible and job targets need. */
export function createDeviceRepository(db: InventoryDb) {
  return {
    async tagNames(deviceIds: readonly string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      for (let i = 0; i < deviceIds.length; i += 900) {
        const rows = await db
          .selectFrom('deviceTags')
          .innerJoin('tags', 'tags.id', 'deviceTags.tagId')
          .select(['deviceTags.deviceId', 'tags.name'])
          .where('deviceTags.deviceId', 'in', deviceIds.slice(i, i + 900))
          .orderBy('tags.name')
          .execute();
        for (const r of rows) out.set(r.deviceId, [...(out.get(r.deviceId) ?? []), r.name]);
      }
      return out;
    },
    async setTags(deviceId: string, tagIds: readonly string[], replace: boolean): Promise<void> {
      if (replace) await db.deleteFrom('deviceTags').where('deviceId', '=', deviceId).execute();
      if (tagIds.length > 0) {
        await db
          .insertInto('deviceTags')
          .values(tagIds.map((tagId) => ({ deviceId, tagId })))
          .execute();
      }
    },
    /** A device by id or name, with its location; a non-UUID id finds nothing (PostgreSQL would refuse to compare it). */
    async locationOf(ref: { deviceId: string } | { name: string }): Promise<{ id: string; locationId: string | null } | undefined> {
      if ('deviceId' in ref && !isUuid(ref.deviceId)) return undefined;
      const q = db.selectFrom('devices').select(['id', 'locationId']);
      return ('deviceId' in ref ? q.where('id', '=', ref.deviceId) : q.where('name', '=', ref.name)).executeTakeFirst();
    },
    async byExternalId(source: string, externalId: string): Promise<string | undefined> {
      return (await db.selectFrom('devices').select('id').where('source', '=', source).where('externalId', '=', externalId).executeTakeFirst())?.id;
    },
  };
}
