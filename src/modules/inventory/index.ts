import type { RoutePlugin } from '../../app.js';
import type { Db, Dialect } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import type { DomainEvents } from '../../platform/events/domain-events.js';
import type { Actor } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createCrudService } from './crud.service.js';
import { crudRoutes } from './crud.routes.js';
import { deviceTypeDef, manufacturerDef, platformDef, roleDef, statusDef, tagDef } from './catalog.resources.js';
import { locationDef } from './location.service.js';
import { deviceDef } from './device.service.js';
import { DeviceExtraQuery } from './device.schemas.js';
import { interfaceDef } from './interface.service.js';
import { createIpCheckService, ipAddressDef } from './ip-address.service.js';
import { customFieldDef } from './custom-field.service.js';
import { createDeviceGroupMembership, deviceGroupDef } from './device-group.service.js';
import { createTopologyService, LinkExtraQuery, linkDef } from './topology.service.js';
import { createImportExportService, type Importable } from './import-export.service.js';
import { createAnsibleService } from './ansible.service.js';
import { createTargetSelectors } from './target-selectors.service.js';
import { inventoryRoutes } from './inventory.routes.js';
import { makeInventoryRepos } from './inventory.repos.js';
import type { InventoryAudit, InventoryCore } from './inventory.core.js';
import { Type } from 'typebox';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { descendantsOf, pathOf } from './location.fns.js';

export type { TargetSelector, SelectedDevice, TargetSelectors } from './target-selectors.service.js';
export { SELECTOR_KINDS } from './target-selectors.service.js';
export type { InventoryAudit } from './inventory.core.js';
export type { Device } from './device.schemas.js';

export interface InventoryModuleDeps {
  db: Db;
  dialect: Dialect;
  events: Pick<DomainEvents, 'recordMany' | 'recordWrite' | 'relay'>;
  logger: Logger;
  /** Identity's audit log; mutations record into it in their own transaction when given. */
  audit?: InventoryAudit;
  /** Largest CSV/NDJSON import body (bytes). */
  importMaxBytes?: number;
  /** The credential vault: a device's `credential_id` must name a stored credential. */
  credentialExists?: (id: string, db: Db, actor: Actor) => Promise<boolean>;
  /** The vault: `credential_profile_id` of devices, locations and groups must name a stored profile. */
  profileExists?: (id: string, db: Db, actor: Actor) => Promise<boolean>;
  /** The vault: which referenced credentials/profiles are outside the actor's teams (redacted in views). */
  hiddenRefs?: InventoryCore['hiddenRefs'];
}

/** Every permission the inventory's routes and services use. */
export const INVENTORY_PERMISSIONS = [
  'devices:read',
  'devices:write',
  'locations:read',
  'locations:write',
  'ipam:read',
  'ipam:write',
  'inventory:read',
  'inventory:write',
  'custom-fields:read',
  'custom-fields:write',
  'device-groups:read',
  'device-groups:write',
  'topology:read',
  'topology:write',
  'inventory:import',
  'inventory:export',
] as const;

