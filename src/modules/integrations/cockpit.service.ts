import { AppError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { ConnectionsService } from './connections.service.js';
import { createSotReader, refOf, type RemoteDevice, type RemoteLocation, type RemoteNamed, type RemotePlatform } from './dialects.js';
import type { SotClient, System } from './sot-client.js';

type Raw = Record<string, unknown>;

export interface DeviceQuery {
  q?: string | undefined;
  name?: string | undefined;
  location?: string | undefined;
  role?: string | undefined;
  platform?: string | undefined;
  status?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface OnboardInput {
  name: string;
  location: string;
  role: string;
  device_type: string;
  status?: string | undefined;
  platform?: string | undefined;
  namespace?: string | undefined;
  interface: { name: string; type?: string | undefined };
  ip_address: string;
}

export interface Onboarded {
  device_id: string;
  interface_id: string;
  ip_address_id: string;
  url: string;
}

/** Nautobot wants `{id}` for a nested reference, NetBox a primary key. */

/**
 * The cockpit's views of a source of truth (devices, locations, reference data, check-ip) and
 * onboarding a device into it. Reads need `integrations:read`, onboarding `integrations:write`;
 * the token is resolved as the actor on every call (connections.service.ts#client).
 */
export function createCockpitService(deps: { connections: Pick<ConnectionsService, 'client'> }) {
  async function reader(actor: Actor, system: System, permission: string) {
    requirePermission(actor, permission);
    const client = await deps.connections.client(actor, system);
    return { client, reader: createSotReader(client) };
  }

  function deviceFilters(system: System, q: DeviceQuery) {
    const nb = system === 'netbox';
    return {
      q: q.q,
      name: q.name,
      [nb ? 'site_id' : 'location']: q.location,
      [nb ? 'role_id' : 'role']: q.role,
      [nb ? 'platform_id' : 'platform']: q.platform,
      status: q.status,
      limit: q.limit ?? 50,
      offset: q.offset ?? 0,
    };
  }

  async function deviceOf(client: SotClient, r: ReturnType<typeof createSotReader>, id: string): Promise<RemoteDevice> {
    const raw = await client.get<Raw>(`${r.paths.devices}${encodeURIComponent(id)}/`);
    return (await r.normalise([raw], await r.references()))[0]!;
  }

  /** Runs onboarding steps in order; on a failure deletes what the earlier steps created, newest first. */
  async function inOrder(client: SotClient, steps: { name: string; run: () => Promise<{ id: string; undo: string }> }[]): Promise<string[]> {
    const done: { name: string; undo: string; id: string }[] = [];
    for (const step of steps) {
      try {
        const r = await step.run();
        done.push({ name: step.name, ...r });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const rolledBack: string[] = [];
        const left: string[] = [];
        for (const d of [...done].reverse()) {
          if (d.undo === '') continue;
          await client.remove(d.undo).then(
            () => rolledBack.push(d.name),
            () => left.push(`${d.name} ${d.id}`),
          );
        }
        const tail = `rolled back: ${rolledBack.join(', ') || 'nothing'}${left.length ? `; could not remove: ${left.join(', ')}` : ''}`;
        throw new AppError(
          'INTEGRATION_ONBOARDING_FAILED',
          err.status === 422 ? 422 : 502,
          `onboarding step "${step.name}" failed (${err.message}); ${tail}`,
          err.errors,
        );
      }
    }
    return done.map((d) => d.id);
  }

  async function statusId(client: SotClient, system: System, given: string | undefined): Promise<string> {
    if (given) return given;
    if (system === 'netbox') return 'active';
    const statuses = await createSotReader(client).references();
    const active = statuses.statuses.find((s) => s.name.toLowerCase() === 'active');
    if (!active) {
      throw new ValidationError('INTEGRATION_INVALID', 'Nautobot has no "Active" status; give status', [{ path: 'body.status', message: 'required' }]);
    }
    return active.id;
  }

  return {
    async devices(actor: Actor, system: System, query: DeviceQuery): Promise<{ items: RemoteDevice[]; count: number; next_offset: number | null }> {
      const { client, reader: r } = await reader(actor, system, 'integrations:read');
      const page = await client.get<{ count: number; next: string | null; results: Raw[] }>(r.paths.devices, deviceFilters(system, query));
      const items = await r.normalise(page.results, await r.references());
      return { items, count: page.count, next_offset: page.next ? (query.offset ?? 0) + (query.limit ?? 50) : null };
    },

    async device(actor: Actor, system: System, id: string) {
      const { client, reader: r } = await reader(actor, system, 'integrations:read');
      const device = await deviceOf(client, r, id);
      const by = system === 'netbox' ? { device_id: id } : { device: id };
      const [interfaces, addresses] = await Promise.all([client.all<Raw>(r.paths.interfaces, by), client.all<Raw>(r.paths.ipAddresses, by)]);
      return {
        ...device,
        interfaces: interfaces.map((i) => ({
          id: String(i.id),
          name: String(i.name),
          type: String((i.type as Raw | null)?.value ?? i.type ?? ''),
          enabled: i.enabled !== false,
          mgmt_only: i.mgmt_only === true,
        })),
        ip_addresses: addresses.map((a) => ({ id: String(a.id), address: String(a.address) })),
      };
    },

    /** Locations (NetBox: sites) parents first, with their depth in the tree. */
    async locations(actor: Actor, system: System): Promise<{ items: (RemoteLocation & { depth: number })[] }> {
      const { reader: r } = await reader(actor, system, 'integrations:read');
      const all = (await r.references()).locations;
      const children = new Map<string | null, RemoteLocation[]>();
      for (const l of all) children.set(l.parent_id, [...(children.get(l.parent_id) ?? []), l]);
      const known = new Set(all.map((l) => l.id));
      const out: (RemoteLocation & { depth: number })[] = [];
      const walk = (parent: string | null, depth: number) => {
        for (const l of (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
          out.push({ ...l, depth });
          if (depth < 32) walk(l.id, depth + 1);
        }
      };
      walk(null, 0);
      for (const [parent] of children) if (parent !== null && !known.has(parent)) walk(parent, 0);
      return { items: out };
    },

    async reference(actor: Actor, system: System, kind: 'platforms' | 'roles' | 'statuses'): Promise<{ items: (RemoteNamed | RemotePlatform)[] }> {
      const { reader: r } = await reader(actor, system, 'integrations:read');
      return { items: (await r.references())[kind] };
    },

    async namespaces(actor: Actor, system: System): Promise<{ items: RemoteNamed[] }> {
      const { client, reader: r } = await reader(actor, system, 'integrations:read');
      if (!r.paths.namespaces) throw new NotFoundError('INTEGRATION_NOT_SUPPORTED', `${system} has no namespaces`);
      return { items: (await client.cachedAll<Raw>(r.paths.namespaces)).map((n) => ({ id: String(n.id), name: String(n.name) })) };
    },

    /** Whether an address is recorded in the source of truth, and on which device (where the payload says). */
    async checkIp(actor: Actor, system: System, address: string) {
      const { client, reader: r } = await reader(actor, system, 'integrations:read');
      const found = await client.get<{ results: Raw[] }>(r.paths.ipAddresses, { address, limit: 10 });
      const ip = found.results[0];
      const device = ((ip?.assigned_object as Raw | undefined)?.device as Raw | undefined)?.name;
      return {
        address,
        exists: ip !== undefined,
        ip_address: ip ? { id: String(ip.id), address: String(ip.address), device: typeof device === 'string' ? device : null } : null,
      };
    },

    /**
     * Onboards a device: device → management interface → IP address (→ Nautobot's IP-to-interface
     * assignment) → primary IPv4, in that order; a failing step deletes what the earlier ones created.
     */
    async onboard(actor: Actor, system: System, input: OnboardInput): Promise<Onboarded> {
      const { client, reader: r } = await reader(actor, system, 'integrations:write');
      const status = await statusId(client, system, input.status);
      const nb = system === 'netbox';
      const created = (path: string) => async (body: Raw) => {
        const o = await client.create<Raw>(path, body);
        return { id: String(o.id), undo: `${path}${String(o.id)}/` };
      };
      let namespace = input.namespace;
      if (!nb && !namespace) namespace = (await client.cachedAll<Raw>(PATHS_NS)).find((n) => n.name === 'Global')?.id as string | undefined;
      const ids: string[] = [];
      const steps = [
        {
          name: 'device',
          run: () =>
            created(r.paths.devices)({
              name: input.name,
              device_type: refOf(system, input.device_type),
              role: refOf(system, input.role),
              [nb ? 'site' : 'location']: refOf(system, input.location),
              status: nb ? status : { id: status },
              ...(input.platform ? { platform: refOf(system, input.platform) } : {}),
            }),
        },
        {
          name: 'interface',
          run: () =>
            created(r.paths.interfaces)({
              name: input.interface.name,
              type: input.interface.type ?? 'virtual',
              mgmt_only: true,
              device: refOf(system, ids[0]!),
              ...(nb ? {} : { status: { id: status } }),
            }),
        },
        {
          name: 'ip_address',
          run: () =>
            created(r.paths.ipAddresses)(
              nb
                ? { address: input.ip_address, status: 'active', assigned_object_type: 'dcim.interface', assigned_object_id: Number(ids[1]) }
                : { address: input.ip_address, status: { id: status }, type: 'host', ...(namespace ? { namespace: { id: namespace } } : {}) },
            ),
        },
        ...(nb
          ? []
          : [{ name: 'ip_assignment', run: () => created('/api/ipam/ip-address-to-interface/')({ ip_address: { id: ids[2] }, interface: { id: ids[1] } }) }]),
        {
          name: 'primary_ip',
          run: async () => ({ id: String((await client.update<Raw>(`${r.paths.devices}${ids[0]!}/`, { primary_ip4: refOf(system, ids[2]!) })).id), undo: '' }),
        },
      ].map((s) => ({
        name: s.name,
        run: async () => {
          const out = await s.run();
          ids.push(out.id);
          return out;
        },
      }));
      await inOrder(client, steps);
      return { device_id: ids[0]!, interface_id: ids[1]!, ip_address_id: ids[2]!, url: (await deviceOf(client, r, ids[0]!)).url };
    },
  };
}

const PATHS_NS = '/api/ipam/namespaces/';

export type CockpitService = ReturnType<typeof createCockpitService>;
