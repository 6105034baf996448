import type { Db, Dialect } from '../../platform/db/database.js';
import { createCrudRepository, createRefRepository, type Row, type TableSpec } from './crud.repository.js';
import { coloredSpec, deviceTypeSpec, manufacturerSpec, platformSpec } from './catalog.repository.js';
import { createLocationTreeRepository, locationSpec } from './location.repository.js';
import { createDeviceRepository, deviceSpec } from './device.repository.js';
import { createInterfaceRepository, interfaceSpec } from './interface.repository.js';
import { createIpAddressRepository, ipAddressSpec } from './ip-address.repository.js';
import { createCustomFieldRepository, customFieldSpec } from './custom-field.repository.js';
import { createDeviceGroupRepository, deviceGroupSpec } from './device-group.repository.js';
import { createTopologyRepository, linkSpec } from './topology.repository.js';
import type { InventoryTables } from './inventory.tables.js';

/** Every inventory repository bound to one handle: the plain one, or a transaction (unit of work). */
export function makeInventoryRepos(handle: Db, dialect: Dialect) {
  const db = handle.withTables<InventoryTables>();
  const crud = <R extends Row>(spec: TableSpec<R>) => createCrudRepository(db, dialect, spec);
  return {
    /** The handle itself, for domain events and audit written in the same transaction. */
    db: handle,
    refs: createRefRepository(db),
    manufacturers: crud(manufacturerSpec),
    platforms: crud(platformSpec),
    roles: crud(coloredSpec('deviceRoles')),
    statuses: crud(coloredSpec('statuses')),
    tags: crud(coloredSpec('tags')),
    deviceTypes: crud(deviceTypeSpec),
    locations: crud(locationSpec),
    locationTree: createLocationTreeRepository(db),
    devices: crud(deviceSpec),
    deviceQueries: createDeviceRepository(db),
    interfaces: crud(interfaceSpec),
    interfaceQueries: createInterfaceRepository(db),
    ipAddresses: crud(ipAddressSpec),
    ipQueries: createIpAddressRepository(db),
    customFieldDefs: crud(customFieldSpec),
    customFields: createCustomFieldRepository(db),
    deviceGroups: crud(deviceGroupSpec),
    groupQueries: createDeviceGroupRepository(db),
    links: crud(linkSpec),
    topologyQueries: createTopologyRepository(db),
  };
}

export type InventoryRepos = ReturnType<typeof makeInventoryRepos>;