/** The inventory: devices, interfaces, addresses, locations, reference data, groups, topology. */
export function createInventoryModule(deps: InventoryModuleDeps) {
  const repos = makeInventoryRepos(deps.db, deps.dialect);
  const core: InventoryCore = {
    dialect: deps.dialect,
    repos,
    uow: createUnitOfWork(
      deps.db,
      (trx) => makeInventoryRepos(trx, deps.dialect),
      (err) => deps.logger.error({ err }, 'inventory after-commit step failed'),
    ),
    events: deps.events,
    audit: deps.audit,
    credentialExists: deps.credentialExists,
    profileExists: deps.profileExists,
    hiddenRefs: deps.hiddenRefs,
  };
  const crud = {
    manufacturers: createCrudService(manufacturerDef, core),
    platforms: createCrudService(platformDef, core),
    roles: createCrudService(roleDef, core),
    statuses: createCrudService(statusDef, core),
    tags: createCrudService(tagDef, core),
    deviceTypes: createCrudService(deviceTypeDef, core),
    locations: createCrudService(locationDef, core),
    devices: createCrudService(deviceDef, core),
    interfaces: createCrudService(interfaceDef, core),
    ipAddresses: createCrudService(ipAddressDef, core),
    customFields: createCrudService(customFieldDef, core),
    deviceGroups: createCrudService(deviceGroupDef, core),
    links: createCrudService(linkDef, core),
  };
  const membership = createDeviceGroupMembership(crud.deviceGroups, crud.devices, () => repos);
  const importables: Record<string, Importable> = {
    devices: { service: crud.devices as never, objectType: 'device', key: 'name' },
    locations: { service: crud.locations as never, objectType: 'location', key: 'name' },
    interfaces: { service: crud.interfaces as never, objectType: 'interface', key: null },
    'ip-addresses': { service: crud.ipAddresses as never, objectType: 'ip_address', key: null },
  };
  const services = {
    ...crud,
    membership,
    ipCheck: createIpCheckService(core),
    topology: createTopologyService(core),
    importExport: createImportExportService(core, importables),
    ansible: createAnsibleService(core, crud.devices, crud.deviceGroups, membership.deviceIds),
  };
  const cfFilter = { '^cf_[a-z][a-z0-9_]*$': Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 }) };
  const plugins: RoutePlugin[] = [
    ...Object.entries(crud).map(([key, service]) => ({
      prefix: '/api/v1',
      plugin: crudRoutes(
        service as never,
        key === 'devices' ? { extraQuery: DeviceExtraQuery, patternQuery: cfFilter } : key === 'links' ? { extraQuery: LinkExtraQuery } : {},
      ),
    })),
    { prefix: '/api/v1', plugin: inventoryRoutes(services, importables, deps.importMaxBytes ?? 256 * 1024 * 1024) },
  ];
  return {
    services,
    plugins,
    permissions: INVENTORY_PERMISSIONS as readonly string[],
    /** Job target selectors (devices, groups, locations, tags, roles, platforms, filters): check at creation, resolve at run time. */
    targetSelectors: createTargetSelectors({
      devices: crud.devices,
      deviceGroups: crud.deviceGroups,
      locations: crud.locations,
      tags: crud.tags as never,
      roles: crud.roles as never,
      platforms: crud.platforms as never,
      groupDeviceIds: membership.deviceIds,
      locationTree: () => repos.locationTree.all(),
    }),
    /**
     * Device facts for configuration compliance (read as the system: compliance results are
     * fleet-wide, read with configs:read): platform, role and location of devices by name or id,
     * the location hierarchy, and which referenced ids exist.
     */
    facts: {
      async devices(q: { names?: readonly string[]; ids?: readonly string[] }) {
        const ids = q.ids ? [...q.ids] : q.names?.length ? await crud.devices.matchingIds(SYSTEM_ACTOR, { name: [...q.names] }) : [];
        return (await crud.devices.getMany(SYSTEM_ACTOR, ids)).map((d) => ({
          id: d.id,
          name: d.name,
          platformId: d.platform?.id ?? null,
          roleId: d.role?.id ?? null,
          locationId: d.location?.id ?? null,
        }));
      },
      async locationsUnder(ids: readonly string[]): Promise<string[]> {
        const tree = await repos.locationTree.all();
        return [...new Set(ids.flatMap((id) => descendantsOf(tree, id)))];
      },
      async unknownRefs(kind: 'platform' | 'role' | 'location' | 'device', ids: readonly string[]): Promise<string[]> {
        if (ids.length === 0) return [];
        const service = kind === 'platform' ? crud.platforms : kind === 'role' ? crud.roles : kind === 'device' ? crud.devices : crud.locations;
        const found = new Set((await service.getMany(SYSTEM_ACTOR, [...ids])).map((x) => x.id));
        return ids.filter((id) => !found.has(id));
      },
    },
    /**
     * The device an alert is about (by id or name) and its location with every ancestor, read
     * through `db` — the caller's transaction (alert routing runs inside the alert's; on SQLite a
     * read through the root handle there would wait on itself). Null when there is no such device.
     */
    async deviceContext(db: Db, ref: { deviceId: string } | { name: string }): Promise<{ deviceId: string; locationIds: string[] } | null> {
      const r = makeInventoryRepos(db, deps.dialect);
      const device = await r.deviceQueries.locationOf(ref);
      if (!device) return null;
      const locationIds = device.locationId ? pathOf(await r.locationTree.all(), device.locationId).map((l) => l.id) : [];
      return { deviceId: device.id, locationIds };
    },
    /**
     * Facts a job read from a device (`os_version`, `serial`, `hostname`): only the fields that
     * differ are written, through the device service as `actor` (audited, `device.updated`).
     */
    async updateDeviceFacts(actor: Actor, deviceId: string, facts: { os_version?: string; serial?: string; hostname?: string }): Promise<string[]> {
      const current = await crud.devices.get(actor, deviceId);
      const patch = Object.fromEntries(Object.entries(facts).filter(([k, v]) => v !== undefined && v !== '' && current[k as keyof typeof current] !== v));
      if (Object.keys(patch).length > 0) await crud.devices.update(actor, deviceId, patch);
      return Object.keys(patch).sort();
    },
  };
}

export type InventoryModule = ReturnType<typeof createInventoryModule>;
export type InventoryServices = InventoryModule['services'];
export type { Actor };
