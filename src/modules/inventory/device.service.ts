import { json } from '../../platform/db/columns.js';
import type { RowOf } from './crud.repository.js';
import { deviceSpec } from './device.repository.js';
import { Device, DeviceBodies } from './device.schemas.js';
import { interfaceDef } from './interface.service.js';
import { ipAddressDef } from './ip-address.service.js';
import { normaliseHost } from './ip.fns.js';
import { groupRows, joinedRef, text, type ResourceDef, type WriteContext } from './resource.js';

/** Devices: validation of addresses and references, tags, custom fields, includes. */

async function address(
  ctx: WriteContext,
  v: Record<string, unknown>,
  input: Record<string, unknown>,
  field: 'primary_ip4' | 'primary_ip6',
  column: string,
  family: 4 | 6,
) {
  if (!(field in input)) return;
  const raw = input[field];
  if (raw === null || raw === '') return void (v[column] = null);
  const h = normaliseHost(String(raw), family);
  if (typeof h === 'string') ctx.error(field, h);
  else v[column] = h.host;
}

/** Resolves the references; answers the tag ids to write once the row exists (undefined: tags unchanged). */
async function references(
  ctx: WriteContext,
  v: Record<string, unknown>,
  input: Record<string, unknown>,
  existing: DeviceRow | null,
): Promise<string[] | undefined> {
  for (const [field, kind, column] of [
    ['platform', 'platform', 'platformId'],
    ['role', 'role', 'roleId'],
    ['location', 'location', 'locationId'],
    ['device_type', 'device_type', 'deviceTypeId'],
  ] as const) {
    const id = await ctx.ref(kind, input[field], field);
    if (id !== undefined) v[column] = id;
  }
  const status = input.status ?? (existing ? undefined : 'active');
  if (status === null) ctx.error('status', 'a device always has a status');
  const statusId = await ctx.ref('status', status, 'status');
  if (statusId) v.statusId = statusId;
  if (Array.isArray(input.tags)) {
    const ids: string[] = [];
    for (const [i, tag] of input.tags.entries()) {
      const id = await ctx.ref('tag', tag, `tags.${i}`);
      if (id && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }
  return undefined;
}

async function uniques(ctx: WriteContext, input: Record<string, unknown>, existing: DeviceRow | null) {
  const self = existing?.id ?? null;
  const devices = ctx.repos.devices;
  if (typeof input.name === 'string') {
    const name = input.name;
    await ctx.unique('name', name, self, () => ctx.holder(devices, 'name', name));
  }
  if (typeof input.asset_tag === 'string' && input.asset_tag !== '') {
    const tag = input.asset_tag;
    await ctx.unique('asset_tag', tag, self, () => ctx.holder(devices, 'assetTag', tag));
  }
  const externalId = input.external_id ?? (input.source !== undefined ? existing?.externalId : undefined);
  if (typeof externalId === 'string' && externalId !== '') {
    const source = String(input.source ?? existing?.source ?? 'manual');
    await ctx.unique('external_id', `${source}:${externalId}`, self, () => ctx.repos.deviceQueries.byExternalId(source, externalId));
  }
}

type DeviceRow = RowOf<typeof deviceSpec>;

export const deviceDef: ResourceDef<Device, DeviceRow, string[]> = {
  kind: 'device',
  plural: 'devices',
  title: 'Device',
  permission: 'devices',
  tag: 'devices',
  repo: (r) => r.devices,
  schemas: { item: Device, ...DeviceBodies },
  filters: deviceSpec.filters,
  sortFields: Object.keys(deviceSpec.sort),
  unique: [
    { field: 'name', column: 'name' },
    { field: 'asset_tag', column: 'assetTag' },
  ],
  async toDb(ctx, input, existing) {
    const v: Record<string, unknown> = {};
    await uniques(ctx, input, existing);
    text(v, input, 'name', 'name');
    text(v, input, 'hostname', 'hostname');
    for (const [field, column] of [
      ['serial', 'serial'],
      ['asset_tag', 'assetTag'],
      ['os_version', 'osVersion'],
      ['credential_id', 'credentialId'],
      ['credential_profile_id', 'credentialProfileId'],
      ['external_id', 'externalId'],
      ['source', 'source'],
    ] as const) {
      text(v, input, field, column);
    }
    text(v, input, 'comments', 'comments', '');
    if (typeof v.credentialId === 'string') {
      v.credentialId = v.credentialId.toLowerCase();
      await ctx.credential(v.credentialId as string, 'credential_id');
    }
    await ctx.credentialProfile(v, 'credential_profile_id');
    await address(ctx, v, input, 'primary_ip4', 'primaryIp4', 4);
    await address(ctx, v, input, 'primary_ip6', 'primaryIp6', 6);
    const tags = await references(ctx, v, input, existing);
    const cf = await ctx.customFields('device', input.custom_fields, existing ? json.read(existing.customFields) : null);
    if (cf !== undefined) v.customFields = cf;
    return { values: existing ? v : { comments: '', source: 'manual', ...v }, pending: tags };
  },
  async afterWrite(ctx, id, _input, existing, tags) {
    if (tags) await ctx.repos.deviceQueries.setTags(id, tags, existing !== null);
  },
  toApi: (r) => ({
    id: r.id,
    name: r.name,
    hostname: r.hostname,
    primary_ip4: r.primaryIp4,
    primary_ip6: r.primaryIp6,
    platform:
      r.platformId && r.platformName !== null && r.networkDriver !== null ? { id: r.platformId, name: r.platformName, network_driver: r.networkDriver } : null,
    role: joinedRef(r.roleId, r.roleName),
    location: joinedRef(r.locationId, r.locationName),
    status: { id: r.statusId, name: r.statusName, color: r.statusColor },
    device_type:
      r.deviceTypeId && r.deviceTypeModel !== null
        ? {
            id: r.deviceTypeId,
            model: r.deviceTypeModel,
            manufacturer: joinedRef(r.manufacturerId, r.manufacturerName),
          }
        : null,
    serial: r.serial,
    asset_tag: r.assetTag,
    os_version: r.osVersion,
    credential_id: r.credentialId,
    credential_profile_id: r.credentialProfileId,
    credential_restricted: false,
    comments: r.comments,
    tags: [],
    custom_fields: json.read<Record<string, unknown>>(r.customFields) ?? {},
    source: r.source as Device['source'],
    external_id: r.externalId,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
  async decorate(repos, items, fields) {
    if (items.length === 0 || (fields && !fields.has('tags'))) return;
    const tags = await repos.deviceQueries.tagNames(items.map((d) => d.id));
    for (const d of items) d.tags = tags.get(d.id) ?? [];
  },
  includes: {
    async interfaces(repos, items) {
      const rows = await repos.interfaces.byColumn(
        'interfaces.deviceId',
        items.map((d) => d.id),
      );
      const byDevice = groupRows(rows, 'deviceId', interfaceDef.toApi);
      for (const d of items) d.interfaces = byDevice.get(d.id) ?? [];
    },
    async ip_addresses(repos, items) {
      const rows = await repos.ipAddresses.byColumn(
        'interfaces.deviceId',
        items.map((d) => d.id),
      );
      const byDevice = groupRows(rows, 'deviceId', ipAddressDef.toApi);
      for (const d of items) d.ip_addresses = byDevice.get(d.id) ?? [];
    },
  },
};
