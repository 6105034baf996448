import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import type { InventoryDb } from './inventory.tables.js';

export const deviceGroupSpec = tableSpec({
  table: 'deviceGroups',
  query: (db: InventoryDb) =>
    db
      .selectFrom('deviceGroups')
      .select([
        'deviceGroups.id',
        'deviceGroups.name',
        'deviceGroups.kind',
        'deviceGroups.filter',
        'deviceGroups.description',
        'deviceGroups.credentialProfileId',
        'deviceGroups.createdAt',
        'deviceGroups.updatedAt',
      ]),
  idColumn: 'deviceGroups.id',
  filters: {
    ...stampFilters('deviceGroups'),
    name: { type: 'string', column: 'deviceGroups.name' },
    kind: { type: 'enum', column: 'deviceGroups.kind', values: ['static', 'dynamic'] },
    description: { type: 'string', column: 'deviceGroups.description' },
  },
  sort: { name: 'deviceGroups.name', created_at: 'deviceGroups.createdAt', updated_at: 'deviceGroups.updatedAt' },
  notNullSort: ['name', 'created_at', 'updated_at'],
  defaultSort: 'name',
  search: ['deviceGroups.name', 'deviceGroups.description'],
});

export function createDeviceGroupRepository(db: InventoryDb) {
  return {
    async setMembers(groupId: string, deviceIds: readonly string[]): Promise<void> {
      await db.deleteFrom('deviceGroupMembers').where('groupId', '=', groupId).execute();
      for (let i = 0; i < deviceIds.length; i += 400) {
        await db
          .insertInto('deviceGroupMembers')
          .values(deviceIds.slice(i, i + 400).map((deviceId) => ({ groupId, deviceId })))
          .execute();
      }
    },
    async memberIds(groupId: string): Promise<string[]> {
      return (await db.selectFrom('deviceGroupMembers').select('deviceId').where('groupId', '=', groupId).execute()).map((r) => r.deviceId);
    },
    /** Static memberships of the given devices: device id → group names (Ansible groups). */
    async staticGroupsOf(): Promise<{ deviceId: string; groupName: string }[]> {
      return db
        .selectFrom('deviceGroupMembers')
        .innerJoin('deviceGroups', 'deviceGroups.id', 'deviceGroupMembers.groupId')
        .select(['deviceGroupMembers.deviceId', 'deviceGroups.name as groupName'])
        .execute();
    },
  };
}
