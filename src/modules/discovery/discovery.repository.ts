import type { Db } from '../../platform/db/database.js';
import type { DiscoveryTables } from './discovery.tables.js';

export interface ScanRow {
  id: string;
  name: string;
  runId: string;
  targets: { targets: string[]; exclude: string[] };
  rangeKey: string;
  hostCount: number;
  params: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
}

export interface HostDecisionRow {
  address: string;
  decision: 'accepted' | 'rejected' | 'onboarded';
  edits: Record<string, unknown>;
  deviceId: string | null;
  updatedBy: string;
  updatedAt: string;
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
const SCAN_COLUMNS = ['id', 'name', 'runId', 'targets', 'rangeKey', 'hostCount', 'params', 'createdBy', 'createdAt'] as const;

function scanOf(r: Record<(typeof SCAN_COLUMNS)[number], unknown>): ScanRow {
  return {
    id: String(r.id),
    name: String(r.name),
    runId: String(r.runId),
    targets: JSON.parse(String(r.targets)) as ScanRow['targets'],
    rangeKey: String(r.rangeKey),
    hostCount: Number(r.hostCount),
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    createdBy: String(r.createdBy),
    createdAt: iso(r.createdAt),
  };
}

/** discovery_scans and discovery_hosts (review decisions); the per-host results live in the scan's job run. */
export function createDiscoveryRepository(base: Db) {
  const db = base.withTables<DiscoveryTables>();
  return {
    async insertScan(s: ScanRow): Promise<void> {
      await db
        .insertInto('discoveryScans')
        .values({ ...s, targets: JSON.stringify(s.targets), params: JSON.stringify(s.params) })
        .execute();
    },
    async scan(id: string): Promise<ScanRow | undefined> {
      const r = await db.selectFrom('discoveryScans').select(SCAN_COLUMNS).where('id', '=', id).executeTakeFirst();
      return r ? scanOf(r) : undefined;
    },
    async scans(limit: number, before: string | null): Promise<ScanRow[]> {
      let q = db.selectFrom('discoveryScans').select(SCAN_COLUMNS).orderBy('id', 'desc').limit(limit);
      if (before) q = q.where('id', '<', before);
      return (await q.execute()).map(scanOf);
    },
    /** The scan of the same range just before this one (previous-scan diffs). */
    async previousOf(scan: ScanRow): Promise<ScanRow | undefined> {
      const r = await db
        .selectFrom('discoveryScans')
        .select(SCAN_COLUMNS)
        .where('rangeKey', '=', scan.rangeKey)
        .where('id', '<', scan.id)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return r ? scanOf(r) : undefined;
    },
    async decisions(scanId: string): Promise<Map<string, HostDecisionRow>> {
      const rows = await db
        .selectFrom('discoveryHosts')
        .select(['address', 'decision', 'edits', 'deviceId', 'updatedBy', 'updatedAt'])
        .where('scanId', '=', scanId)
        .execute();
      return new Map(
        rows.map((r) => [
          r.address,
          {
            address: r.address,
            decision: r.decision as HostDecisionRow['decision'],
            edits: JSON.parse(r.edits) as Record<string, unknown>,
            deviceId: r.deviceId ?? null,
            updatedBy: r.updatedBy,
            updatedAt: iso(r.updatedAt),
          },
        ]),
      );
    },
    async saveDecision(scanId: string, d: HostDecisionRow): Promise<void> {
      const values = { scanId, ...d, edits: JSON.stringify(d.edits) };
      const { scanId: _s, address: _a, ...update } = values;
      await db
        .insertInto('discoveryHosts')
        .values(values)
        .onConflict((oc) => oc.columns(['scanId', 'address']).doUpdateSet(update))
        .execute();
    },
  };
}
export type DiscoveryRepository = ReturnType<typeof createDiscoveryRepository>;
