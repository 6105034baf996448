import { sql } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { bool, json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { ConfigsTables } from './configs.tables.js';
import type { VersionRow } from './history.repository.js';

type RawRule = ConfigsTables['configComplianceRules'];
type RawResult = ConfigsTables['configComplianceResults'];

export interface RuleRow {
  id: string;
  name: string;
  description: string;
  kind: 'must_contain' | 'must_not_match';
  platformIds: string[];
  roleIds: string[];
  locationIds: string[];
  lines: string[];
  parent: string | null;
  ordered: boolean;
  pattern: string | null;
  severity: string;
  active: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface ResultRow {
  deviceId: string;
  ruleId: string;
  deviceName: string;
  status: 'compliant' | 'noncompliant' | 'error';
  missing: string[];
  extra: string[];
  error: string | null;
  versionId: string;
  repositoryId: string;
  commitSha: string;
  evaluatedAt: string;
}

const RULE_COLUMNS = [
  'id',
  'name',
  'description',
  'kind',
  'platformIds',
  'roleIds',
  'locationIds',
  'lines',
  'parent',
  'ordered',
  'pattern',
  'severity',
  'active',
  'createdBy',
  'createdAt',
  'updatedAt',
] as const;
const JSON_RULE = ['platformIds', 'roleIds', 'locationIds', 'lines'] as const;

const readRule = (r: RawRule): RuleRow => ({
  ...(r as unknown as RuleRow),
  platformIds: json.read(r.platformIds),
  roleIds: json.read(r.roleIds),
  locationIds: json.read(r.locationIds),
  lines: json.read(r.lines),
  ordered: bool.read(r.ordered),
  active: bool.read(r.active),
});
function writeRule(r: Partial<RuleRow>): Partial<RawRule> {
  const out = { ...r } as Record<string, unknown>;
  for (const k of JSON_RULE) if (r[k] !== undefined) out[k] = json.write(r[k]);
  if (r.ordered !== undefined) out.ordered = bool.write(r.ordered);
  if (r.active !== undefined) out.active = bool.write(r.active);
  return out as Partial<RawRule>;
}
const writeResult = (r: ResultRow): RawResult => ({ ...r, missing: json.write(r.missing), extra: json.write(r.extra) });

const BY_DEVICE: SortKey[] = [
  { field: 'device', column: 'r.deviceName', desc: false, nullable: false },
  { field: 'device_id', column: 'r.deviceId', desc: false, nullable: false },
];
const CHUNK = 200;
const count = (status: string) => sql<number>`sum(case when ${sql.ref('r.status')} = ${status} then 1 else 0 end)`;

/** config_compliance_rules and config_compliance_results. */
export function createComplianceRepository(base: Db) {
  const db = base.withTables<ConfigsTables>();
  const rules = () => db.selectFrom('configComplianceRules').select(RULE_COLUMNS);
  return {
    async insertRule(row: RuleRow): Promise<void> {
      await db
        .insertInto('configComplianceRules')
        .values(writeRule(row) as RawRule)
        .execute();
    },
    async findRule(id: string): Promise<RuleRow | undefined> {
      const r = await rules().where('id', '=', id).executeTakeFirst();
      return r ? readRule(r as RawRule) : undefined;
    },
    async ruleNameTaken(name: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('configComplianceRules').select('id').where('name', '=', name);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async updateRule(id: string, patch: Partial<RuleRow>): Promise<boolean> {
      const r = await db.updateTable('configComplianceRules').set(writeRule(patch)).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async removeRule(id: string): Promise<boolean> {
      await db.deleteFrom('configComplianceResults').where('ruleId', '=', id).execute();
      const r = await db.deleteFrom('configComplianceRules').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    async listRules(filter: { active?: boolean | undefined }, keys: SortKey[], cursor: string | undefined, limit: number) {
      let q = rules();
      if (filter.active !== undefined) q = q.where('active', '=', bool.write(filter.active));
      const page = pageResult((await applyPage(q, keys, cursor, limit).execute()) as RawRule[], keys, limit, camelValue);
      return { items: page.items.map(readRule), next_cursor: page.next_cursor };
    },
    async activeRules(): Promise<RuleRow[]> {
      return ((await rules().where('active', '=', bool.write(true)).orderBy('name').execute()) as RawRule[]).map(readRule);
    },

    /** The newest version of each named device (all devices when `names` is null), deletions included. */
    async latestVersions(names: readonly string[] | null): Promise<VersionRow[]> {
      let q = db
        .selectFrom('configVersions as v')
        .select([
          'v.id',
          'v.repositoryId',
          'v.commitSha',
          'v.path',
          'v.deviceName',
          'v.change',
          'v.oldPath',
          'v.authorName',
          'v.committedAt',
          'v.size',
          'v.contentHash',
        ])
        .where(({ eb, selectFrom }) =>
          eb(
            'v.id',
            '=',
            selectFrom('configVersions as w')
              .select('w.id')
              .whereRef('w.deviceName', '=', 'v.deviceName')
              .orderBy('w.committedAt', 'desc')
              .orderBy('w.id', 'desc')
              .limit(1),
          ),
        );
      if (names) q = q.where('v.deviceName', 'in', names.length ? names : ['']);
      return q.orderBy('v.deviceName').execute();
    },

    /** The stored results of these (device, rule) pairs' devices. */
    async resultsOf(deviceIds: readonly string[]): Promise<Map<string, ResultRow['status']>> {
      const out = new Map<string, ResultRow['status']>();
      for (let i = 0; i < deviceIds.length; i += CHUNK) {
        const rows = await db
          .selectFrom('configComplianceResults')
          .select(['deviceId', 'ruleId', 'status'])
          .where('deviceId', 'in', deviceIds.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) out.set(`${r.deviceId}/${r.ruleId}`, r.status as ResultRow['status']);
      }
      return out;
    },

    /** Upserts results that are not a move into `noncompliant`. */
    async upsert(rows: readonly ResultRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) {
        await db
          .insertInto('configComplianceResults')
          .values(rows.slice(i, i + CHUNK).map(writeResult))
          .onConflict((oc) =>
            oc.columns(['deviceId', 'ruleId']).doUpdateSet((eb) => ({
              deviceName: eb.ref('excluded.deviceName'),
              status: eb.ref('excluded.status'),
              missing: eb.ref('excluded.missing'),
              extra: eb.ref('excluded.extra'),
              error: eb.ref('excluded.error'),
              versionId: eb.ref('excluded.versionId'),
              repositoryId: eb.ref('excluded.repositoryId'),
              commitSha: eb.ref('excluded.commitSha'),
              evaluatedAt: eb.ref('excluded.evaluatedAt'),
            })),
          )
          .execute();
      }
    },

    /**
     * Writes a noncompliant result; true when this write moved the pair into `noncompliant`
     * (inserted, or updated from another status). Conditional writes, so two evaluations racing
     * on one pair (two nodes) see one transition between them.
     */
    async markNoncompliant(row: ResultRow): Promise<boolean> {
      const raw = writeResult(row);
      const inserted = await db
        .insertInto('configComplianceResults')
        .values(raw)
        .onConflict((oc) => oc.columns(['deviceId', 'ruleId']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
      const { deviceId, ruleId, ...rest } = raw;
      const moved = await db
        .updateTable('configComplianceResults')
        .set(rest)
        .where('deviceId', '=', deviceId)
        .where('ruleId', '=', ruleId)
        .where('status', '!=', 'noncompliant')
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 1) return true;
      await db.updateTable('configComplianceResults').set(rest).where('deviceId', '=', deviceId).where('ruleId', '=', ruleId).execute();
      return false;
    },

    /** Drops results of pairs no longer evaluated (rule out of scope, device without configuration). */
    async removeResults(deviceId: string, keepRuleIds: readonly string[]): Promise<void> {
      let q = db.deleteFrom('configComplianceResults').where('deviceId', '=', deviceId);
      if (keepRuleIds.length) q = q.where('ruleId', 'not in', keepRuleIds);
      await q.execute();
    },
    async removeResultsByName(deviceNames: readonly string[]): Promise<void> {
      if (deviceNames.length) await db.deleteFrom('configComplianceResults').where('deviceName', 'in', deviceNames).execute();
    },

    /** One row per device: counts of its results under active rules, filtered, keyset-paginated by device name. */
    async summaries(
      filter: { device?: string | undefined; rule?: string | undefined; status?: string | undefined },
      cursor: string | undefined,
      limit: number,
    ) {
      let q = db
        .selectFrom('configComplianceResults as r')
        .innerJoin('configComplianceRules as k', 'k.id', 'r.ruleId')
        .where('k.active', '=', bool.write(true))
        .select(['r.deviceId', 'r.deviceName'])
        .select((eb) => [
          eb.fn.countAll<number>().as('rules'),
          count('compliant').as('compliant'),
          count('noncompliant').as('noncompliant'),
          count('error').as('errors'),
          eb.fn.max('r.evaluatedAt').as('evaluatedAt'),
        ])
        .groupBy(['r.deviceId', 'r.deviceName']);
      if (filter.device) q = q.where('r.deviceId', '=', filter.device);
      if (filter.rule) q = q.where('r.ruleId', '=', filter.rule);
      if (filter.status === 'noncompliant') q = q.having(count('noncompliant'), '>', 0);
      if (filter.status === 'error') q = q.having(count('noncompliant'), '=', 0).having(count('error'), '>', 0);
      if (filter.status === 'compliant') q = q.having(count('noncompliant'), '=', 0).having(count('error'), '=', 0);
      const rows = await applyPage(q, BY_DEVICE, cursor, limit).execute();
      return pageResult(rows, BY_DEVICE, limit, camelValue);
    },

    /** A device's results under active rules, with the rule's name and severity. */
    async deviceResults(deviceId: string) {
      const rows = await db
        .selectFrom('configComplianceResults as r')
        .innerJoin('configComplianceRules as k', 'k.id', 'r.ruleId')
        .where('k.active', '=', bool.write(true))
        .where('r.deviceId', '=', deviceId)
        .select([
          'r.deviceId',
          'r.ruleId',
          'r.deviceName',
          'r.status',
          'r.missing',
          'r.extra',
          'r.error',
          'r.versionId',
          'r.repositoryId',
          'r.commitSha',
          'r.evaluatedAt',
          'k.name',
          'k.severity',
        ])
        .orderBy('k.name')
        .execute();
      return rows.map((r) => ({ ...r, missing: json.read<string[]>(r.missing), extra: json.read<string[]>(r.extra) }));
    },
  };
}

export type ComplianceRepository = ReturnType<typeof createComplianceRepository>;
