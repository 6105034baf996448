import { bool, json } from '../../platform/db/columns.js';
import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import type { CustomFieldDef, CustomFieldType, CustomFieldValidation } from './custom-field.fns.js';
import type { InventoryDb } from './inventory.tables.js';
import { ObjectTypes, type ObjectType } from './inventory.schemas.js';

export const customFieldSpec = tableSpec({
  table: 'customFieldDefinitions',
  query: (db: InventoryDb) =>
    db
      .selectFrom('customFieldDefinitions')
      .select([
        'customFieldDefinitions.id',
        'customFieldDefinitions.objectType',
        'customFieldDefinitions.name',
        'customFieldDefinitions.label',
        'customFieldDefinitions.type',
        'customFieldDefinitions.required',
        'customFieldDefinitions.defaultValue',
        'customFieldDefinitions.validation',
        'customFieldDefinitions.description',
        'customFieldDefinitions.createdAt',
        'customFieldDefinitions.updatedAt',
      ]),
  idColumn: 'customFieldDefinitions.id',
  filters: {
    ...stampFilters('customFieldDefinitions'),
    object_type: { type: 'enum', column: 'customFieldDefinitions.objectType', values: ObjectTypes },
    name: { type: 'string', column: 'customFieldDefinitions.name' },
    label: { type: 'string', column: 'customFieldDefinitions.label' },
    type: { type: 'string', column: 'customFieldDefinitions.type' },
    required: { type: 'bool', column: 'customFieldDefinitions.required' },
  },
  sort: { name: 'customFieldDefinitions.name', object_type: 'customFieldDefinitions.objectType', created_at: 'customFieldDefinitions.createdAt' },
  notNullSort: ['name', 'object_type', 'created_at'],
  defaultSort: 'object_type,name',
  search: ['customFieldDefinitions.name', 'customFieldDefinitions.label', 'customFieldDefinitions.description'],
});

export function createCustomFieldRepository(db: InventoryDb) {
  return {
    /** The definitions that apply to an object type, in name order. */
    async definitions(objectType: ObjectType): Promise<CustomFieldDef[]> {
      const rows = await db
        .selectFrom('customFieldDefinitions')
        .select(['name', 'type', 'required', 'defaultValue', 'validation'])
        .where('objectType', '=', objectType)
        .orderBy('name')
        .execute();
      return rows.map((r) => ({
        name: r.name,
        type: r.type as CustomFieldType,
        required: bool.read(r.required),
        default: r.defaultValue === null ? null : (json.read<{ value?: unknown }>(r.defaultValue).value ?? null),
        validation: json.read<CustomFieldValidation>(r.validation) ?? {},
      }));
    },
    async byObjectTypeAndName(objectType: string, name: string): Promise<string | undefined> {
      return (await db.selectFrom('customFieldDefinitions').select('id').where('objectType', '=', objectType).where('name', '=', name).executeTakeFirst())?.id;
    },
  };
}
