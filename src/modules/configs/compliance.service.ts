import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import type { DomainEvents } from '../../platform/events/domain-events.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId } from '../../platform/ids.js';
import { checkLinearRegex, LinearRegexError } from '../../platform/linear-regex.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { AuditRecorder } from '../credentials/index.js';
import { evaluateRule } from './compliance.fns.js';
import { createComplianceRepository, type ResultRow, type RuleRow } from './compliance.repository.js';
import type { CreateRuleBody, Rule, UpdateRuleBody } from './compliance.schemas.js';
import type { VersionRow } from './history.repository.js';

/** A device as compliance scopes it (inventory facts, read as the system: results are fleet-wide and read with configs:read). */
export interface ComplianceDevice {
  id: string;
  name: string;
  platformId: string | null;
  roleId: string | null;
  locationId: string | null;
}

/** What compliance needs from the inventory (wired in modules.ts). */
export interface ComplianceInventory {
  devices(q: { names?: readonly string[]; ids?: readonly string[] }): Promise<ComplianceDevice[]>;
  /** The locations and every location below them. */
  locationsUnder(ids: readonly string[]): Promise<string[]>;
  /** Of these ids, those that name no platform / role / location. */
  unknownRefs(kind: 'platform' | 'role' | 'location', ids: readonly string[]): Promise<string[]>;
}

export interface ComplianceDeps {
  db: Db;
  logger: Logger;
  audit: AuditRecorder;
  events: Pick<DomainEvents, 'record' | 'relay'>;
  inventory: ComplianceInventory;
  /** Configuration texts by blob id (the search's content cache). */
  contents(versions: readonly VersionRow[]): Promise<Map<string, string>>;
  deviceName(actor: Actor, deviceId: string): Promise<string>;
}

const BATCH = 200;
/** Lines an event carries (the stored result keeps up to 100). */
const EVENT_LINES = 20;
const SCOPE_FIELDS = [
  ['platform_ids', 'platformIds', 'platform'],
  ['role_ids', 'roleIds', 'role'],
  ['location_ids', 'locationIds', 'location'],
] as const;

const notFound = (id: string) => new NotFoundError('COMPLIANCE_RULE_NOT_FOUND', `Compliance rule ${id} does not exist`);

