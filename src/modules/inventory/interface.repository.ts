import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import type { InventoryDb } from './inventory.tables.js';

export const interfaceSpec = tableSpec({
  table: 'interfaces',
  query: (db: InventoryDb) =>
    db
      .selectFrom('interfaces')
      .innerJoin('devices', 'devices.id', 'interfaces.deviceId')
      .leftJoin('interfaces as parent', 'parent.id', 'interfaces.parentId')
      .leftJoin('interfaces as lag', 'lag.id', 'interfaces.lagId')
      .select([
        'interfaces.id',
        'interfaces.deviceId',
        'devices.name as deviceName',
        'interfaces.name',
        'interfaces.type',
        'interfaces.enabled',
        'interfaces.macAddress',
        'interfaces.mtu',
        'interfaces.speed',
        'interfaces.description',
        'interfaces.parentId',
        'parent.name as parentName',
        'interfaces.lagId',
        'lag.name as lagName',
        'interfaces.customFields',
        'interfaces.createdAt',
        'interfaces.updatedAt',
      ]),
  idColumn: 'interfaces.id',
  filters: {
    ...stampFilters('interfaces'),
    name: { type: 'string', column: 'interfaces.name' },
    type: { type: 'string', column: 'interfaces.type' },
    enabled: { type: 'bool', column: 'interfaces.enabled' },
    mac_address: { type: 'string', column: 'interfaces.macAddress' },
    mtu: { type: 'number', column: 'interfaces.mtu', integer: 'int32' },
    speed: { type: 'number', column: 'interfaces.speed', integer: 'int64' },
    description: { type: 'string', column: 'interfaces.description' },
    device: { type: 'string', column: 'devices.name' },
    device_id: { type: 'uuid', column: 'interfaces.deviceId' },
    parent_id: { type: 'uuid', column: 'interfaces.parentId' },
    lag_id: { type: 'uuid', column: 'interfaces.lagId' },
  },
  sort: {
    name: 'interfaces.name',
    type: 'interfaces.type',
    mtu: 'interfaces.mtu',
    speed: 'interfaces.speed',
    device: 'devices.name',
    created_at: 'interfaces.createdAt',
    updated_at: 'interfaces.updatedAt',
  },
  sortRowKey: { device: 'deviceName' },
  notNullSort: ['name', 'type', 'device', 'created_at', 'updated_at'],
  defaultSort: 'name',
  search: ['interfaces.name', 'interfaces.description', 'interfaces.macAddress'],
});

export function createInterfaceRepository(db: InventoryDb) {
  return {
    async byDeviceAndName(deviceId: string, name: string): Promise<string | undefined> {
      return (await db.selectFrom('interfaces').select('id').where('deviceId', '=', deviceId).where('name', '=', name).executeTakeFirst())?.id;
    },
    async brief(id: string): Promise<{ id: string; deviceId: string; type: string } | undefined> {
      return db.selectFrom('interfaces').select(['id', 'deviceId', 'type']).where('id', '=', id).executeTakeFirst();
    },
  };
}
