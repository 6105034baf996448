import type { Db } from '../../platform/db/database.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import type { InventoryServices } from '../inventory/index.js';
import type { ConnectionsService } from './connections.service.js';
import {
  createSotReader,
  NETBOX_DEVICE_STATUSES,
  refOf,
  type References,
  type RemoteDevice,
  type RemoteInterface,
  type RemoteIpAddress,
  type SotReader,
} from './dialects.js';
import { createIntegrationsRepository } from './integrations.repository.js';
import type { System } from './sot-client.js';
import {
  INTERFACE_FIELDS,
  IP_FIELDS,
  missingByName,
  parentsFirst,
  planDeviceImport,
  planDevicePush,
  planImport,
  PUSH_FIELDS,
  SYNC_FIELDS,
  type Conflict,
  type Item,
  type LocalDevice,
  type ObjectChange,
  type Owner,
  type Ownership,
  type Plan,
} from './sync.fns.js';

export const SYNC_KINDS = ['locations', 'platforms', 'roles', 'statuses', 'devices', 'interfaces', 'ip_addresses'] as const;
export type SyncKind = (typeof SYNC_KINDS)[number];

export interface SyncOptions {
  dry_run: boolean;
  delete_missing?: boolean | undefined;
  ownership?: Ownership | undefined;
  /** Per interface field (`name, type, enabled, mtu, mac_address, description`). */
  interface_ownership?: Partial<Record<(typeof INTERFACE_FIELDS)[number], Owner>> | undefined;
  /** Per IP address field (`address, interface, dns_name, description`). */
  ip_address_ownership?: Partial<Record<(typeof IP_FIELDS)[number], Owner>> | undefined;
}

export interface PushOptions {
  dry_run: boolean;
  /** Only these local devices (default: every device). */
  device_ids?: string[] | undefined;
  /** The upstream device type of created devices (both systems require one). */
  device_type?: string | undefined;
  ownership?: Ownership | undefined;
}

export interface Counts {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
}

export interface SyncReport {
  system: System;
  direction: 'import' | 'push';
  dry_run: boolean;
  counts: Record<SyncKind, Counts>;
  /** The first `REPORT_LIMIT` changes (creates, updates with their field changes, deletes). */
  changes: ObjectChange[];
  changes_total: number;
  conflicts: Conflict[];
  conflicts_total: number;
  /** Push only: devices (or fields) not written upstream, and why. */
  skipped?: { name: string; local_id: string; reason: string }[];
}

type Inventory = Pick<InventoryServices, 'devices' | 'locations' | 'platforms' | 'roles' | 'statuses' | 'interfaces' | 'ipAddresses'>;
type Row = Record<string, unknown>;

const REPORT_LIMIT = 500;
/** Rows per inventory bulk call (the bulk routes accept 1000). */
const BATCH = 500;
const zero = (): Counts => ({ create: 0, update: 0, delete: 0, unchanged: 0 });
const nameOf = (v: unknown): string | null => (v && typeof v === 'object' ? ((v as { name?: string }).name ?? null) : null);
const localStatus = (s: string | null) => (s === null ? null : s.toLowerCase());

/**
 * Imports a source of truth into the inventory: locations (parents first), platforms, roles,
 * statuses, then devices by the plan of `sync.fns.ts#planDeviceImport`. Every write goes
 * through the inventory services as the actor (their permissions, audit and events); the
 * external id ↔ local id pairs are kept in integration_objects and on the device (`external_id`).
 */
