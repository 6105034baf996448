import { Type, type Static } from 'typebox';
import { json } from '../../platform/db/columns.js';
import type { RowOf } from './crud.repository.js';
import { Brief, CredentialRestricted, CustomFieldValues, Description, Name, Nullable, Ref, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';
import { locationSpec } from './location.repository.js';
import { joinedRef, text, type ResourceDef } from './resource.js';

/** Locations: a tree of any depth (region → site → building → room); cycles are refused. */

const MAX_DEPTH = 32;
const LocationType = Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9_-]+$', description: 'region, site, building, floor, room …' });

export const Location = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    location_type: Type.String({ maxLength: 50 }),
    parent: Nullable(Brief),
    description: Description,
    custom_fields: CustomFieldValues,
    credential_profile_id: Nullable(Uuid),
    credential_restricted: CredentialRestricted,
    ...Stamps,
  },
  { additionalProperties: false },
);
export type Location = Static<typeof Location>;
const ProfileId = Nullable(
  Type.String({ format: 'uuid', maxLength: 36, description: 'A credential profile for job runs on devices here (and below) with no credential of their own' }),
);
export const LocationBodies = bodySchemas(
  { name: Name },
  { location_type: LocationType, parent: Nullable(Ref), description: Description, custom_fields: CustomFieldValues, credential_profile_id: ProfileId },
);

export const locationDef: ResourceDef<Location, RowOf<typeof locationSpec>> = {
  kind: 'location',
  plural: 'locations',
  title: 'Location',
  permission: 'locations',
  tag: 'locations',
  repo: (r) => r.locations,
  schemas: { item: Location, ...LocationBodies },
  filters: locationSpec.filters,
  sortFields: Object.keys(locationSpec.sort),
  unique: [{ field: 'name', column: 'name' }],
  async toDb(ctx, input, existing) {
    const v: Record<string, unknown> = {};
    if (typeof input.name === 'string') {
      const name = input.name;
      await ctx.unique('name', name, existing?.id ?? null, () => ctx.holder(ctx.repos.locations, 'name', name));
    }
    text(v, input, 'name', 'name');
    text(v, input, 'location_type', 'locationType', '');
    text(v, input, 'description', 'description', '');
    text(v, input, 'credential_profile_id', 'credentialProfileId');
    await ctx.credentialProfile(v, 'credential_profile_id');
    const parent = await ctx.ref('location', input.parent, 'parent');
    if (parent !== undefined) {
      v.parentId = parent;
      if (parent && existing) await checkNoCycle(ctx, existing.id, parent);
    }
    const cf = await ctx.customFields('location', input.custom_fields, existing ? json.read(existing.customFields) : null);
    if (cf !== undefined) v.customFields = cf;
    return { values: existing ? v : { locationType: 'site', description: '', ...v } };
  },
  selfRef: { kind: 'location', field: 'name' },
  async beforeDelete(ctx, rows) {
    const ids = rows.map((r) => r.id);
    const parents = await ctx.repos.locationTree.hasChildren(ids);
    const used = await ctx.repos.locationTree.usedByDevices(ids);
    for (const r of rows) {
      if (parents.has(r.id)) ctx.conflicts.push({ path: 'id', message: `location '${String(r.name)}' has child locations; move or delete them first` });
      if (used.has(r.id)) ctx.conflicts.push({ path: 'id', message: `location '${String(r.name)}' still has devices` });
    }
  },
  toApi: (r) => ({
    id: r.id,
    name: r.name,
    location_type: r.locationType,
    parent: joinedRef(r.parentId, r.parentName),
    description: r.description,
    custom_fields: json.read<Record<string, unknown>>(r.customFields) ?? {},
    credential_profile_id: r.credentialProfileId,
    credential_restricted: false,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
};

/** Walks up from the new parent: reaching the location itself means the move would make a cycle. */
async function checkNoCycle(ctx: Parameters<ResourceDef['toDb']>[0], selfId: string, parentId: string): Promise<void> {
  let cursor: string | null | undefined = parentId;
  for (let depth = 0; cursor; depth++) {
    if (cursor === selfId) return ctx.error('parent', 'would make a cycle: the parent is this location or one of its descendants');
    if (depth >= MAX_DEPTH) return ctx.error('parent', `locations nest at most ${MAX_DEPTH} deep`);
    cursor = await ctx.repos.locationTree.parentOf(cursor);
  }
}
