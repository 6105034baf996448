import { Type, type Static } from 'typebox';
import { bool, json } from '../../platform/db/columns.js';
import type { RowOf } from './crud.repository.js';
import { customFieldSpec } from './custom-field.repository.js';
import { CUSTOM_FIELD_TYPES, checkValue, type CustomFieldDef, type CustomFieldValidation } from './custom-field.fns.js';
import { Description, ObjectTypes, Stamps, Uuid, bodySchemas } from './inventory.schemas.js';
import type { ResourceDef, WriteContext } from './resource.js';
import { checkLinearRegex } from '../../platform/linear-regex.js';

/** Custom-field definitions per object type; their values are checked on every write of that type. */

const Validation = Type.Object(
  {
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    min_length: Type.Optional(Type.Integer({ minimum: 0, maximum: 4096 })),
    max_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
    regex: Type.Optional(Type.String({ maxLength: 500 })),
    choices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 200, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const ObjectTypeSchema = Type.Union(ObjectTypes.map((t) => Type.Literal(t)));
const FieldType = Type.Union(CUSTOM_FIELD_TYPES.map((t) => Type.Literal(t)));

export const CustomField = Type.Object(
  {
    id: Uuid,
    object_type: ObjectTypeSchema,
    name: Type.String({ maxLength: 50 }),
    label: Type.String({ maxLength: 100 }),
    type: FieldType,
    required: Type.Boolean(),
    default: Type.Unknown(),
    validation: Validation,
    description: Description,
    ...Stamps,
  },
  { additionalProperties: false },
);
export type CustomField = Static<typeof CustomField>;
export const CustomFieldBodies = bodySchemas(
  { object_type: ObjectTypeSchema, name: Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z][a-z0-9_]*$' }), type: FieldType },
  { label: Type.String({ maxLength: 100 }), required: Type.Boolean(), default: Type.Unknown(), validation: Validation, description: Description },
);

function checkDefinition(ctx: WriteContext, def: CustomFieldDef) {
  const v = def.validation;
  if (def.type === 'select' && !v.choices) ctx.error('validation.choices', 'a select field needs choices');
  if (v.regex !== undefined) {
    if (def.type !== 'string') ctx.error('validation.regex', 'only string fields take a regex');
    try {
      checkLinearRegex(v.regex);
    } catch (err) {
      ctx.error(
        'validation.regex',
        `is not a valid RE2 regular expression (no backreferences or lookaround): ${err instanceof Error ? err.message : 'invalid'}`,
      );
    }
  }
  if (v.min !== undefined && v.max !== undefined && v.min > v.max) ctx.error('validation.min', 'must not exceed max');
  if (def.default !== null && def.default !== undefined && !ctx.hasErrors()) {
    const problem = checkValue(def, def.default);
    if (problem) ctx.error('default', problem);
  }
}

// NOTE: defaults are stored wrapped ({"value": …}): a bare JSON string comes back from jsonb
// already decoded, and json.read cannot tell it from JSON text.
export function readDefault(stored: unknown): unknown {
  return stored === null || stored === undefined ? null : (json.read<{ value?: unknown }>(stored).value ?? null);
}

const IMMUTABLE = ['object_type', 'name', 'type'] as const;

export const customFieldDef: ResourceDef<CustomField, RowOf<typeof customFieldSpec>> = {
  kind: 'custom_field',
  plural: 'custom-fields',
  title: 'Custom field',
  permission: 'custom-fields',
  tag: 'custom fields',
  repo: (r) => r.customFieldDefs,
  schemas: { item: CustomField, ...CustomFieldBodies },
  filters: customFieldSpec.filters,
  sortFields: Object.keys(customFieldSpec.sort),
  unique: [],
  async toDb(ctx, input, existing) {
    if (existing) {
      for (const f of IMMUTABLE) {
        const stored = f === 'object_type' ? existing.objectType : existing[f];
        if (f in input && input[f] !== stored) ctx.error(f, 'cannot be changed; create a new custom field instead');
      }
    } else {
      const [objectType, name] = [String(input.object_type), String(input.name)];
      await ctx.unique('name', `${objectType}.${name}`, null, () => ctx.repos.customFields.byObjectTypeAndName(objectType, name));
    }
    const merged: CustomFieldDef = {
      name: String(input.name ?? existing?.name),
      type: (input.type ?? existing?.type) as CustomFieldDef['type'],
      required: Boolean(input.required ?? (existing ? bool.read(existing.required) : false)),
      default: 'default' in input ? input.default : readDefault(existing?.defaultValue),
      validation: (input.validation ?? (existing ? json.read(existing.validation) : {})) as CustomFieldValidation,
    };
    checkDefinition(ctx, merged);
    const v: Record<string, unknown> = {};
    if (!existing) Object.assign(v, { objectType: input.object_type, name: input.name, type: input.type, label: '', description: '' });
    if (typeof input.label === 'string') v.label = input.label;
    if (typeof input.description === 'string') v.description = input.description;
    if ('required' in input || !existing) v.required = bool.write(merged.required);
    if ('default' in input || !existing) {
      v.defaultValue = merged.default === null || merged.default === undefined ? null : json.write({ value: merged.default });
    }
    if ('validation' in input || !existing) v.validation = json.write(merged.validation);
    return { values: v };
  },
  toApi: (r) => ({
    id: r.id,
    object_type: r.objectType as CustomField['object_type'],
    name: r.name,
    label: r.label,
    type: r.type as CustomField['type'],
    required: bool.read(r.required),
    default: readDefault(r.defaultValue),
    validation: json.read<CustomField['validation']>(r.validation) ?? {},
    description: r.description,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
};
