import { Type, type TSchema, type TProperties } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { filterQuerySchema, type FilterFields } from '../../platform/http/filters.js';

/** Shared TypeBox pieces of the inventory API. */

/** A related object in a request body: its id, or its unique name. */
export const Ref = Type.String({ minLength: 1, maxLength: 200, description: 'id or unique name' });
export const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
export const Description = Type.String({ maxLength: 500 });
export const Color = Type.String({ pattern: '^[0-9a-fA-F]{6}$', maxLength: 6, description: 'RGB hex without #' });
export const CustomFieldValues = Type.Record(Type.String({ maxLength: 50 }), Type.Unknown(), {
  description: 'values for the custom fields defined for this object type',
  maxProperties: 100,
});

export const Brief = Type.Object({ id: Uuid, name: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
export const BriefColor = Type.Object(
  { id: Uuid, name: Type.String({ maxLength: 100 }), color: Type.String({ maxLength: 6 }) },
  { additionalProperties: false },
);

export const Stamps = { created_at: Timestamp, updated_at: Timestamp };

export const ObjectTypes = ['device', 'interface', 'ip_address', 'location'] as const;
export type ObjectType = (typeof ObjectTypes)[number];

/** Create, update and bulk bodies from one property list: `required` on create, everything optional on update. */
export function bodySchemas<R extends TProperties, O extends TProperties>(required: R, optional: O) {
  const opt = Object.fromEntries(Object.entries(optional).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof O]: ReturnType<typeof Type.Optional<O[K]>> };
  const allOpt = Object.fromEntries(Object.entries({ ...required, ...optional }).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof (R & O)]: ReturnType<typeof Type.Optional<(R & O)[K]>>;
  };
  const create = Type.Object({ ...required, ...opt }, { additionalProperties: false });
  const update = Type.Object(allOpt, { additionalProperties: false, minProperties: 1 });
  const bulkUpdateItem = Type.Object({ id: Uuid, ...allOpt }, { additionalProperties: false });
  return {
    create,
    update,
    bulkCreate: Type.Object({ items: Type.Array(create, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
    bulkUpdate: Type.Object({ items: Type.Array(bulkUpdateItem, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
  };
}

export const BulkDelete = Type.Object({ ids: Type.Array(Uuid, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });

/** The querystring of a list: paging, sort, search, field selection, includes and the filters. */
export function listQuerySchema(
  filters: FilterFields,
  sortFields: readonly string[],
  includes: readonly string[],
  extra: Record<string, TSchema> = {},
  patternProperties: Record<string, TSchema> | undefined = undefined,
) {
  return Type.Object(
    {
      ...PageQuery,
      sort: sortQuery(['id', ...sortFields]),
      q: Type.Optional(Type.String({ maxLength: 200, description: 'free-text search' })),
      fields: Type.Optional(Type.String({ maxLength: 1000, pattern: '^[a-z0-9_]+(,[a-z0-9_]+)*$', description: 'comma-separated fields to return' })),
      ...(includes.length > 0 ? { include: includeQuery(includes) } : {}),
      ...filterQuerySchema(filters),
      ...extra,
    },
    { additionalProperties: false, ...(patternProperties ? { patternProperties } : {}) },
  );
}

export function includeQuery(includes: readonly string[]) {
  return Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z0-9_]+(,[a-z0-9_]+)*$', description: `related objects to embed: ${includes.join(', ')}` }));
}

export const IncludeOnly = (includes: readonly string[]) =>
  Type.Object(includes.length > 0 ? { include: includeQuery(includes) } : {}, { additionalProperties: false });

export { Nullable, Uuid, Timestamp };

/** Set when a credential reference is hidden from the reader (docs/architecture.md "Team scoping"). */
export const CredentialRestricted = Type.Boolean({
  description: "true when credential_id or credential_profile_id names another team's object: the reference is hidden (null) from this reader",
});