export function createSyncService(deps: { db: Db; inventory: Inventory; connections: Pick<ConnectionsService, 'client'> }) {
  const repo = createIntegrationsRepository(deps.db);

  async function localAll(
    actor: Actor,
    service: { list(actor: Actor, q: Record<string, unknown>): Promise<{ items: Row[]; next_cursor: string | null }> },
  ): Promise<Row[]> {
    const out: Row[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list(actor, { limit: 1000, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }

  const toLocal = (d: Row): LocalDevice => ({
    id: String(d.id),
    name: String(d.name),
    serial: (d.serial as string | null) ?? null,
    asset_tag: (d.asset_tag as string | null) ?? null,
    status: nameOf(d.status),
    role: nameOf(d.role),
    location: nameOf(d.location),
    platform: nameOf(d.platform),
    primary_ip4: (d.primary_ip4 as string | null) ?? null,
  });

  /** Creates the reference objects the devices will name; answers their changes. */
  async function importReferences(actor: Actor, system: System, refs: References, dryRun: boolean, counts: SyncReport['counts']): Promise<ObjectChange[]> {
    const changes: ObjectChange[] = [];
    const byId = new Map(refs.locations.map((l) => [l.id, l.name]));
    const kinds: { kind: SyncKind; service: Inventory[keyof Inventory]; items: { id: string; name: string }[]; body: (x: never) => Row }[] = [
      {
        kind: 'locations',
        service: deps.inventory.locations,
        items: parentsFirst(refs.locations),
        body: (l: References['locations'][number]) => ({
          name: l.name,
          description: l.description.slice(0, 2000),
          parent: l.parent_id ? (byId.get(l.parent_id) ?? null) : null,
        }),
      },
      {
        kind: 'platforms',
        service: deps.inventory.platforms,
        items: refs.platforms,
        body: (p: References['platforms'][number]) => ({
          name: p.name,
          ...(/^[a-z0-9_]*$/.test(p.network_driver) ? { network_driver: p.network_driver } : {}),
        }),
      },
      { kind: 'roles', service: deps.inventory.roles, items: refs.roles, body: (r: References['roles'][number]) => ({ name: r.name }) },
      {
        kind: 'statuses',
        service: deps.inventory.statuses,
        items: refs.statuses.map((s) => ({ ...s, name: localStatus(s.name)! })),
        body: (s: References['statuses'][number]) => ({ name: s.name }),
      },
    ];
    for (const k of kinds) {
      const local = await localAll(actor, k.service as never);
      const localByName = new Map(local.map((l) => [String(l.name), String(l.id)]));
      const missing = missingByName(k.items, new Set(localByName.keys()));
      counts[k.kind] = { ...zero(), create: missing.length, unchanged: k.items.length - missing.length };
      changes.push(
        ...missing.map((m) => ({ kind: k.kind.replace(/e?s$/, ''), action: 'create' as const, name: m.name, external_id: m.id, local_id: null, changes: [] })),
      );
      if (dryRun) continue;
      for (const m of missing) {
        localByName.set(m.name, String((await (k.service as { create(a: Actor, b: Row): Promise<Row> }).create(actor, k.body(m as never))).id));
      }
      await repo.upsertMappings(
        system,
        k.kind,
        k.items.filter((i) => localByName.has(i.name)).map((i) => ({ externalId: i.id, localId: localByName.get(i.name)! })),
        nowIso(),
      );
    }
    return changes;
  }

  const deviceBody = (system: System, r: RemoteDevice): Row => ({
    name: r.name,
    serial: r.serial,
    asset_tag: r.asset_tag,
    role: r.role,
    location: r.location,
    platform: r.platform,
    primary_ip4: r.primary_ip4,
    ...(r.status ? { status: localStatus(r.status) } : {}),
    source: system,
    external_id: r.id,
  });

  async function inBatches<T>(items: readonly T[], run: (batch: T[]) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH) await run(items.slice(i, i + BATCH));
  }

  type IfField = (typeof INTERFACE_FIELDS)[number];
  type IpField = (typeof IP_FIELDS)[number];
  type RemoteIfItem = Item<IfField> & { raw: RemoteInterface; device: string };
  type RemoteIpItem = Item<IpField> & { raw: RemoteIpAddress };
  const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  const ifBody = (r: RemoteInterface): Row => ({
    name: r.name,
    type: r.type,
    enabled: r.enabled,
    mtu: r.mtu,
    mac_address: r.mac_address,
    description: r.description,
  });

  /**
   * Applies a plan of interfaces or addresses: creates in batches (recording the mapping), updates
   * of the changed fields (values from `body`), deletes. Nothing is written on a dry run.
   */
  async function applyPlan<F extends string, R extends Item<F> & { raw: object }, L extends Item<F>>(
    actor: Actor,
    system: System,
    kind: 'interfaces' | 'ip_addresses',
    service: Pick<Inventory['interfaces'], 'bulkCreate' | 'bulkUpdate' | 'bulkDelete'>,
    plan: Plan<F, R, L>,
    create: (r: R) => Row,
    body: (r: R) => Row,
  ): Promise<void> {
    const at = nowIso();
    await repo.upsertMappings(system, kind, plan.matched, at);
    await inBatches(plan.creates, async (batch) => {
      const created = await service.bulkCreate(
        actor,
        batch.map((c) => create(c.remote)),
      );
      await repo.upsertMappings(
        system,
        kind,
        created.items.map((d, i) => ({ externalId: batch[i]!.remote.id, localId: String(d.id) })),
        at,
      );
    });
    await inBatches(plan.updates, async (batch) => {
      await service.bulkUpdate(
        actor,
        batch.map((u) => ({ id: u.local.id, ...Object.fromEntries(u.change.changes.map((c) => [c.field, body(u.remote)[c.field]])) })),
      );
    });
    await inBatches(plan.deletes, async (batch) => {
      await service.bulkDelete(
        actor,
        batch.map((d) => d.local.id),
      );
      await repo.removeMappings(
        system,
        kind,
        batch.map((d) => d.local.id),
      );
    });
  }

  /**
   * Interfaces, then IP addresses, of the imported devices: an interface matches its mapping, else
   * the local interface of the same name on the same (mapped) device; an address its mapping, else
   * the local address of the same host. On a dry run, objects still to be created stand in as
   * `new:<external id>` (a device or interface the plan creates).
   */
  async function importPorts(
    actor: Actor,
    system: System,
    reader: SotReader,
    remoteDevices: readonly RemoteDevice[],
    deviceMap: ReadonlyMap<string, string>,
    options: SyncOptions,
    counts: SyncReport['counts'],
  ): Promise<{ changes: ObjectChange[]; conflicts: Conflict[] }> {
    const deviceName = new Map(remoteDevices.map((d) => [d.id, d.name]));
    const localDevice = (remoteId: string) => deviceMap.get(remoteId) ?? `new:${remoteId}`;
    const remoteIfs: RemoteIfItem[] = (await reader.interfaces())
      .filter((i) => deviceName.has(i.device_id))
      .map((i) => ({
        id: i.id,
        name: i.name,
        key: `${localDevice(i.device_id)}/${i.name}`,
        label: `${deviceName.get(i.device_id)!} ${i.name}`,
        type: i.type,
        enabled: String(i.enabled),
        mtu: str(i.mtu),
        mac_address: i.mac_address,
        description: i.description,
        raw: i,
        device: localDevice(i.device_id),
      }));
    const localIfs = (await localAll(actor, deps.inventory.interfaces as never)).map((i) => {
      const device = i.device as { id: string; name: string };
      return {
        id: String(i.id),
        name: String(i.name),
        key: `${device.id}/${String(i.name)}`,
        label: `${device.name} ${String(i.name)}`,
        type: str(i.type),
        enabled: String(i.enabled),
        mtu: str(i.mtu),
        mac_address: str(i.mac_address),
        description: String(i.description ?? ''),
      };
    });
    const ifPlan = planImport(
      'interface',
      INTERFACE_FIELDS,
      remoteIfs,
      localIfs,
      await repo.mappings(system, 'interfaces'),
      options.interface_ownership ?? {},
      options.delete_missing === true,
    );
    counts.interfaces = { create: ifPlan.creates.length, update: ifPlan.updates.length, delete: ifPlan.deletes.length, unchanged: ifPlan.unchanged };
    if (!options.dry_run) {
      await applyPlan(
        actor,
        system,
        'interfaces',
        deps.inventory.interfaces,
        ifPlan,
        (r) => ({ device: r.device, ...ifBody(r.raw) }),
        (r) => ifBody(r.raw),
      );
    }
    const ifMap = options.dry_run ? new Map(ifPlan.matched.map((m) => [m.externalId, m.localId])) : await repo.mappings(system, 'interfaces');
    const planned = new Set(ifPlan.creates.map((c) => c.remote.id));
    const localIf = (remoteId: string | null) => (remoteId === null ? null : (ifMap.get(remoteId) ?? (planned.has(remoteId) ? `new:${remoteId}` : null)));

    const hosts = new Set<string>();
    const remoteIps: RemoteIpItem[] = (await reader.ipAddresses())
      .filter((a) => {
        const h = a.address.split('/')[0]!;
        // Addresses are unique per host locally (one namespace): the first of a duplicated host wins.
        return a.address !== '' && !hosts.has(h) && hosts.add(h);
      })
      .map((a) => ({
        id: a.id,
        name: a.address,
        key: a.address.split('/')[0]!,
        address: a.address,
        interface: localIf(a.interface_id),
        dns_name: a.dns_name,
        description: a.description,
        raw: a,
      }));
    const localIps = (await localAll(actor, deps.inventory.ipAddresses as never)).map((a) => ({
      id: String(a.id),
      name: String(a.address),
      key: String(a.host),
      address: String(a.address),
      interface: (a.interface as { id: string } | null)?.id ?? null,
      dns_name: String(a.dns_name ?? ''),
      description: String(a.description ?? ''),
    }));
    const ipPlan = planImport(
      'ip_address',
      IP_FIELDS,
      remoteIps,
      localIps,
      await repo.mappings(system, 'ip_addresses'),
      options.ip_address_ownership ?? {},
      options.delete_missing === true,
    );
    counts.ip_addresses = { create: ipPlan.creates.length, update: ipPlan.updates.length, delete: ipPlan.deletes.length, unchanged: ipPlan.unchanged };
    const ipBody = (r: RemoteIpItem): Row => ({ address: r.address, interface: r.interface, dns_name: r.dns_name, description: r.description });
    if (!options.dry_run) await applyPlan(actor, system, 'ip_addresses', deps.inventory.ipAddresses as never, ipPlan, ipBody, ipBody);
    const all = [ifPlan, ipPlan] as const;
    return {
      changes: all.flatMap((p) => [...p.creates.map((c) => c.change), ...p.updates.map((u) => u.change), ...p.deletes.map((d) => d.change)]),
      conflicts: all.flatMap((p) => p.conflicts),
    };
  }

  /**
   * Pushes local devices upstream by `sync.fns.ts#planDevicePush`: creates (with `device_type`,
   * site/location, role, status, platform mapped by name through the upstream reference lists),
   * and PATCHes the fields Opsdeck owns on mapped or adopted devices. Each written device carries
   * the custom field `opsdeck_id`; locally the mapping and the device's `source` + `external_id`
   * are recorded. A dry run answers the plan and writes nothing on either side.
   */
  async function pushTo(actor: Actor, system: System, options: PushOptions, runId: string | null = null, signal?: AbortSignal): Promise<SyncReport> {
    requirePermission(actor, 'integrations:sync');
    const client = await deps.connections.client(actor, system, runId, signal);
    const reader = createSotReader(client);
    const nb = system === 'netbox';
    const refs = await reader.references();
    const remote: RemoteDevice[] = [];
    for await (const page of reader.devicePages()) remote.push(...page.map((r) => ({ ...r, status: localStatus(r.status) })));
    const wanted = options.device_ids ? new Set(options.device_ids) : null;
    const local = (await localAll(actor, deps.inventory.devices as never)).map(toLocal).filter((d) => !wanted || wanted.has(d.id));
    const mapping = await repo.mappings(system, 'devices');
    const plan = planDevicePush(local, remote, mapping, options.ownership ?? {});
    const idByName = (list: { id: string; name: string }[]) => new Map(list.map((x) => [x.name.toLowerCase(), x.id]));
    const ids = { location: idByName(refs.locations), role: idByName(refs.roles), platform: idByName(refs.platforms), status: idByName(refs.statuses) };
    const skipped: NonNullable<SyncReport['skipped']> = [];
    /** The upstream value of one field, or undefined (skipped) when the name is not known there. */
    const upstream = (l: LocalDevice, f: (typeof PUSH_FIELDS)[number]): [string, unknown] | undefined => {
      const v = l[f];
      if (f === 'name') return ['name', v];
      if (f === 'serial') return ['serial', v ?? ''];
      if (f === 'asset_tag') return ['asset_tag', v];
      if (f === 'status' && nb) return ['status', NETBOX_DEVICE_STATUSES.includes(v as never) ? v : 'active'];
      const key = f === 'location' && nb ? 'site' : f;
      if (v === null) return f === 'platform' ? ['platform', null] : undefined;
      const id = ids[f as 'location' | 'role' | 'platform' | 'status'].get(v.toLowerCase());
      if (id === undefined) skipped.push({ name: l.name, local_id: l.id, reason: `${f} "${v}" does not exist in ${system}` });
      return id === undefined ? undefined : [key, refOf(system, id)];
    };
    const bodyOf = (l: LocalDevice, fields: readonly (typeof PUSH_FIELDS)[number][]) =>
      Object.fromEntries(fields.map((f) => upstream(l, f)).filter((x): x is [string, unknown] => x !== undefined));
    const creates = plan.creates.filter((c) => {
      const missing = (['location', 'role', ...(nb ? [] : (['status'] as const))] as const).filter((f) => c.local[f] === null);
      if (!options.device_type) missing.push('device_type' as never);
      if (missing.length > 0) skipped.push({ name: c.local.name, local_id: c.local.id, reason: `${missing.join(', ')} required to create it in ${system}` });
      return missing.length === 0;
    });
    const planned = creates.map((c) => ({
      c,
      body: { ...bodyOf(c.local, PUSH_FIELDS), device_type: refOf(system, options.device_type!), custom_fields: { opsdeck_id: c.local.id } },
    }));
    const ready = planned.filter((p) => (nb ? ['site', 'role'] : ['location', 'role', 'status']).every((k) => k in p.body));
    const updates = plan.updates.map((u) => ({
      u,
      body: {
        ...bodyOf(
          u.local,
          u.change.changes.map((c) => c.field as (typeof PUSH_FIELDS)[number]),
        ),
        custom_fields: { opsdeck_id: u.local.id },
      },
    }));
    if (!options.dry_run) {
      const at = nowIso();
      for (const { c, body } of ready) {
        const created = await client.create<Row>(reader.paths.devices, body);
        await deps.inventory.devices.update(actor, c.local.id, { source: system, external_id: String(created.id) });
        await repo.upsertMappings(system, 'devices', [{ externalId: String(created.id), localId: c.local.id }], at);
      }
      for (const { u, body } of updates) {
        await client.update<Row>(`${reader.paths.devices}${u.remoteId}/`, body);
        if (u.adopted) {
          await deps.inventory.devices.update(actor, u.local.id, { source: system, external_id: u.remoteId });
          await repo.upsertMappings(system, 'devices', [{ externalId: u.remoteId, localId: u.local.id }], at);
        }
      }
    }
    const counts = Object.fromEntries(SYNC_KINDS.map((k) => [k, zero()])) as SyncReport['counts'];
    counts.devices = { create: ready.length, update: updates.length, delete: 0, unchanged: plan.unchanged };
    const all = [...ready.map((p) => p.c.change), ...updates.map((p) => p.u.change)];
    return {
      system,
      direction: 'push',
      dry_run: options.dry_run,
      counts,
      changes: all.slice(0, REPORT_LIMIT),
      changes_total: all.length,
      conflicts: [],
      conflicts_total: 0,
      skipped: skipped.slice(0, REPORT_LIMIT),
    };
  }

  return {
    pushTo,
    /** `direction: push` pushes, anything else imports. */
    async run(
      actor: Actor,
      system: System,
      options: SyncOptions & Omit<PushOptions, 'dry_run'> & { direction?: 'import' | 'push' | undefined },
      runId: string | null = null,
      signal?: AbortSignal,
    ): Promise<SyncReport> {
      return options.direction === 'push' ? pushTo(actor, system, options, runId, signal) : this.importFrom(actor, system, options, runId, signal);
    },
    /** A dry run answers the plan and writes nothing; otherwise the plan is applied and answered. */
    async importFrom(actor: Actor, system: System, options: SyncOptions, runId: string | null = null, signal?: AbortSignal): Promise<SyncReport> {
      requirePermission(actor, 'integrations:sync');
      const client = await deps.connections.client(actor, system, runId, signal);
      const reader = createSotReader(client);
      const counts = Object.fromEntries(SYNC_KINDS.map((k) => [k, zero()])) as SyncReport['counts'];
      const refs = await reader.references();
      const changes = await importReferences(actor, system, refs, options.dry_run, counts);
      const remote: RemoteDevice[] = [];
      for await (const page of reader.devicePages()) remote.push(...page);
      const local = (await localAll(actor, deps.inventory.devices as never)).map(toLocal);
      const mapping = await repo.mappings(system, 'devices');
      const remoteLocal = remote.map((r) => ({ ...r, status: localStatus(r.status) }));
      const plan = planDeviceImport(remoteLocal, local, mapping, options.ownership ?? {}, options.delete_missing === true);
      counts.devices = { create: plan.creates.length, update: plan.updates.length, delete: plan.deletes.length, unchanged: plan.unchanged };
      const all = [...changes, ...plan.creates.map((c) => c.change), ...plan.updates.map((u) => u.change), ...plan.deletes.map((d) => d.change)];
      if (!options.dry_run) {
        const at = nowIso();
        await repo.upsertMappings(system, 'devices', plan.matched, at);
        await inBatches(plan.creates, async (batch) => {
          const created = await deps.inventory.devices.bulkCreate(
            actor,
            batch.map((c) => deviceBody(system, c.remote)),
          );
          await repo.upsertMappings(
            system,
            'devices',
            created.items.map((d, i) => ({ externalId: batch[i]!.remote.id, localId: d.id })),
            at,
          );
        });
        await inBatches(plan.updates, async (batch) => {
          await deps.inventory.devices.bulkUpdate(
            actor,
            batch.map((u) => ({
              id: u.local.id,
              ...Object.fromEntries(u.change.changes.map((c) => [c.field, c.field === 'status' ? (c.to ?? 'active') : c.to])),
              source: system,
              external_id: u.remote.id,
            })),
          );
        });
        await inBatches(plan.deletes, async (batch) => {
          await deps.inventory.devices.bulkDelete(
            actor,
            batch.map((d) => d.local.id),
          );
          await repo.removeMappings(
            system,
            'devices',
            batch.map((d) => d.local.id),
          );
        });
      }
      const deviceMap = options.dry_run
        ? new Map([...mapping, ...plan.matched.map((m) => [m.externalId, m.localId] as const)])
        : await repo.mappings(system, 'devices');
      const ports = await importPorts(actor, system, reader, remote, deviceMap, options, counts);
      all.push(...ports.changes);
      const conflicts = [...plan.conflicts, ...ports.conflicts];
      return {
        system,
        direction: 'import',
        dry_run: options.dry_run,
        counts,
        changes: all.slice(0, REPORT_LIMIT),
        changes_total: all.length,
        conflicts: conflicts.slice(0, REPORT_LIMIT),
        conflicts_total: conflicts.length,
      };
    },
  };
}

export { SYNC_FIELDS };
export type SyncService = ReturnType<typeof createSyncService>;
