import type { RemoteDevice } from './dialects.js';

/** Device fields a sync compares; each is owned by the source of truth (default) or by Opsdeck. */
export const SYNC_FIELDS = ['name', 'serial', 'asset_tag', 'status', 'role', 'location', 'platform', 'primary_ip4'] as const;
export type SyncField = (typeof SYNC_FIELDS)[number];
export type Owner = 'source' | 'opsdeck';
export type Ownership = Partial<Record<SyncField, Owner>>;

export type Comparable = Record<SyncField, string | null>;
export interface LocalDevice extends Comparable {
  id: string;
  name: string;
}

/** Interface and IP address fields a sync compares (ownership keys `interface.<field>`, `ip_address.<field>`). */
export const INTERFACE_FIELDS = ['name', 'type', 'enabled', 'mtu', 'mac_address', 'description'] as const;
export const IP_FIELDS = ['address', 'interface', 'dns_name', 'description'] as const;

export interface FieldChange {
  field: string;
  from: string | null;
  to: string | null;
}
export interface ObjectChange {
  kind: string;
  action: 'create' | 'update' | 'delete';
  name: string;
  external_id: string | null;
  local_id: string | null;
  changes: FieldChange[];
}
export interface Conflict {
  kind: string;
  name: string;
  external_id: string;
  local_id: string;
  field: string;
  opsdeck: string | null;
  source: string | null;
  kept: 'opsdeck';
}

/** One side's object as a sync compares it: every field a string (or null); `key` matches an unmapped pair (a device's name, an interface's device and name, an address). */
export type Item<F extends string> = { id: string; name: string; key?: string; label?: string } & Record<F, string | null>;

export interface Plan<F extends string, R extends Item<F>, L extends Item<F>> {
  creates: { remote: R; change: ObjectChange }[];
  updates: { remote: R; local: L; change: ObjectChange }[];
  deletes: { local: L; change: ObjectChange }[];
  conflicts: Conflict[];
  unchanged: number;
  /** Pairs to (re)record in integration_objects: mapped, adopted by key, or unchanged. */
  matched: { externalId: string; localId: string }[];
}
export type DevicePlan = Plan<SyncField, RemoteDevice & Item<SyncField>, LocalDevice>;

/**
 * The import plan of one kind: each remote object matches its mapped local object (by the
 * integration_objects row), else an unmapped local object of the same key (adopted), else is
 * created; a field owned by the source is overwritten, one owned by Opsdeck is kept and reported
 * as a conflict when the two differ. Mapped local objects gone upstream are deleted only with `deleteMissing`.
 */
export function planImport<F extends string, R extends Item<F>, L extends Item<F>>(
  kind: string,
  fields: readonly F[],
  remote: readonly R[],
  local: readonly L[],
  mapping: ReadonlyMap<string, string>,
  ownership: Partial<Record<F, Owner>>,
  deleteMissing: boolean,
): Plan<F, R, L> {
  const keyOf = (x: Item<F>) => x.key ?? x.name;
  const labelOf = (x: Item<F>) => x.label ?? x.name;
  const byId = new Map(local.map((d) => [d.id, d]));
  const mappedLocal = new Set(mapping.values());
  const unmappedByKey = new Map(local.filter((d) => !mappedLocal.has(d.id)).map((d) => [keyOf(d), d]));
  const plan: Plan<F, R, L> = { creates: [], updates: [], deletes: [], conflicts: [], unchanged: 0, matched: [] };
  const seen = new Set<string>();
  for (const r of remote) {
    const mappedId = mapping.get(r.id);
    const l = (mappedId ? byId.get(mappedId) : undefined) ?? unmappedByKey.get(keyOf(r));
    if (!l) {
      plan.creates.push({
        remote: r,
        change: {
          kind,
          action: 'create',
          name: labelOf(r),
          external_id: r.id,
          local_id: null,
          changes: fields.filter((f) => r[f] !== null).map((f) => ({ field: f, from: null, to: r[f] as string | null })),
        },
      });
      continue;
    }
    seen.add(l.id);
    unmappedByKey.delete(keyOf(l));
    plan.matched.push({ externalId: r.id, localId: l.id });
    const changes: FieldChange[] = [];
    for (const f of fields) {
      const [from, to] = [l[f] as string | null, r[f] as string | null];
      if (from === to) continue;
      if ((ownership[f] ?? 'source') === 'source') changes.push({ field: f, from, to });
      else plan.conflicts.push({ kind, name: labelOf(l), external_id: r.id, local_id: l.id, field: f, opsdeck: from, source: to, kept: 'opsdeck' });
    }
    if (changes.length > 0) {
      plan.updates.push({ remote: r, local: l, change: { kind, action: 'update', name: labelOf(r), external_id: r.id, local_id: l.id, changes } });
    } else plan.unchanged++;
  }
  if (deleteMissing) {
    for (const localId of mapping.values()) {
      const l = byId.get(localId);
      if (l && !seen.has(l.id)) {
        plan.deletes.push({ local: l, change: { kind, action: 'delete', name: labelOf(l), external_id: null, local_id: l.id, changes: [] } });
      }
    }
  }
  return plan;
}

