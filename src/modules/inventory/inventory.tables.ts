import type { Kysely } from 'kysely';

/** The inventory's tables as Kysely sees them (camelCase under CamelCasePlugin). */
interface Stamped {
  createdAt: string;
  updatedAt: string;
}
interface Named extends Stamped {
  id: string;
  name: string;
  description: string;
}

export type InventoryTables = {
  manufacturers: Named;
  platforms: Named & { manufacturerId: string | null; networkDriver: string };
  deviceRoles: Named & { color: string };
  statuses: Named & { color: string };
  tags: Named & { color: string };
  deviceTypes: Stamped & { id: string; model: string; manufacturerId: string | null; partNumber: string; uHeight: number; description: string };
  locations: Named & { locationType: string; parentId: string | null; customFields: unknown; credentialProfileId: string | null };
  devices: Stamped & {
    id: string;
    name: string;
    hostname: string | null;
    primaryIp4: string | null;
    primaryIp6: string | null;
    platformId: string | null;
    roleId: string | null;
    locationId: string | null;
    statusId: string;
    deviceTypeId: string | null;
    serial: string | null;
    assetTag: string | null;
    osVersion: string | null;
    credentialId: string | null;
    credentialProfileId: string | null;
    comments: string;
    customFields: unknown;
    source: string;
    externalId: string | null;
  };
  deviceTags: { deviceId: string; tagId: string };
  interfaces: Stamped & {
    id: string;
    deviceId: string;
    name: string;
    type: string;
    enabled: unknown;
    macAddress: string | null;
    mtu: number | null;
    speed: number | null;
    description: string;
    parentId: string | null;
    lagId: string | null;
    customFields: unknown;
  };
  ipAddresses: Stamped & {
    id: string;
    address: string;
    host: string;
    prefixLength: number;
    family: number;
    namespace: string;
    interfaceId: string | null;
    status: string;
    dnsName: string;
    description: string;
    customFields: unknown;
  };
  customFieldDefinitions: Stamped & {
    id: string;
    objectType: string;
    name: string;
    label: string;
    type: string;
    required: unknown;
    defaultValue: unknown;
    validation: unknown;
    description: string;
  };
  deviceGroups: Named & { kind: string; filter: unknown; credentialProfileId: string | null };
  deviceGroupMembers: { groupId: string; deviceId: string };
  topologyLinks: Stamped & { id: string; aInterfaceId: string; bInterfaceId: string; kind: string; description: string };
};

export type InventoryTable = keyof InventoryTables;
export type InventoryDb = Kysely<InventoryTables>;
