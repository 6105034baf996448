import type { SotClient, System } from './sot-client.js';

/** Where each object lives in each dialect; `null`: the system has no such object (NetBox statuses are choices, namespaces are Nautobot's). */
export const PATHS = {
  nautobot: {
    devices: '/api/dcim/devices/',
    locations: '/api/dcim/locations/',
    platforms: '/api/dcim/platforms/',
    roles: '/api/extras/roles/',
    statuses: '/api/extras/statuses/',
    namespaces: '/api/ipam/namespaces/',
    ipAddresses: '/api/ipam/ip-addresses/',
    interfaces: '/api/dcim/interfaces/',
    ipToInterface: '/api/ipam/ip-address-to-interface/',
  },
  netbox: {
    devices: '/api/dcim/devices/',
    locations: '/api/dcim/sites/',
    platforms: '/api/dcim/platforms/',
    roles: '/api/dcim/device-roles/',
    statuses: null,
    namespaces: null,
    ipAddresses: '/api/ipam/ip-addresses/',
    interfaces: '/api/dcim/interfaces/',
    ipToInterface: null,
  },
} as const satisfies Record<System, Record<string, string | null>>;

/** A reference in a write body: Nautobot `{id}`, NetBox the integer id. */
export const refOf = (system: System, id: string): unknown => (system === 'nautobot' ? { id } : Number(id));

/** NetBox's fixed device status choices (`DeviceStatusChoices`), served as the statuses list. */
export const NETBOX_DEVICE_STATUSES = ['offline', 'active', 'planned', 'staged', 'failed', 'inventory', 'decommissioning'] as const;

export interface RemoteLocation {
  id: string;
  name: string;
  parent_id: string | null;
  description: string;
}
export interface RemoteNamed {
  id: string;
  name: string;
}
export interface RemotePlatform extends RemoteNamed {
  network_driver: string;
}
export interface RemoteDevice {
  id: string;
  name: string;
  serial: string | null;
  asset_tag: string | null;
  status: string | null;
  role: string | null;
  location: string | null;
  platform: string | null;
  primary_ip4: string | null;
  url: string;
}
export interface RemoteInterface {
  id: string;
  device_id: string;
  name: string;
  type: string;
  enabled: boolean;
  mtu: number | null;
  mac_address: string | null;
  description: string;
}
export interface RemoteIpAddress {
  id: string;
  address: string;
  /** The interface it is assigned to (NetBox `assigned_object`, Nautobot's first IP-to-interface assignment). */
  interface_id: string | null;
  dns_name: string;
  description: string;
}
export interface References {
  locations: RemoteLocation[];
  platforms: RemotePlatform[];
  roles: RemoteNamed[];
  statuses: RemoteNamed[];
}

type Raw = Record<string, unknown>;
const idOf = (v: unknown): string | null => (v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const mac = (v: unknown): string | null => {
  const m = text(v)?.toLowerCase() ?? null;
  return m !== null && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) ? m : null;
};
const host = (address: unknown): string | null => (typeof address === 'string' ? (address.split('/')[0] ?? null) : null);

