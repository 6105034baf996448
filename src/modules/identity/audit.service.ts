import { createMemoryRateLimitStore, type RateLimitStore } from '../../platform/http/rate-limit.js';
import type { Db, Write } from '../../platform/db/database.js';
import { newId, nowIso } from '../../platform/ids.js';
import { hasPermission, requirePermission, type Actor } from '../../platform/http/auth.js';
import { inTeamScope, teamScope, type TeamScope } from '../../platform/db/team-scope.js';
import { SECURITY_EVENT, securityEventOwner, type SecurityEventSink } from './security-events.js';
import { parseFilters, type FilterFields } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import { createAuditRepository, type AuditRow } from './audit.repository.js';

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  actor: Actor;
  /** `<resource>.<verb>`, e.g. `device.created`, `auth.login.failed`, `credential.revealed`. */
  action: string;
  resourceType: string;
  resourceId?: string | null;
  outcome: AuditOutcome;
  /** Changed fields; secret-looking keys are dropped before writing. */
  changes?: Record<string, unknown> | null;
}

export const AUDIT_FILTERS: FilterFields = {
  actor_id: { type: 'uuid', column: 'actorId' },
  actor_name: { type: 'string', column: 'actorName' },
  actor_kind: { type: 'enum', column: 'actorKind', values: ['user', 'api_key', 'system', 'anonymous'] },
  action: { type: 'string', column: 'action' },
  resource_type: { type: 'string', column: 'resourceType' },
  resource_id: { type: 'string', column: 'resourceId' },
  outcome: { type: 'enum', column: 'outcome', values: ['success', 'failure', 'denied'] },
  user_agent: { type: 'string', column: 'userAgent' },
  time: { type: 'date', column: 'time' },
};
export const AUDIT_SORT = { time: 'time', action: 'action' };

const SECRET_KEY = /pass|secret|token|key|totp|hash|credential|community|private/i;

/** Drops secret-looking fields (any depth) and bounds the size: audit never stores secret values. */
/** The team (null: shared) of each id that exists, for one resource type. */
export type TeamsOf = (ids: readonly string[]) => Promise<Map<string, string | null>>;

