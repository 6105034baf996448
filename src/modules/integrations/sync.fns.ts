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

export interface FieldChange {
  field: SyncField;
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
  field: SyncField;
  opsdeck: string | null;
  source: string | null;
  kept: 'opsdeck';
}

export interface DevicePlan {
  creates: { remote: RemoteDevice; change: ObjectChange }[];
  updates: { remote: RemoteDevice; local: LocalDevice; change: ObjectChange }[];
  deletes: { local: LocalDevice; change: ObjectChange }[];
  conflicts: Conflict[];
  unchanged: number;
  /** Pairs to (re)record in integration_objects: mapped, adopted by name, or unchanged. */
  matched: { externalId: string; localId: string }[];
}

const owner = (o: Ownership, f: SyncField): Owner => o[f] ?? 'source';

/**
 * The import plan for devices: each remote device matches its mapped local device (by the
 * integration_objects row), else an unmapped local device of the same name (adopted), else is
 * created; a field owned by the source is overwritten, one owned by Opsdeck is kept and reported
 * as a conflict when the two differ. Mapped local devices gone upstream are deleted only with `deleteMissing`.
 */
export function planDeviceImport(remote: readonly RemoteDevice[], local: readonly LocalDevice[], mapping: ReadonlyMap<string, string>, ownership: Ownership, deleteMissing: boolean): DevicePlan {
  const byId = new Map(local.map((d) => [d.id, d]));
  const mappedLocal = new Set(mapping.values());
  const unmappedByName = new Map(local.filter((d) => !mappedLocal.has(d.id)).map((d) => [d.name, d]));
  const plan: DevicePlan = { creates: [], updates: [], deletes: [], conflicts: [], unchanged: 0, matched: [] };
  const seen = new Set<string>();
  for (const r of remote) {
    const mappedId = mapping.get(r.id);
    const l = (mappedId ? byId.get(mappedId) : undefined) ?? unmappedByName.get(r.name);
    if (!l) {
      plan.creates.push({ remote: r, change: { kind: 'device', action: 'create', name: r.name, external_id: r.id, local_id: null, changes: SYNC_FIELDS.filter((f) => r[f] !== null).map((f) => ({ field: f, from: null, to: r[f] })) } });
      continue;
    }
    seen.add(l.id);
    unmappedByName.delete(l.name);
    plan.matched.push({ externalId: r.id, localId: l.id });
    const changes: FieldChange[] = [];
    for (const f of SYNC_FIELDS) {
      if (l[f] === r[f]) continue;
      if (owner(ownership, f) === 'source') changes.push({ field: f, from: l[f], to: r[f] });
      else plan.conflicts.push({ kind: 'device', name: l.name, external_id: r.id, local_id: l.id, field: f, opsdeck: l[f], source: r[f], kept: 'opsdeck' });
    }
    if (changes.length > 0) plan.updates.push({ remote: r, local: l, change: { kind: 'device', action: 'update', name: r.name, external_id: r.id, local_id: l.id, changes } });
    else plan.unchanged++;
  }
  if (deleteMissing) {
    for (const localId of mapping.values()) {
      const l = byId.get(localId);
      if (l && !seen.has(l.id)) plan.deletes.push({ local: l, change: { kind: 'device', action: 'delete', name: l.name, external_id: null, local_id: l.id, changes: [] } });
    }
  }
  return plan;
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