function toView(r: RuleRow): Rule {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    scope: { platform_ids: r.platformIds, role_ids: r.roleIds, location_ids: r.locationIds },
    kind: r.kind,
    lines: r.lines,
    parent: r.parent,
    ordered: r.ordered,
    pattern: r.pattern,
    severity: r.severity as Rule['severity'],
    active: r.active,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function regexError(path: string, pattern: string | null): FieldError[] {
  if (pattern === null) return [];
  try {
    checkLinearRegex(pattern);
    return [];
  } catch (err) {
    if (!(err instanceof LinearRegexError)) throw err;
    return [{ path, message: `not a valid RE2 pattern (${err.message})` }];
  }
}

/** Compliance rules, their evaluation against the latest configuration of each device, and the results. */
export function createComplianceService(deps: ComplianceDeps) {
  const repo = createComplianceRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (db) => ({ db, repo: createComplianceRepository(db) }),
    (err) => deps.logger.error({ err }, 'compliance after-commit step failed'),
  );
  // One evaluation at a time per process: a sync's hook and an on-demand run never interleave their batches.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };

  async function checkRule(r: RuleRow): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    if (r.kind === 'must_contain' && r.lines.length === 0) errors.push({ path: 'body.lines', message: 'a must_contain rule needs at least one line' });
    if (r.kind === 'must_not_match' && r.pattern === null) errors.push({ path: 'body.pattern', message: 'a must_not_match rule needs a pattern' });
    errors.push(...regexError('body.pattern', r.pattern), ...regexError('body.parent', r.parent));
    for (const [field, key, kind] of SCOPE_FIELDS) {
      const unknown = await deps.inventory.unknownRefs(kind, r[key]);
      if (unknown.length) errors.push({ path: `body.scope.${field}`, message: `no such ${kind}: ${unknown.slice(0, 5).join(', ')}` });
    }
    return errors;
  }

  async function save(actor: Actor, row: RuleRow, action: 'created' | 'updated', changes: Record<string, unknown>) {
    const errors = await checkRule(row);
    if (errors.length) throw new ValidationError('COMPLIANCE_RULE_INVALID', 'The compliance rule is invalid', errors);
    if (await repo.ruleNameTaken(row.name, row.id)) {
      throw new ConflictError('COMPLIANCE_RULE_NAME_TAKEN', `A compliance rule named '${row.name}' exists`, [{ path: 'body.name', message: 'already taken' }]);
    }
    await uow(async ({ db, repo: r }) => {
      if (action === 'created') await r.insertRule(row);
      else if (!(await r.updateRule(row.id, row))) throw notFound(row.id);
      await deps.audit.record(db, {
        actor,
        action: `config_compliance_rule.${action}`,
        resourceType: 'config_compliance_rule',
        resourceId: row.id,
        outcome: 'success',
        changes,
      });
    });
    return toView(row);
  }

  /** Evaluates the active rules on the latest configuration of the named devices (every device: null). */
  async function evaluate(names: readonly string[] | null) {
    const rules = await repo.activeRules();
    const latest = await repo.latestVersions(names);
    await repo.removeResultsByName(latest.filter((v) => v.change === 'deleted').map((v) => v.deviceName));
    const live = latest.filter((v) => v.change !== 'deleted');
    const under = new Map<string, Set<string>>();
    for (const r of rules) if (r.locationIds.length) under.set(r.id, new Set(await deps.inventory.locationsUnder(r.locationIds)));
    const inScope = (r: RuleRow, d: ComplianceDevice) =>
      (r.platformIds.length === 0 || (d.platformId !== null && r.platformIds.includes(d.platformId))) &&
      (r.roleIds.length === 0 || (d.roleId !== null && r.roleIds.includes(d.roleId))) &&
      (!under.has(r.id) || (d.locationId !== null && under.get(r.id)!.has(d.locationId)));
    const totals = { devices: 0, results: 0, noncompliant: 0, newly_noncompliant: 0 };
    for (let i = 0; i < live.length; i += BATCH) {
      const batch = live.slice(i, i + BATCH);
      const devices = new Map((await deps.inventory.devices({ names: batch.map((v) => v.deviceName) })).map((d) => [d.name, d]));
      const texts = await deps.contents(batch);
      const now = new Date().toISOString();
      const perDevice: { device: ComplianceDevice; results: (ResultRow & { rule: RuleRow })[] }[] = [];
      for (const v of batch) {
        const device = devices.get(v.deviceName);
        if (!device) continue;
        const text = texts.get(v.contentHash);
        const results = rules
          .filter((r) => inScope(r, device))
          .map((rule) => {
            const base = {
              deviceId: device.id,
              ruleId: rule.id,
              deviceName: device.name,
              versionId: v.id,
              repositoryId: v.repositoryId,
              commitSha: v.commitSha,
              evaluatedAt: now,
              rule,
            };
            if (text === undefined) {
              return { ...base, status: 'error' as const, missing: [], extra: [], error: 'the configuration could not be read from the mirror' };
            }
            return { ...base, ...evaluateRule(rule, text), error: null };
          });
        perDevice.push({ device, results });
      }
      await uow(async ({ db, repo: r }, tx) => {
        let events = 0;
        for (const { device, results } of perDevice) {
          await r.removeResults(
            device.id,
            results.map((x) => x.ruleId),
          );
          await r.upsert(results.filter((x) => x.status !== 'noncompliant').map(({ rule: _, ...row }) => row));
          for (const { rule, ...row } of results.filter((x) => x.status === 'noncompliant')) {
            if (!(await r.markNoncompliant(row))) continue;
            events++;
            await deps.events.record(db, 'config.noncompliant', {
              device_id: row.deviceId,
              device: row.deviceName,
              rule_id: rule.id,
              rule: rule.name,
              severity: rule.severity,
              repository_id: row.repositoryId,
              commit: row.commitSha,
              version_id: row.versionId,
              missing: row.missing.slice(0, EVENT_LINES),
              extra: row.extra.slice(0, EVENT_LINES),
              missing_count: row.missing.length,
              extra_count: row.extra.length,
            });
          }
        }
        totals.newly_noncompliant += events;
        if (events) tx.afterCommit(() => deps.events.relay());
      });
      totals.devices += perDevice.length;
      for (const { results } of perDevice) {
        totals.results += results.length;
        totals.noncompliant += results.filter((x) => x.status === 'noncompliant').length;
      }
    }
    return totals;
  }

  return {
    async listRules(actor: Actor, q: { limit?: number; cursor?: string; active?: boolean }) {
      requirePermission(actor, 'configs:read');
      const keys = parseSort('name', { name: 'name' }, 'id', 'name', ['name']);
      const page = await repo.listRules({ active: q.active }, keys, q.cursor, q.limit ?? 50);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },

    async getRule(actor: Actor, id: string) {
      requirePermission(actor, 'configs:read');
      const r = await repo.findRule(id);
      if (!r) throw notFound(id);
      return toView(r);
    },

    async createRule(actor: Actor, body: CreateRuleBody) {
      requirePermission(actor, 'configs:write');
      const now = new Date().toISOString();
      const row: RuleRow = {
        id: newId(),
        name: body.name,
        description: body.description ?? '',
        kind: body.kind,
        platformIds: (body.scope?.platform_ids ?? []).map((x) => x.toLowerCase()),
        roleIds: (body.scope?.role_ids ?? []).map((x) => x.toLowerCase()),
        locationIds: (body.scope?.location_ids ?? []).map((x) => x.toLowerCase()),
        lines: body.lines ?? [],
        parent: body.parent ?? null,
        ordered: body.ordered ?? false,
        pattern: body.pattern ?? null,
        severity: body.severity ?? 'warning',
        active: body.active ?? true,
        createdBy: actor.id,
        createdAt: now,
        updatedAt: now,
      };
      return save(actor, row, 'created', body);
    },

    /** A changed rule's results are refreshed by the next evaluation (a new version, or POST /configs/compliance/evaluate). */
    async updateRule(actor: Actor, id: string, body: UpdateRuleBody) {
      requirePermission(actor, 'configs:write');
      const current = await repo.findRule(id);
      if (!current) throw notFound(id);
      const scope = body.scope ?? {};
      const row: RuleRow = {
        ...current,
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.kind !== undefined ? { kind: body.kind } : {}),
        ...(scope.platform_ids !== undefined ? { platformIds: scope.platform_ids.map((x) => x.toLowerCase()) } : {}),
        ...(scope.role_ids !== undefined ? { roleIds: scope.role_ids.map((x) => x.toLowerCase()) } : {}),
        ...(scope.location_ids !== undefined ? { locationIds: scope.location_ids.map((x) => x.toLowerCase()) } : {}),
        ...(body.lines !== undefined ? { lines: body.lines } : {}),
        ...(body.parent !== undefined ? { parent: body.parent } : {}),
        ...(body.ordered !== undefined ? { ordered: body.ordered } : {}),
        ...(body.pattern !== undefined ? { pattern: body.pattern } : {}),
        ...(body.severity !== undefined ? { severity: body.severity } : {}),
        ...(body.active !== undefined ? { active: body.active } : {}),
        updatedAt: new Date().toISOString(),
      };
      return save(actor, row, 'updated', body);
    },

    async removeRule(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'configs:write');
      await uow(async ({ db, repo: r }) => {
        if (!(await r.removeRule(id))) throw notFound(id);
        await deps.audit.record(db, {
          actor,
          action: 'config_compliance_rule.deleted',
          resourceType: 'config_compliance_rule',
          resourceId: id,
          outcome: 'success',
        });
      });
    },

    /**
     * On demand, in the request: the whole fleet (or the given devices) in batches of 200 devices,
     * each batch one transaction. It reads only the index and the in-memory content cache.
     */
    async evaluate(actor: Actor, body: { device_ids?: string[] }) {
      requirePermission(actor, 'configs:write');
      let names: string[] | null = null;
      if (body.device_ids) {
        const found = await deps.inventory.devices({ ids: body.device_ids.map((x) => x.toLowerCase()) });
        const missing = body.device_ids.filter((id) => !found.some((d) => d.id === id.toLowerCase()));
        if (missing.length) {
          throw new ValidationError('COMPLIANCE_DEVICE_NOT_FOUND', 'Unknown devices', [
            { path: 'body.device_ids', message: `no such device: ${missing.slice(0, 5).join(', ')}` },
          ]);
        }
        names = found.map((d) => d.name);
      }
      return serial(() => evaluate(names));
    },

    /** After the history index committed new versions: evaluates those devices, off the sync's path (errors are logged). */
    afterIndex(deviceNames: readonly string[]): void {
      if (deviceNames.length === 0) return;
      serial(() => evaluate([...new Set(deviceNames)])).catch((err: unknown) =>
        deps.logger.warn({ err, devices: deviceNames.length }, 'compliance evaluation after a sync failed'),
      );
    },

    /** Resolves when evaluations started so far have finished (shutdown, tests). */
    idle: () => chain.then(() => undefined),

    async summaries(actor: Actor, q: { limit?: number; cursor?: string; device?: string; rule?: string; status?: string }) {
      requirePermission(actor, 'configs:read');
      const page = await repo.summaries({ device: q.device?.toLowerCase(), rule: q.rule?.toLowerCase(), status: q.status }, q.cursor, q.limit ?? 50);
      return {
        items: page.items.map((s) => {
          const [noncompliant, errors] = [Number(s.noncompliant), Number(s.errors)];
          return {
            device_id: s.deviceId,
            device: s.deviceName,
            status: noncompliant > 0 ? ('noncompliant' as const) : errors > 0 ? ('error' as const) : ('compliant' as const),
            rules: Number(s.rules),
            compliant: Number(s.compliant),
            noncompliant,
            errors,
            evaluated_at: new Date(s.evaluatedAt as string).toISOString(),
          };
        }),
        next_cursor: page.next_cursor,
      };
    },

    async device(actor: Actor, deviceId: string) {
      requirePermission(actor, 'configs:read');
      const name = await deps.deviceName(actor, deviceId);
      const rows = await repo.deviceResults(deviceId.toLowerCase());
      const status = rows.some((r) => r.status === 'noncompliant')
        ? 'noncompliant'
        : rows.some((r) => r.status === 'error')
          ? 'error'
          : rows.length
            ? 'compliant'
            : null;
      return {
        device_id: deviceId.toLowerCase(),
        device: name,
        status: status as ResultRow['status'] | null,
        results: rows.map((r) => ({
          rule_id: r.ruleId,
          rule: r.name,
          severity: r.severity as Rule['severity'],
          status: r.status as ResultRow['status'],
          missing: r.missing,
          extra: r.extra,
          error: r.error,
          version_id: r.versionId,
          repository_id: r.repositoryId,
          commit: r.commitSha,
          evaluated_at: r.evaluatedAt,
        })),
      };
    },
  };
}

export type ComplianceService = ReturnType<typeof createComplianceService>;
