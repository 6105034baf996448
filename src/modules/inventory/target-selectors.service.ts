import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { NotFoundError, type FieldError } from '../../platform/errors.js';
import { isUuid } from '../../platform/ids.js';
import type { CrudService } from './crud.service.js';
import { deviceFilterErrors, type DeviceGroup } from './device-group.service.js';
import type { Device } from './device.schemas.js';
import { descendantsOf } from './location.fns.js';
import type { Location } from './location.service.js';

/**
 * A job target chosen from the inventory. Every form names one thing by id or unique name; a
 * `filter` is any device-list filter (`{"role": ["core"], "location": ["dc1"]}`).
 */
export type TargetSelector =
  | { device_id: string }
  | { device: string }
  | { group: string }
  | { location: string }
  | { tag: string }
  | { role: string }
  | { platform: string }
  | { filter: Record<string, string | string[]> };

export const SELECTOR_KINDS = ['device_id', 'device', 'group', 'location', 'tag', 'role', 'platform', 'filter'] as const;

/** One device a selector matched, with what a run needs to reach it and log in. */
export interface SelectedDevice {
  deviceId: string;
  name: string;
  /** primary IPv4, else primary IPv6, else the host name; null when the device has none */
  host: string | null;
  platform: string | null;
  /** Netmiko/TextFSM device type of the platform, e.g. `cisco_ios` */
  networkDriver: string | null;
  credentialId: string | null;
  credentialProfileId: string | null;
  /** The profile of the device's location or its nearest ancestor that has one. */
  locationProfileId: string | null;
  /** The profile of the group that selected the device (group selectors only). */
  groupProfileId: string | null;
  /** Which selector matched it first, e.g. `group:core-routers`. */
  selector: string;
}

type Named = { id: string; name: string };
type LocationNode = { id: string; name: string; parentId: string | null; credentialProfileId: string | null };

export interface TargetSelectorDeps {
  devices: CrudService<Device>;
  deviceGroups: CrudService<DeviceGroup>;
  locations: CrudService<Location>;
  tags: CrudService<Named>;
  roles: CrudService<Named>;
  platforms: CrudService<Named>;
  groupDeviceIds: (actor: Actor, id: string) => Promise<string[]>;
  locationTree: () => Promise<LocationNode[]>;
}

const kindOf = (s: TargetSelector) => Object.keys(s)[0] as (typeof SELECTOR_KINDS)[number];
const asLists = (filter: Record<string, string | string[]>) => Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
/** `group:core`, `filter:{"role":["core"]}`: what a target row records as its selector. */
const label = (s: TargetSelector) =>
  ('filter' in s ? `filter:${JSON.stringify(asLists(s.filter))}` : `${kindOf(s)}:${Object.values(s)[0] as string}`).slice(0, 300);

/**
 * Device selectors for job runs, evaluated with the acting principal's inventory rights:
 * `check` names every unknown reference or bad filter field (at creation), `resolve` turns
 * selectors into devices (when the run executes), in selector order, each device once.
 */
