import { tableSpec } from './crud.repository.js';
import { stampFilters } from './catalog.repository.js';
import { IP_STATUSES } from './ip-address.schemas.js';
import type { InventoryDb } from './inventory.tables.js';

export const ipAddressSpec = tableSpec({
  table: 'ipAddresses',
  query: (db: InventoryDb) =>
    db
      .selectFrom('ipAddresses')
      .leftJoin('interfaces', 'interfaces.id', 'ipAddresses.interfaceId')
      .leftJoin('devices', 'devices.id', 'interfaces.deviceId')
      .select([
        'ipAddresses.id',
        'ipAddresses.address',
        'ipAddresses.host',
        'ipAddresses.prefixLength',
        'ipAddresses.family',
        'ipAddresses.namespace',
        'ipAddresses.interfaceId',
        'interfaces.name as interfaceName',
        'interfaces.deviceId',
        'devices.name as deviceName',
        'ipAddresses.status',
        'ipAddresses.dnsName',
        'ipAddresses.description',
        'ipAddresses.customFields',
        'ipAddresses.createdAt',
        'ipAddresses.updatedAt',
      ]),
  idColumn: 'ipAddresses.id',
  filters: {
    ...stampFilters('ipAddresses'),
    address: { type: 'string', column: 'ipAddresses.address' },
    host: { type: 'string', column: 'ipAddresses.host' },
    prefix_length: { type: 'number', column: 'ipAddresses.prefixLength', integer: 'int32' },
    family: { type: 'number', column: 'ipAddresses.family', integer: 'int32' },
    namespace: { type: 'string', column: 'ipAddresses.namespace' },
    status: { type: 'enum', column: 'ipAddresses.status', values: IP_STATUSES },
    dns_name: { type: 'string', column: 'ipAddresses.dnsName' },
    description: { type: 'string', column: 'ipAddresses.description' },
    interface_id: { type: 'uuid', column: 'ipAddresses.interfaceId' },
    device: { type: 'string', column: 'devices.name' },
    device_id: { type: 'uuid', column: 'interfaces.deviceId' },
  },
  sort: {
    host: 'ipAddresses.host',
    namespace: 'ipAddresses.namespace',
    dns_name: 'ipAddresses.dnsName',
    created_at: 'ipAddresses.createdAt',
    updated_at: 'ipAddresses.updatedAt',
  },
  notNullSort: ['host', 'namespace', 'dns_name', 'created_at', 'updated_at'],
  defaultSort: 'host',
  search: ['ipAddresses.address', 'ipAddresses.dnsName', 'ipAddresses.description'],
});

export function createIpAddressRepository(db: InventoryDb) {
  return {
    async byNamespaceHost(namespace: string, host: string): Promise<string | undefined> {
      return (await db.selectFrom('ipAddresses').select('id').where('namespace', '=', namespace).where('host', '=', host).executeTakeFirst())?.id;
    },
    /** Devices whose primary address is the host (the other way an address is "in use"). */
    async devicesWithPrimary(host: string): Promise<{ id: string; name: string }[]> {
      return db
        .selectFrom('devices')
        .select(['id', 'name'])
        .where((eb) => eb.or([eb('primaryIp4', '=', host), eb('primaryIp6', '=', host)]))
        .orderBy('name')
        .execute();
    },
  };
}
