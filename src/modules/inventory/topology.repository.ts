import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import type { InventoryDb } from './inventory.tables.js';

export const linkSpec = tableSpec({
  table: 'topologyLinks',
  query: (db: InventoryDb) =>
    db
      .selectFrom('topologyLinks')
      .innerJoin('interfaces as ia', 'ia.id', 'topologyLinks.aInterfaceId')
      .innerJoin('devices as da', 'da.id', 'ia.deviceId')
      .innerJoin('interfaces as ib', 'ib.id', 'topologyLinks.bInterfaceId')
      .innerJoin('devices as db', 'db.id', 'ib.deviceId')
      .select([
        'topologyLinks.id',
        'topologyLinks.kind',
        'topologyLinks.description',
        'topologyLinks.aInterfaceId',
        'ia.name as aInterfaceName',
        'ia.deviceId as aDeviceId',
        'da.name as aDeviceName',
        'topologyLinks.bInterfaceId',
        'ib.name as bInterfaceName',
        'ib.deviceId as bDeviceId',
        'db.name as bDeviceName',
        'topologyLinks.createdAt',
        'topologyLinks.updatedAt',
      ]),
  idColumn: 'topologyLinks.id',
  filters: {
    ...stampFilters('topologyLinks'),
    kind: { type: 'enum', column: 'topologyLinks.kind', values: ['manual', 'lldp', 'cdp'] },
    description: { type: 'string', column: 'topologyLinks.description' },
    a_device: { type: 'string', column: 'da.name' },
    b_device: { type: 'string', column: 'db.name' },
    a_interface_id: { type: 'uuid', column: 'topologyLinks.aInterfaceId' },
    b_interface_id: { type: 'uuid', column: 'topologyLinks.bInterfaceId' },
  },
  sort: { created_at: 'topologyLinks.createdAt', updated_at: 'topologyLinks.updatedAt' },
  notNullSort: ['created_at', 'updated_at'],
  defaultSort: 'created_at',
  search: ['da.name', 'db.name', 'topologyLinks.description'],
  extraFilters(qb, query) {
    const devices = (Array.isArray(query.device) ? query.device : query.device === undefined ? [] : [query.device]).map(String);
    if (devices.length === 0) return qb;
    return qb.where((eb) => eb.or([eb('da.name', 'in', devices), eb('db.name', 'in', devices)]));
  },
});

export interface GraphDevice {
  id: string;
  name: string;
  primaryIp4: string | null;
  locationId: string | null;
  platformName: string | null;
  roleName: string | null;
  statusName: string;
}

export function createTopologyRepository(db: InventoryDb) {
  const deviceQuery = () =>
    db
      .selectFrom('devices')
      .innerJoin('statuses', 'statuses.id', 'devices.statusId')
      .leftJoin('platforms', 'platforms.id', 'devices.platformId')
      .leftJoin('deviceRoles', 'deviceRoles.id', 'devices.roleId')
      .select([
        'devices.id',
        'devices.name',
        'devices.primaryIp4',
        'devices.locationId',
        'platforms.name as platformName',
        'deviceRoles.name as roleName',
        'statuses.name as statusName',
      ]);
  return {
    async pairExists(a: string, b: string): Promise<string | undefined> {
      return (await db.selectFrom('topologyLinks').select('id').where('aInterfaceId', '=', a).where('bInterfaceId', '=', b).executeTakeFirst())?.id;
    },
    async devicesAt(locationIds: readonly string[]): Promise<GraphDevice[]> {
      if (locationIds.length === 0) return [];
      return deviceQuery().where('devices.locationId', 'in', locationIds).orderBy('devices.name').execute();
    },
    async devicesById(ids: readonly string[]): Promise<GraphDevice[]> {
      const out: GraphDevice[] = [];
      for (let i = 0; i < ids.length; i += 900) {
        out.push(
          ...(await deviceQuery()
            .where('devices.id', 'in', ids.slice(i, i + 900))
            .execute()),
        );
      }
      return out;
    },
    /** Links with at least one end on the devices (all links when `deviceIds` is null). */
    async links(deviceIds: readonly string[] | null) {
      let q = linkSpec.query(db);
      if (deviceIds) {
        if (deviceIds.length === 0) return [];
        q = q.where((eb) => eb.or([eb('ia.deviceId', 'in', deviceIds), eb('ib.deviceId', 'in', deviceIds)]));
      }
      return (await q.orderBy('topologyLinks.id').execute()) as {
        id: string;
        kind: string;
        aInterfaceId: string;
        aInterfaceName: string;
        aDeviceId: string;
        bInterfaceId: string;
        bInterfaceName: string;
        bDeviceId: string;
      }[];
    },
  };
}
