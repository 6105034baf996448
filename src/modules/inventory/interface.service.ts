import { bool, json } from '../../platform/db/columns.js';
import type { RowOf } from './crud.repository.js';
import { interfaceSpec } from './interface.repository.js';
import { Interface, InterfaceBodies } from './interface.schemas.js';
import { ipAddressDef } from './ip-address.service.js';
import { normaliseMac } from './ip.fns.js';
import { groupRows, joinedRef, text, type ResourceDef, type WriteContext } from './resource.js';

/** Interfaces: unique name per device; parent and LAG must be on the same device. */

async function related(ctx: WriteContext, v: Record<string, unknown>, input: Record<string, unknown>, deviceId: string | undefined, selfId: string | null) {
  for (const field of ['parent', 'lag'] as const) {
    if (!(field in input)) continue;
    const ref = input[field];
    if (ref === null) {
      v[`${field}Id`] = null;
      continue;
    }
    const other = await ctx.repos.interfaceQueries.brief(String(ref).toLowerCase());
    if (!other) ctx.error(field, `no interface ${String(ref)}`);
    else if (other.id === selfId) ctx.error(field, 'an interface cannot be its own parent or LAG');
    else if (deviceId && other.deviceId !== deviceId) ctx.error(field, 'must be an interface of the same device');
    else if (field === 'lag' && other.type !== 'lag') ctx.error(field, "must be an interface of type 'lag'");
    else v[`${field}Id`] = other.id;
  }
}

export const interfaceDef: ResourceDef<Interface, RowOf<typeof interfaceSpec>> = {
  kind: 'interface',
  plural: 'interfaces',
  title: 'Interface',
  permission: 'devices',
  tag: 'devices',
  repo: (r) => r.interfaces,
  schemas: { item: Interface, ...InterfaceBodies },
  filters: interfaceSpec.filters,
  sortFields: Object.keys(interfaceSpec.sort),
  unique: [],
  async toDb(ctx, input, existing) {
    const v: Record<string, unknown> = {};
    const deviceRef = await ctx.ref('device', input.device, 'device');
    if (deviceRef) v.deviceId = deviceRef;
    const deviceId = deviceRef ?? existing?.deviceId;
    const name = (input.name as string | undefined) ?? existing?.name;
    if (deviceId && name && ('name' in input || 'device' in input)) {
      await ctx.unique('name', `${deviceId}/${name}`, existing?.id ?? null, () => ctx.repos.interfaceQueries.byDeviceAndName(deviceId, name));
    }
    text(v, input, 'name', 'name');
    text(v, input, 'type', 'type', '');
    text(v, input, 'description', 'description', '');
    if (typeof input.enabled === 'boolean') v.enabled = bool.write(input.enabled);
    for (const f of ['mtu', 'speed'] as const) if (f in input) v[f] = input[f] ?? null;
    if ('mac_address' in input) {
      const raw = input.mac_address;
      const mac = raw === null || raw === '' ? null : normaliseMac(String(raw));
      if (raw && !mac) ctx.error('mac_address', `'${String(raw).slice(0, 40)}' is not a MAC address`);
      v.macAddress = mac;
    }
    await related(ctx, v, input, deviceId, existing?.id ?? null);
    const cf = await ctx.customFields('interface', input.custom_fields, existing ? json.read(existing.customFields) : null);
    if (cf !== undefined) v.customFields = cf;
    return { values: existing ? v : { type: 'other', enabled: 1, description: '', ...v } };
  },
  toApi: (r) => ({
    id: r.id,
    device: { id: r.deviceId, name: r.deviceName },
    name: r.name,
    type: r.type,
    enabled: bool.read(r.enabled),
    mac_address: r.macAddress,
    mtu: r.mtu === null || r.mtu === undefined ? null : Number(r.mtu),
    speed: r.speed === null || r.speed === undefined ? null : Number(r.speed),
    description: r.description,
    parent: joinedRef(r.parentId, r.parentName),
    lag: joinedRef(r.lagId, r.lagName),
    custom_fields: json.read<Record<string, unknown>>(r.customFields) ?? {},
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
  includes: {
    async ip_addresses(repos, items) {
      const rows = await repos.ipAddresses.byColumn(
        'ipAddresses.interfaceId',
        items.map((i) => i.id),
      );
      const byIf = groupRows(rows, 'interfaceId', ipAddressDef.toApi);
      for (const it of items) it.ip_addresses = byIf.get(it.id) ?? [];
    },
  },
};