export function createTargetSelectors(deps: TargetSelectorDeps) {
  // Credential references as stored (`storedRefs`): the jobs module checks them against the run's initiator.
  async function byRef<T extends Named>(actor: Actor, service: CrudService<T>, ref: string): Promise<T | undefined> {
    if (isUuid(ref)) {
      const [hit] = await service.getMany(actor, [ref.toLowerCase()], { storedRefs: true });
      if (hit) return hit;
    }
    const ids = await service.matchingIds(actor, { name: [ref] });
    return ids.length > 0 ? (await service.getMany(actor, ids.slice(0, 1), { storedRefs: true }))[0] : undefined;
  }

  /** Device ids of one selector, or the problem with it (`field` is relative to the selector). */
  async function match(actor: Actor, s: TargetSelector): Promise<{ ids: string[]; groupProfileId: string | null } | { field: string; message: string }> {
    const none = { groupProfileId: null };
    if ('device_id' in s || 'device' in s) {
      const ref = 'device_id' in s ? s.device_id : s.device;
      const d = await byRef(actor, deps.devices, ref);
      return d ? { ids: [d.id], ...none } : { field: kindOf(s), message: `no device '${ref.slice(0, 100)}'` };
    }
    if ('group' in s) {
      const g = await byRef(actor, deps.deviceGroups, s.group);
      return g
        ? { ids: await deps.groupDeviceIds(actor, g.id), groupProfileId: g.credential_profile_id }
        : { field: 'group', message: `no device group '${s.group.slice(0, 100)}'` };
    }
    if ('location' in s) {
      const l = await byRef(actor, deps.locations, s.location);
      if (!l) return { field: 'location', message: `no location '${s.location.slice(0, 100)}'` };
      return { ids: await deps.devices.matchingIds(actor, { location_id: descendantsOf(await deps.locationTree(), l.id) }), ...none };
    }
    if ('tag' in s) {
      const t = await byRef(actor, deps.tags, s.tag);
      return t ? { ids: await deps.devices.matchingIds(actor, { tag: [t.name] }), ...none } : { field: 'tag', message: `no tag '${s.tag.slice(0, 100)}'` };
    }
    if ('role' in s) {
      const r = await byRef(actor, deps.roles, s.role);
      return r
        ? { ids: await deps.devices.matchingIds(actor, { role_id: [r.id] }), ...none }
        : { field: 'role', message: `no device role '${s.role.slice(0, 100)}'` };
    }
    if ('platform' in s) {
      const p = await byRef(actor, deps.platforms, s.platform);
      return p
        ? { ids: await deps.devices.matchingIds(actor, { platform_id: [p.id] }), ...none }
        : { field: 'platform', message: `no platform '${s.platform.slice(0, 100)}'` };
    }
    const filter = asLists(s.filter);
    const [problem] = deviceFilterErrors(filter);
    if (problem) return { field: problem.path, message: problem.message };
    return { ids: await deps.devices.matchingIds(actor, filter), ...none };
  }

  return {
    /** Every selector that names nothing or holds a bad filter, as field errors under `path`. */
    async check(actor: Actor, selectors: readonly { index: number; selector: TargetSelector }[], path: string): Promise<FieldError[]> {
      requirePermission(actor, 'devices:read');
      const errors: FieldError[] = [];
      for (const { index, selector } of selectors) {
        const m = await match(actor, selector);
        if ('field' in m) errors.push({ path: `${path}.${index}.${m.field}`, message: m.message });
      }
      return errors;
    },

    /** The devices the selectors match now; a selector that names nothing any more throws. */
    async resolve(actor: Actor, selectors: readonly TargetSelector[]): Promise<SelectedDevice[]> {
      requirePermission(actor, 'devices:read');
      const tree = await deps.locationTree();
      const nodes = new Map(tree.map((l) => [l.id, l]));
      const locationProfile = (id: string | undefined) => {
        for (let cur = id ? nodes.get(id) : undefined, depth = 0; cur && depth < 64; cur = cur.parentId ? nodes.get(cur.parentId) : undefined, depth++) {
          if (cur.credentialProfileId) return cur.credentialProfileId;
        }
        return null;
      };
      const out: SelectedDevice[] = [];
      const seen = new Set<string>();
      for (const s of selectors) {
        const m = await match(actor, s);
        if ('field' in m) throw new NotFoundError('TARGET_SELECTOR_UNRESOLVED', `target selector ${label(s)}: ${m.message}`);
        const fresh = m.ids.filter((id) => !seen.has(id));
        const devices = (await deps.devices.getMany(actor, fresh, { storedRefs: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const d of devices) {
          seen.add(d.id);
          out.push({
            deviceId: d.id,
            name: d.name,
            host: d.primary_ip4 ?? d.primary_ip6 ?? d.hostname ?? null,
            platform: d.platform?.name ?? null,
            networkDriver: d.platform?.network_driver || null,
            credentialId: d.credential_id,
            credentialProfileId: d.credential_profile_id,
            locationProfileId: locationProfile(d.location?.id),
            groupProfileId: m.groupProfileId,
            selector: label(s),
          });
        }
      }
      return out;
    },
  };
}

export type TargetSelectors = ReturnType<typeof createTargetSelectors>;