/** The device import plan (`planImport` over `SYNC_FIELDS`, matched by name). */
export function planDeviceImport(
  remote: readonly RemoteDevice[],
  local: readonly LocalDevice[],
  mapping: ReadonlyMap<string, string>,
  ownership: Ownership,
  deleteMissing: boolean,
): DevicePlan {
  return planImport('device', SYNC_FIELDS, remote, local, mapping, ownership, deleteMissing);
}

/** Names present upstream but not locally, in the order given (parents before children for locations). */
export function missingByName<T extends { name: string }>(remote: readonly T[], localNames: ReadonlySet<string>): T[] {
  return remote.filter((r) => !localNames.has(r.name));
}

/** Locations ordered so a parent comes before its children (cycles and dangling parents end up last, parentless). */
export function parentsFirst<T extends { id: string; parent_id: string | null }>(items: readonly T[]): T[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  const out: T[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (i: T) => {
    if (placed.has(i.id) || visiting.has(i.id)) return;
    visiting.add(i.id);
    const parent = i.parent_id ? byId.get(i.parent_id) : undefined;
    if (parent) place(parent);
    visiting.delete(i.id);
    placed.add(i.id);
    out.push(i);
  };
  items.forEach(place);
  return out;
}

/** Device fields a push may write upstream (not `primary_ip4`: that is an address object there). */
export const PUSH_FIELDS = ['name', 'serial', 'asset_tag', 'status', 'role', 'location', 'platform'] as const satisfies readonly SyncField[];

export interface PushPlan {
  creates: { local: LocalDevice; change: ObjectChange }[];
  /** Adopted by name (`remote` unmapped upstream) or mapped, with the fields Opsdeck owns that differ. */
  updates: { local: LocalDevice; remoteId: string; adopted: boolean; change: ObjectChange }[];
  unchanged: number;
}

/**
 * The push plan: a local device mapped to an upstream device (or, unmapped, matching an unmapped
 * upstream device by name: adopted) gets the fields Opsdeck owns that differ; an adopted one is
 * always written (its `opsdeck_id`). Any other is created upstream. Mapped devices gone upstream are left alone.
 */
export function planDevicePush(
  local: readonly LocalDevice[],
  remote: readonly RemoteDevice[],
  mapping: ReadonlyMap<string, string>,
  ownership: Ownership,
): PushPlan {
  const externalOf = new Map([...mapping].map(([e, l]) => [l, e]));
  const remoteById = new Map(remote.map((r) => [r.id, r]));
  const mappedRemote = new Set(mapping.keys());
  const unmappedByName = new Map(remote.filter((r) => !mappedRemote.has(r.id)).map((r) => [r.name, r]));
  const plan: PushPlan = { creates: [], updates: [], unchanged: 0 };
  for (const l of local) {
    const ext = externalOf.get(l.id);
    const adopted = ext === undefined ? unmappedByName.get(l.name) : undefined;
    const r = ext !== undefined ? remoteById.get(ext) : adopted;
    if (ext !== undefined && !r) {
      plan.unchanged++;
      continue;
    }
    if (!r) {
      plan.creates.push({
        local: l,
        change: {
          kind: 'device',
          action: 'create',
          name: l.name,
          external_id: null,
          local_id: l.id,
          changes: PUSH_FIELDS.filter((f) => l[f] !== null).map((f) => ({ field: f, from: null, to: l[f] })),
        },
      });
      continue;
    }
    if (adopted) unmappedByName.delete(adopted.name);
    const changes = PUSH_FIELDS.filter((f) => ownership[f] === 'opsdeck' && l[f] !== r[f]).map((f) => ({ field: f, from: r[f], to: l[f] }));
    if (changes.length > 0 || adopted) {
      plan.updates.push({
        local: l,
        remoteId: r.id,
        adopted: adopted !== undefined,
        change: { kind: 'device', action: 'update', name: l.name, external_id: r.id, local_id: l.id, changes },
      });
    } else plan.unchanged++;
  }
  return plan;
}