export function sanitiseChanges(changes: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(changes).slice(0, 50)) {
    if (SECRET_KEY.test(k)) {
      out[k] = '[REDACTED]';
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = depth < 2 ? sanitiseChanges(v as Record<string, unknown>, depth + 1) : '[…]';
    } else if (typeof v === 'string') {
      out[k] = v.length > 500 ? `${v.slice(0, 500)}…` : v;
    } else if (Array.isArray(v)) {
      out[k] = v.slice(0, 50).map((x) => (typeof x === 'string' ? x.slice(0, 200) : typeof x === 'number' || typeof x === 'boolean' ? x : '[…]'));
    } else {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The audit log. `record(trx, entry)` is called by every module inside its own transaction,
 * so the record commits or rolls back with the change it describes.
 */
export function createAuditService(deps: { db: Db; clock?: () => number; events?: SecurityEventSink | undefined; denials?: RateLimitStore | undefined }) {
  const clock = deps.clock ?? Date.now;
  /** Where denials are counted (see `recordDenied`): the shared rate-limit store (Redis in a cluster), so the bound holds across nodes. */
  const denials = deps.denials ?? createMemoryRateLimitStore(clock);
  /** Team-scoped resource types (registered by their modules): the team of each id. */
  const teamScoped = new Map<string, TeamsOf>();
  function toRow(entry: AuditEntry): AuditRow {
    const a = entry.actor;
    return {
      id: newId(),
      time: nowIso(clock),
      actorKind: a.kind,
      // The anonymous actor of a failed login has no id.
      actorId: a.id && a.id !== '' ? a.id : null,
      actorName: a.name.slice(0, 200),
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId?.slice(0, 200) ?? null,
      outcome: entry.outcome,
      ip: a.ip ?? null,
      requestId: a.requestId ?? null,
      userAgent: a.userAgent?.slice(0, 256) ?? null,
      changes: entry.changes ? sanitiseChanges(entry.changes) : null,
    };
  }
  /** Drops entries about another team's object (a page may come out shorter than the limit; its cursor stays valid). */
  async function visible(scope: TeamScope, rows: AuditRow[]): Promise<AuditRow[]> {
    const hidden = new Set<string>();
    for (const [type, teamsOf] of teamScoped) {
      const ids = rows.filter((r) => r.resourceType === type && r.resourceId !== null).map((r) => r.resourceId!);
      if (ids.length === 0) continue;
      for (const [id, team] of await teamsOf(ids)) if (!inTeamScope(scope, team)) hidden.add(`${type}:${id}`);
    }
    return rows.filter((r) => !hidden.has(`${r.resourceType}:${r.resourceId ?? ''}`));
  }

  function view(r: AuditRow) {
    return {
      id: r.id,
      time: r.time,
      actor: { kind: r.actorKind, id: r.actorId, name: r.actorName },
      action: r.action,
      resource_type: r.resourceType,
      resource_id: r.resourceId,
      outcome: r.outcome,
      ip: r.ip,
      user_agent: r.userAgent,
      request_id: r.requestId,
      changes: r.changes,
    };
  }
  return {
    /**
     * Writes the entry; a security event of an account (security-events.ts) also writes a
     * `security.event` domain event in the same transaction, for the owner's notification.
     */
    async record(dbOrTrx: Db, entry: AuditEntry): Promise<void> {
      const row = toRow(entry);
      const owner = deps.events ? securityEventOwner(entry) : null;
      // Together: a failed sign-in of an existing user must not take measurably longer than one of
      // an unknown name (login-timing.test.ts), which writes no security event.
      await Promise.all([
        createAuditRepository(dbOrTrx).insert([row]),
        owner && deps.events
          ? deps.events.record(dbOrTrx, SECURITY_EVENT, {
              user_id: owner,
              audit_id: row.id,
              action: row.action,
              outcome: row.outcome,
              time: row.time,
              ip: row.ip,
              user_agent: row.userAgent,
            })
          : null,
      ]);
    },
    /**
     * The write that records several entries, not yet run: the caller executes it with the
     * change it describes (see `writeAtomically`), so both commit or neither does.
     */
    recordWrite(entries: readonly AuditEntry[]): Write {
      return createAuditRepository(deps.db).insertWrite(entries.map(toRow));
    },
    /**
     * An authorization denial (`outcome: 'denied'`), at most once per principal, action and
     * resource per minute: a flood of refused requests cannot grow the table without bound.
     * Returns whether it was written.
     */
    async recordDenied(entry: Omit<AuditEntry, 'outcome'>): Promise<boolean> {
      const key = `audit-denied:${entry.actor.kind}:${entry.actor.id}|${entry.action}|${entry.resourceId ?? ''}`;
      if ((await denials.hit(key, 60_000)).count > 1) return false;
      await createAuditRepository(deps.db).insert([toRow({ ...entry, outcome: 'denied' })]);
      return true;
    },
    async list(actor: Actor, query: Record<string, unknown> & { limit?: number; cursor?: string; sort?: string }) {
      requirePermission(actor, 'audit:read');
      const keys = parseSort(query.sort, AUDIT_SORT, 'id', '-time');
      const limit = query.limit ?? 50;
      // Without audit:read-all, entries about another team's resources are absent (ids included).
      const scope = hasPermission(actor, 'audit:read-all') ? 'all' : teamScope(actor);
      const page = await createAuditRepository(deps.db).list(parseFilters(query, AUDIT_FILTERS), keys, query.cursor, limit);
      const items = scope === 'all' ? page.items : await visible(scope, page.items);
      return { items: items.map(view), next_cursor: page.next_cursor };
    },
    /** Registers team-scoped resource types (`credential`, `job_run`…) for the audit list's filtering. */
    registerTeamScoped(types: Record<string, TeamsOf>): void {
      for (const [type, teamsOf] of Object.entries(types)) teamScoped.set(type, teamsOf);
    },
    async securityEvents(actor: Actor, query: { limit?: number; cursor?: string }) {
      requirePermission(actor, 'account:read');
      const keys = parseSort(undefined, AUDIT_SORT, 'id', '-time');
      const page = await createAuditRepository(deps.db).securityEvents(actor.userId ?? actor.id, keys, query.cursor, query.limit ?? 50);
      return { items: page.items.map(view), next_cursor: page.next_cursor };
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
