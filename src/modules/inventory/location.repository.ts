import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import type { InventoryDb } from './inventory.tables.js';

export const locationSpec = tableSpec({
  table: 'locations',
  query: (db: InventoryDb) =>
    db
      .selectFrom('locations')
      .leftJoin('locations as parent', 'parent.id', 'locations.parentId')
      .select([
        'locations.id',
        'locations.name',
        'locations.locationType',
        'locations.parentId',
        'parent.name as parentName',
        'locations.description',
        'locations.customFields',
        'locations.credentialProfileId',
        'locations.createdAt',
        'locations.updatedAt',
      ]),
  idColumn: 'locations.id',
  filters: {
    ...stampFilters('locations'),
    name: { type: 'string', column: 'locations.name' },
    location_type: { type: 'string', column: 'locations.locationType' },
    description: { type: 'string', column: 'locations.description' },
    parent: { type: 'string', column: 'parent.name' },
    parent_id: { type: 'uuid', column: 'locations.parentId' },
  },
  sort: { name: 'locations.name', location_type: 'locations.locationType', created_at: 'locations.createdAt', updated_at: 'locations.updatedAt' },
  notNullSort: ['name', 'location_type', 'created_at', 'updated_at'],
  defaultSort: 'name',
  search: ['locations.name', 'locations.description'],
});

/** The location tree, which is small (thousands at most), read whole for walks. */
export function createLocationTreeRepository(db: InventoryDb) {
  return {
    async all(): Promise<{ id: string; name: string; parentId: string | null; locationType: string; credentialProfileId: string | null }[]> {
      return db.selectFrom('locations').select(['id', 'name', 'parentId', 'locationType', 'credentialProfileId']).orderBy('name').execute();
    },
    async parentOf(id: string): Promise<string | null | undefined> {
      return (await db.selectFrom('locations').select('parentId').where('id', '=', id).executeTakeFirst())?.parentId;
    },
    async hasChildren(ids: readonly string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('locations').select('parentId').where('parentId', 'in', ids).execute();
      return new Set(rows.map((r) => r.parentId!));
    },
    async usedByDevices(ids: readonly string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('devices').select('locationId').distinct().where('locationId', 'in', ids).execute();
      return new Set(rows.map((r) => r.locationId!));
    },
  };
}
