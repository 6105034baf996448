import type { FilterFields } from '../../platform/http/filters.js';
import { tableSpec, type RowOf } from './crud.repository.js';
import type { InventoryDb } from './inventory.tables.js';

/** Table specs of the reference data (the repository half of catalog.resources.ts). */

export const stampFilters = (table: string): FilterFields => ({
  id: { type: 'uuid', column: `${table}.id` },
  created_at: { type: 'date', column: `${table}.createdAt` },
  updated_at: { type: 'date', column: `${table}.updatedAt` },
});

const named = (table: string): FilterFields => ({
  ...stampFilters(table),
  name: { type: 'string', column: `${table}.name` },
  description: { type: 'string', column: `${table}.description` },
});

const namedSort = (table: string) => ({ name: `${table}.name`, created_at: `${table}.createdAt`, updated_at: `${table}.updatedAt` });
const NOT_NULL = ['name', 'model', 'created_at', 'updated_at'] as const;

export const manufacturerSpec = tableSpec({
  table: 'manufacturers',
  query: (db: InventoryDb) =>
    db
      .selectFrom('manufacturers')
      .select(['manufacturers.id', 'manufacturers.name', 'manufacturers.description', 'manufacturers.createdAt', 'manufacturers.updatedAt']),
  idColumn: 'manufacturers.id',
  filters: named('manufacturers'),
  sort: namedSort('manufacturers'),
  notNullSort: NOT_NULL,
  defaultSort: 'name',
  search: ['manufacturers.name', 'manufacturers.description'],
});

export const platformSpec = tableSpec({
  table: 'platforms',
  query: (db: InventoryDb) =>
    db
      .selectFrom('platforms')
      .leftJoin('manufacturers', 'manufacturers.id', 'platforms.manufacturerId')
      .select([
        'platforms.id',
        'platforms.name',
        'platforms.networkDriver',
        'platforms.description',
        'platforms.manufacturerId',
        'manufacturers.name as manufacturerName',
        'platforms.createdAt',
        'platforms.updatedAt',
      ]),
  idColumn: 'platforms.id',
  filters: {
    ...named('platforms'),
    network_driver: { type: 'string', column: 'platforms.networkDriver' },
    manufacturer: { type: 'string', column: 'manufacturers.name' },
    manufacturer_id: { type: 'uuid', column: 'platforms.manufacturerId' },
  },
  sort: { ...namedSort('platforms'), network_driver: 'platforms.networkDriver' },
  notNullSort: [...NOT_NULL, 'network_driver'],
  defaultSort: 'name',
  search: ['platforms.name', 'platforms.networkDriver', 'platforms.description'],
});

/** Roles, statuses and tags: name + colour. */
export function coloredSpec(table: 'deviceRoles' | 'statuses' | 'tags') {
  return tableSpec({
    table,
    // NOTE: the three tables have the same columns; typed as one, unqualified (the query joins nothing).
    query: (db: InventoryDb) => db.selectFrom(table as 'tags').select(['id', 'name', 'color', 'description', 'createdAt', 'updatedAt']),
    idColumn: `${table}.id`,
    filters: { ...named(table), color: { type: 'string', column: `${table}.color` } },
    sort: namedSort(table),
    notNullSort: NOT_NULL,
    defaultSort: 'name',
    search: [`${table}.name`, `${table}.description`],
  });
}

export type ColoredRow = RowOf<ReturnType<typeof coloredSpec>>;

export const deviceTypeSpec = tableSpec({
  table: 'deviceTypes',
  query: (db: InventoryDb) =>
    db
      .selectFrom('deviceTypes')
      .leftJoin('manufacturers', 'manufacturers.id', 'deviceTypes.manufacturerId')
      .select([
        'deviceTypes.id',
        'deviceTypes.model',
        'deviceTypes.partNumber',
        'deviceTypes.uHeight',
        'deviceTypes.description',
        'deviceTypes.manufacturerId',
        'manufacturers.name as manufacturerName',
        'deviceTypes.createdAt',
        'deviceTypes.updatedAt',
      ]),
  idColumn: 'deviceTypes.id',
  filters: {
    ...stampFilters('deviceTypes'),
    model: { type: 'string', column: 'deviceTypes.model' },
    part_number: { type: 'string', column: 'deviceTypes.partNumber' },
    u_height: { type: 'number', column: 'deviceTypes.uHeight', integer: 'int32' },
    description: { type: 'string', column: 'deviceTypes.description' },
    manufacturer: { type: 'string', column: 'manufacturers.name' },
    manufacturer_id: { type: 'uuid', column: 'deviceTypes.manufacturerId' },
  },
  sort: { model: 'deviceTypes.model', created_at: 'deviceTypes.createdAt', updated_at: 'deviceTypes.updatedAt' },
  notNullSort: NOT_NULL,
  defaultSort: 'model',
  search: ['deviceTypes.model', 'deviceTypes.partNumber', 'deviceTypes.description'],
});
