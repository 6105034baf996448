import type { Db } from '../../platform/db/database.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import type { InventoryServices } from '../inventory/index.js';
import type { ConnectionsService } from './connections.service.js';
import { createSotReader, type References, type RemoteDevice } from './dialects.js';
import { createIntegrationsRepository } from './integrations.repository.js';
import type { System } from './sot-client.js';
import { missingByName, parentsFirst, planDeviceImport, SYNC_FIELDS, type Conflict, type LocalDevice, type ObjectChange, type Ownership } from './sync.fns.js';

export const SYNC_KINDS = ['locations', 'platforms', 'roles', 'statuses', 'devices'] as const;
export type SyncKind = (typeof SYNC_KINDS)[number];

export interface SyncOptions {
  dry_run: boolean;
  delete_missing?: boolean | undefined;
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
  direction: 'import';
  dry_run: boolean;
  counts: Record<SyncKind, Counts>;
  /** The first `REPORT_LIMIT` changes (creates, updates with their field changes, deletes). */
  changes: ObjectChange[];
  changes_total: number;
  conflicts: Conflict[];
  conflicts_total: number;
}

type Inventory = Pick<InventoryServices, 'devices' | 'locations' | 'platforms' | 'roles' | 'statuses'>;
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

  async function localAll(actor: Actor, service: { list(actor: Actor, q: Record<string, unknown>): Promise<{ items: Row[]; next_cursor: string | null }> }): Promise<Row[]> {
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
      { kind: 'locations', service: deps.inventory.locations, items: parentsFirst(refs.locations), body: (l: References['locations'][number]) => ({ name: l.name, description: l.description.slice(0, 2000), parent: l.parent_id ? (byId.get(l.parent_id) ?? null) : null }) },
      { kind: 'platforms', service: deps.inventory.platforms, items: refs.platforms, body: (p: References['platforms'][number]) => ({ name: p.name, ...(/^[a-z0-9_]*$/.test(p.network_driver) ? { network_driver: p.network_driver } : {}) }) },
      { kind: 'roles', service: deps.inventory.roles, items: refs.roles, body: (r: References['roles'][number]) => ({ name: r.name }) },
      { kind: 'statuses', service: deps.inventory.statuses, items: refs.statuses.map((s) => ({ ...s, name: localStatus(s.name)! })), body: (s: References['statuses'][number]) => ({ name: s.name }) },
    ];
    for (const k of kinds) {
      const local = await localAll(actor, k.service as never);
      const localByName = new Map(local.map((l) => [String(l.name), String(l.id)]));
      const missing = missingByName(k.items, new Set(localByName.keys()));
      counts[k.kind] = { ...zero(), create: missing.length, unchanged: k.items.length - missing.length };
      changes.push(...missing.map((m) => ({ kind: k.kind.replace(/e?s$/, ''), action: 'create' as const, name: m.name, external_id: m.id, local_id: null, changes: [] })));
      if (dryRun) continue;
      for (const m of missing) localByName.set(m.name, String((await (k.service as { create(a: Actor, b: Row): Promise<Row> }).create(actor, k.body(m as never))).id));
      await repo.upsertMappings(system, k.kind, k.items.filter((i) => localByName.has(i.name)).map((i) => ({ externalId: i.id, localId: localByName.get(i.name)! })), nowIso());
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

  return {
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
          const created = await deps.inventory.devices.bulkCreate(actor, batch.map((c) => deviceBody(system, c.remote)));
          await repo.upsertMappings(system, 'devices', created.items.map((d, i) => ({ externalId: batch[i]!.remote.id, localId: d.id })), at);
        });
        await inBatches(plan.updates, async (batch) => {
          await deps.inventory.devices.bulkUpdate(actor, batch.map((u) => ({ id: u.local.id, ...Object.fromEntries(u.change.changes.map((c) => [c.field, c.field === 'status' ? (c.to ?? 'active') : c.to])), source: system, external_id: u.remote.id })));
        });
        await inBatches(plan.deletes, async (batch) => {
          await deps.inventory.devices.bulkDelete(actor, batch.map((d) => d.local.id));
          await repo.removeMappings(system, 'devices', batch.map((d) => d.local.id));
        });
      }
      return { system, direction: 'import', dry_run: options.dry_run, counts, changes: all.slice(0, REPORT_LIMIT), changes_total: all.length, conflicts: plan.conflicts.slice(0, REPORT_LIMIT), conflicts_total: plan.conflicts.length };
    },
  };
}

export { SYNC_FIELDS };
export type SyncService = ReturnType<typeof createSyncService>;