/** Reads a system's objects and normalises both dialects to one shape (names instead of nested references). */
export function createSotReader(client: SotClient) {
  const system = client.system;
  const paths = PATHS[system];

  async function references(): Promise<References> {
    const [locations, platforms, roles, statuses] = await Promise.all([
      client.cachedAll<Raw>(paths.locations),
      client.cachedAll<Raw>(paths.platforms),
      client.cachedAll<Raw>(paths.roles, system === 'nautobot' ? { content_types: 'dcim.device' } : {}),
      paths.statuses
        ? client.cachedAll<Raw>(paths.statuses, { content_types: 'dcim.device' })
        : Promise.resolve(NETBOX_DEVICE_STATUSES.map((s) => ({ id: s, name: s }))),
    ]);
    return {
      locations: locations.map((l) => ({ id: String(l.id), name: String(l.name), parent_id: idOf(l.parent), description: String(l.description ?? '') })),
      platforms: platforms.map((p) => ({ id: String(p.id), name: String(p.name), network_driver: String(p.network_driver ?? '') })),
      roles: roles.map((r) => ({ id: String(r.id), name: String(r.name) })),
      statuses: statuses.map((s) => ({ id: String(s.id), name: String(s.name) })),
    };
  }

  /** Normalises a page of devices; Nautobot's nested references carry only ids, resolved through the (cached) reference lists and one address query per page. */
  async function normalise(raw: Raw[], refs: References): Promise<RemoteDevice[]> {
    const names = (list: RemoteNamed[]) => new Map(list.map((x) => [x.id, x.name]));
    const loc = names(refs.locations);
    const plat = names(refs.platforms);
    const role = names(refs.roles);
    const status = names(refs.statuses);
    let addresses = new Map<string, string>();
    if (system === 'nautobot') {
      const ids = [...new Set(raw.map((d) => idOf(d.primary_ip4)).filter((x): x is string => x !== null))];
      for (let i = 0; i < ids.length; i += 100) {
        const page = await client.all<Raw>(paths.ipAddresses, { id: ids.slice(i, i + 100) });
        for (const ip of page) addresses.set(String(ip.id), String(ip.address));
      }
    } else addresses = new Map(raw.filter((d) => d.primary_ip4).map((d) => [idOf(d.primary_ip4)!, String((d.primary_ip4 as Raw).address)]));
    const ref = (map: Map<string, string>, v: unknown) => {
      const id = idOf(v);
      return id === null ? null : (map.get(id) ?? ((v as Raw).name as string | undefined) ?? null);
    };
    return raw.map((d) => ({
      id: String(d.id),
      name: String(d.name ?? ''),
      serial: text(d.serial),
      asset_tag: text(d.asset_tag),
      status: system === 'nautobot' ? ref(status, d.status) : text((d.status as Raw | null)?.value),
      role: ref(role, d.role),
      location: ref(loc, system === 'nautobot' ? d.location : d.site),
      platform: ref(plat, d.platform),
      primary_ip4: host(addresses.get(idOf(d.primary_ip4) ?? '')),
      url: String(d.url ?? ''),
    }));
  }

  /** Nautobot keeps IP-to-interface assignments as objects of their own: IP id → its first interface id. */
  async function assignments(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!paths.ipToInterface) return out;
    for await (const page of client.pages<Raw>(paths.ipToInterface)) {
      for (const a of page.results) {
        if (idOf(a.ip_address) && idOf(a.interface) && !out.has(idOf(a.ip_address)!)) out.set(idOf(a.ip_address)!, idOf(a.interface)!);
      }
    }
    return out;
  }

  return {
    system,
    paths,
    references,
    normalise,
    /** Every device interface (normalised: the type's value, its device's id). */
    async interfaces(): Promise<RemoteInterface[]> {
      const out: RemoteInterface[] = [];
      for await (const page of client.pages<Raw>(paths.interfaces)) {
        for (const i of page.results) {
          const deviceId = idOf(i.device);
          if (deviceId === null) continue;
          const type = text((i.type as Raw | null)?.value ?? i.type);
          out.push({
            id: String(i.id),
            device_id: deviceId,
            name: String(i.name ?? ''),
            type: type !== null && /^[a-z0-9_.-]{1,50}$/.test(type) ? type : 'other',
            enabled: i.enabled !== false,
            mtu: typeof i.mtu === 'number' && i.mtu >= 68 && i.mtu <= 65536 ? i.mtu : null,
            mac_address: mac(i.mac_address),
            description: String(i.description ?? '').slice(0, 500),
          });
        }
      }
      return out;
    },
    /** Every IP address with the interface it is assigned to. */
    async ipAddresses(): Promise<RemoteIpAddress[]> {
      const assigned = await assignments();
      const out: RemoteIpAddress[] = [];
      for await (const page of client.pages<Raw>(paths.ipAddresses)) {
        for (const a of page.results) {
          const id = String(a.id);
          const iface =
            system === 'netbox'
              ? a.assigned_object_type === 'dcim.interface' && a.assigned_object_id !== null && a.assigned_object_id !== undefined
                ? String(a.assigned_object_id)
                : null
              : (assigned.get(id) ?? null);
          out.push({
            id,
            address: String(a.address ?? '').toLowerCase(),
            interface_id: iface,
            dns_name: /^[A-Za-z0-9_.-]*$/.test(String(a.dns_name ?? '')) ? String(a.dns_name ?? '') : '',
            description: String(a.description ?? '').slice(0, 500),
          });
        }
      }
      return out;
    },
    /** Every device, page by page (normalised), for syncs. */
    async *devicePages(): AsyncGenerator<RemoteDevice[]> {
      const refs = await references();
      for await (const page of client.pages<Raw>(paths.devices)) yield await normalise(page.results, refs);
    },
  };
}

export type SotReader = ReturnType<typeof createSotReader>;
