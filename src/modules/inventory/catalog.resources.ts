import type { Row, RowOf } from './crud.repository.js';
import { joinedRef, text, type ResourceDef, type WriteContext } from './resource.js';
import { ColoredBodies, ColoredObject, DeviceType, DeviceTypeBodies, Manufacturer, ManufacturerBodies, Platform, PlatformBodies } from './catalog.schemas.js';
import { coloredSpec, type ColoredRow, deviceTypeSpec, manufacturerSpec, platformSpec } from './catalog.repository.js';
import type { InventoryRepos } from './inventory.repos.js';

/** Reference data definitions. Deleting one still in use is refused (409) by the foreign keys. */

const stamps = (r: { createdAt: string; updatedAt: string }) => ({ created_at: r.createdAt, updated_at: r.updatedAt });

async function uniqueName(
  ctx: WriteContext,
  repo: ReturnType<ResourceDef['repo']>,
  input: Record<string, unknown>,
  existing: Row | null,
  field = 'name',
  column = 'name',
) {
  const v = input[field];
  if (typeof v === 'string') await ctx.unique(field, v, existing?.id ?? null, () => ctx.holder(repo, column, v));
}

const filterNames = (spec: { filters: object }) => spec.filters as ResourceDef['filters'];

export const manufacturerDef: ResourceDef<Manufacturer, RowOf<typeof manufacturerSpec>> = {
  kind: 'manufacturer',
  plural: 'manufacturers',
  title: 'Manufacturer',
  permission: 'inventory',
  tag: 'inventory: reference data',
  repo: (r: InventoryRepos) => r.manufacturers,
  schemas: { item: Manufacturer, ...ManufacturerBodies },
  filters: filterNames(manufacturerSpec),
  sortFields: Object.keys(manufacturerSpec.sort),
  unique: [{ field: 'name', column: 'name' }],
  async toDb(ctx, input, existing) {
    await uniqueName(ctx, ctx.repos.manufacturers, input, existing);
    const v: Record<string, unknown> = {};
    text(v, input, 'name', 'name');
    text(v, input, 'description', 'description', '');
    return { values: existing ? v : { description: '', ...v } };
  },
  toApi: (r) => ({ id: r.id, name: r.name, description: r.description, ...stamps(r) }),
};

export const platformDef: ResourceDef<Platform, RowOf<typeof platformSpec>> = {
  kind: 'platform',
  plural: 'platforms',
  title: 'Platform',
  permission: 'inventory',
  tag: 'inventory: reference data',
  repo: (r) => r.platforms,
  schemas: { item: Platform, ...PlatformBodies },
  filters: filterNames(platformSpec),
  sortFields: Object.keys(platformSpec.sort),
  unique: [{ field: 'name', column: 'name' }],
  async toDb(ctx, input, existing) {
    await uniqueName(ctx, ctx.repos.platforms, input, existing);
    const v: Record<string, unknown> = {};
    text(v, input, 'name', 'name');
    text(v, input, 'network_driver', 'networkDriver', '');
    text(v, input, 'description', 'description', '');
    const m = await ctx.ref('manufacturer', input.manufacturer, 'manufacturer');
    if (m !== undefined) v.manufacturerId = m;
    return { values: existing ? v : { networkDriver: '', description: '', ...v } };
  },
  toApi: (r) => ({
    id: r.id,
    name: r.name,
    manufacturer: joinedRef(r.manufacturerId, r.manufacturerName),
    network_driver: r.networkDriver,
    description: r.description,
    ...stamps(r),
  }),
};

function coloredDef(
  kind: 'device_role' | 'status' | 'tag',
  plural: string,
  title: string,
  key: 'roles' | 'statuses' | 'tags',
): ResourceDef<ColoredObject, ColoredRow> {
  const spec = coloredSpec(key === 'roles' ? 'deviceRoles' : key);
  return {
    kind,
    plural,
    title,
    permission: 'inventory',
    tag: 'inventory: reference data',
    repo: (r) => r[key],
    schemas: { item: ColoredObject, ...ColoredBodies },
    filters: filterNames(spec),
    sortFields: Object.keys(spec.sort),
    unique: [{ field: 'name', column: 'name' }],
    async toDb(ctx, input, existing) {
      await uniqueName(ctx, ctx.repos[key], input, existing);
      const v: Record<string, unknown> = {};
      text(v, input, 'name', 'name');
      text(v, input, 'description', 'description', '');
      if (typeof input.color === 'string') v.color = input.color.toLowerCase();
      return { values: existing ? v : { color: '9e9e9e', description: '', ...v } };
    },
    toApi: (r) => ({ id: r.id, name: r.name, color: r.color, description: r.description, ...stamps(r) }),
  };
}

export const roleDef = coloredDef('device_role', 'device-roles', 'Device role', 'roles');
export const statusDef = coloredDef('status', 'statuses', 'Status', 'statuses');
export const tagDef = coloredDef('tag', 'tags', 'Tag', 'tags');

export const deviceTypeDef: ResourceDef<DeviceType, RowOf<typeof deviceTypeSpec>> = {
  kind: 'device_type',
  plural: 'device-types',
  title: 'Device type',
  permission: 'inventory',
  tag: 'inventory: reference data',
  repo: (r) => r.deviceTypes,
  schemas: { item: DeviceType, ...DeviceTypeBodies },
  filters: filterNames(deviceTypeSpec),
  sortFields: Object.keys(deviceTypeSpec.sort),
  unique: [{ field: 'model', column: 'model' }],
  async toDb(ctx, input, existing) {
    await uniqueName(ctx, ctx.repos.deviceTypes, input, existing, 'model', 'model');
    const v: Record<string, unknown> = {};
    text(v, input, 'model', 'model');
    text(v, input, 'part_number', 'partNumber', '');
    text(v, input, 'description', 'description', '');
    if (typeof input.u_height === 'number') v.uHeight = input.u_height;
    const m = await ctx.ref('manufacturer', input.manufacturer, 'manufacturer');
    if (m !== undefined) v.manufacturerId = m;
    return { values: existing ? v : { partNumber: '', description: '', uHeight: 1, ...v } };
  },
  toApi: (r) => ({
    id: r.id,
    model: r.model,
    manufacturer: joinedRef(r.manufacturerId, r.manufacturerName),
    part_number: r.partNumber,
    u_height: Number(r.uHeight),
    description: r.description,
    ...stamps(r),
  }),
};
