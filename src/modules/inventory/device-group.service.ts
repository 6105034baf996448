import { Type, type Static } from 'typebox';
import { json } from '../../platform/db/columns.js';
import { NotFoundError, type AppError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { filterQuerySchema, parseFilters } from '../../platform/http/filters.js';
import type { RowOf } from './crud.repository.js';
import type { CrudService, ListQuery } from './crud.service.js';
import { deviceGroupSpec } from './device-group.repository.js';
import type { Device } from './device.schemas.js';
import { deviceDef } from './device.service.js';
import { CredentialRestricted, Description, Name, Nullable, Ref, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';
import { text, type ResourceDef, type WriteContext } from './resource.js';

/**
 * Device groups: static (listed members) or dynamic (a saved device-list filter evaluated each
 * time the group is used). Groups are what job runs, Ansible and templates target.
 */

const FilterValue = Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 });
const GroupFilter = Type.Record(Type.String({ maxLength: 100 }), FilterValue, {
  maxProperties: 50,
  description: 'device list filters, e.g. {"role": ["core"], "name__ic": ["lon"]}',
});
const Kind = Type.Union([Type.Literal('static'), Type.Literal('dynamic')]);

export const DeviceGroup = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    kind: Kind,
    filter: GroupFilter,
    description: Description,
    credential_profile_id: Nullable(Uuid),
    credential_restricted: CredentialRestricted,
    ...Stamps,
  },
  { additionalProperties: false },
);
export type DeviceGroup = Static<typeof DeviceGroup>;
export const DeviceGroupBodies = bodySchemas(
  { name: Name },
  {
    kind: Kind,
    filter: GroupFilter,
    devices: Type.Array(Ref, { maxItems: 10000, description: 'static members (replaces the list)' }),
    description: Description,
    credential_profile_id: Nullable(
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description: 'A credential profile for job runs that target this group, for devices with no credential of their own',
      }),
    ),
  },
);

// Keys a saved filter may use: the device list's filters plus its extra ones.
const FILTER_KEYS = new Set([...Object.keys(filterQuerySchema(deviceDef.filters)), 'q', 'tag', 'tag__n']);

/** Problems of a saved device-list filter, with paths under `filter.` (also used for job target selectors). */
export function deviceFilterErrors(filter: Record<string, unknown>): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.has(key) && !/^cf_[a-z][a-z0-9_]*$/.test(key)) errors.push({ path: `filter.${key}`, message: 'is not a device filter' });
  }
  try {
    parseFilters(filter, deviceDef.filters);
  } catch (err) {
    for (const e of (err as AppError).errors ?? []) errors.push({ path: e.path.replace(/^query\./, 'filter.'), message: e.message });
  }
  return errors;
}

function checkFilter(ctx: WriteContext, filter: Record<string, string[]>) {
  for (const e of deviceFilterErrors(filter)) ctx.error(e.path, e.message);
}

export const deviceGroupDef: ResourceDef<DeviceGroup, RowOf<typeof deviceGroupSpec>, string[]> = {
  kind: 'device_group',
  plural: 'device-groups',
  title: 'Device group',
  permission: 'device-groups',
  tag: 'device groups',
  repo: (r) => r.deviceGroups,
  schemas: { item: DeviceGroup, ...DeviceGroupBodies },
  filters: deviceGroupSpec.filters,
  sortFields: Object.keys(deviceGroupSpec.sort),
  unique: [{ field: 'name', column: 'name' }],
  async toDb(ctx, input, existing) {
    if (typeof input.name === 'string') {
      const name = input.name;
      await ctx.unique('name', name, existing?.id ?? null, () => ctx.holder(ctx.repos.deviceGroups, 'name', name));
    }
    const kind = (input.kind ?? existing?.kind ?? 'static') as string;
    const v: Record<string, unknown> = {};
    text(v, input, 'name', 'name');
    text(v, input, 'description', 'description', '');
    text(v, input, 'credential_profile_id', 'credentialProfileId');
    await ctx.credentialProfile(v, 'credential_profile_id');
    if (input.kind) v.kind = input.kind;
    if (input.filter) {
      if (kind === 'static') ctx.error('filter', 'a static group has members, not a filter');
      checkFilter(ctx, input.filter as Record<string, string[]>);
      v.filter = json.write(input.filter);
    }
    let members: string[] | undefined;
    if (Array.isArray(input.devices)) {
      if (kind === 'dynamic') ctx.error('devices', 'a dynamic group takes its members from its filter');
      members = [];
      for (const [i, ref] of input.devices.entries()) {
        const id = await ctx.ref('device', ref, `devices.${i}`);
        if (id && !members.includes(id)) members.push(id);
      }
    }
    if (existing && input.kind === 'static' && existing.kind === 'dynamic') v.filter = json.write({});
    return { values: existing ? v : { kind: 'static', filter: json.write({}), description: '', ...v }, pending: members };
  },
  async afterWrite(ctx, id, input, existing, members) {
    if (members) await ctx.repos.groupQueries.setMembers(id, members);
    else if (existing && input.kind === 'dynamic') await ctx.repos.groupQueries.setMembers(id, []);
  },
  toApi: (r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind as DeviceGroup['kind'],
    filter: json.read<Record<string, string[]>>(r.filter) ?? {},
    description: r.description,
    credential_profile_id: r.credentialProfileId,
    credential_restricted: false,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
};

/** Membership: listing a group's devices and resolving it to ids (job targets, Ansible). */
export function createDeviceGroupMembership(
  groups: CrudService<DeviceGroup>,
  devices: CrudService<Device>,
  repos: () => { groupQueries: { memberIds(id: string): Promise<string[]> } },
) {
  async function load(actor: Actor, id: string): Promise<DeviceGroup> {
    try {
      return await groups.get(actor, id);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError('DEVICE_GROUP_NOT_FOUND', `Device group ${id} does not exist`);
      throw err;
    }
  }
  return {
    /** The group's devices as a device list page (filters and paging of the request still apply). */
    async listDevices(actor: Actor, id: string, query: ListQuery) {
      const g = await load(actor, id);
      return devices.list(actor, g.kind === 'static' ? { ...query, group_id: [id] } : { ...g.filter, ...query });
    },
    async deviceIds(actor: Actor, id: string): Promise<string[]> {
      const g = await load(actor, id);
      if (g.kind === 'static') {
        requirePermission(actor, 'devices:read');
        return repos().groupQueries.memberIds(id);
      }
      return devices.matchingIds(actor, g.filter);
    },
  };
}
