import { NotFoundError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { CrudService } from './crud.service.js';
import type { Device } from './device.schemas.js';

/** What the jobs engine runs against: one entry per device, with how to reach it. */
export interface InventoryTarget {
  deviceId: string;
  name: string;
  /** primary IPv4, else primary IPv6, else the host name; null when the device has none */
  host: string | null;
  platform: string | null;
  /** Netmiko/TextFSM device type of the platform, e.g. `cisco_ios` */
  networkDriver: string | null;
  credentialId: string | null;
}

export interface TargetSelector {
  device_ids?: readonly string[];
  group_id?: string;
  /** device list filters, e.g. `{ role: ['core'], status: ['active'] }` */
  filter?: Record<string, unknown>;
}

/** Resolves devices, a group and a filter to their union of targets, in name order. */
export function createTargetResolver(devices: CrudService<Device>, groupDeviceIds: (actor: Actor, id: string) => Promise<string[]>) {
  return async function resolveTargets(actor: Actor, selector: TargetSelector): Promise<InventoryTarget[]> {
    requirePermission(actor, 'devices:read');
    const ids = new Set<string>();
    if (selector.device_ids?.length) {
      const found = await devices.getMany(actor, [...selector.device_ids]);
      const missing = selector.device_ids.filter((id) => !found.some((d) => d.id === id));
      if (missing.length > 0) throw new NotFoundError('DEVICE_NOT_FOUND', `No device ${missing.slice(0, 10).join(', ')}`);
      for (const d of found) ids.add(d.id);
    }
    if (selector.group_id) for (const id of await groupDeviceIds(actor, selector.group_id)) ids.add(id);
    if (selector.filter) for (const id of await devices.matchingIds(actor, selector.filter)) ids.add(id);
    const rows = await devices.getMany(actor, [...ids]);
    return rows
      .map((d) => ({
        deviceId: d.id,
        name: d.name,
        host: d.primary_ip4 ?? d.primary_ip6 ?? d.hostname ?? null,
        platform: d.platform?.name ?? null,
        networkDriver: d.platform?.network_driver || null,
        credentialId: d.credential_id,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };
}
