import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../platform/db/database.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters, type FilterFields } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId } from '../../platform/ids.js';
import { defaultDedupKey, fromAlertmanager, type AlertmanagerAlert, type AlertState, type DeviceContext, type IngestInput } from './alerts.fns.js';
import type { AlertRow, AlertsRepository, Note } from './alerts.repository.js';
import type { NotificationsRepository } from './notifications.repository.js';
import { routeChange, type AlertChange } from './routing.js';

export interface AuditPort {
  record(
    db: Db,
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}
export interface EventsPort {
  record(db: Db, name: string, payload: unknown): Promise<unknown>;
  relay(): Promise<void>;
}
/** What routing reads from other modules: the device an alert is about, and which referenced ids exist. */
export interface RoutingRefsPort {
  /** The device (by id or name) and its location with every ancestor, read through `db` (the alert's transaction); null when unknown. */
  deviceContext(db: Db, ref: { deviceId: string } | { name: string }): Promise<DeviceContext | null>;
  /** The ids among `ids` that name no device / location / team. */
  unknown(kind: 'device' | 'location' | 'team', ids: readonly string[]): Promise<string[]>;
}
export type AlertsRepos = { alerts: AlertsRepository; notifications: NotificationsRepository; db: Db };

export interface AlertsServiceDeps {
  repo: AlertsRepository;
  unitOfWork: UnitOfWork<AlertsRepos>;
  events: EventsPort;
  audit: AuditPort;
  now: () => number;
  /** Wakes the delivery worker after a commit that wrote notifications. */
  wake: () => void;
  /** The inventory device an alert names, read through the given handle (routing on device/location). */
  deviceContext?: RoutingRefsPort['deviceContext'];
}

export const ALERT_FILTERS: FilterFields = {
  source: { type: 'string', column: 'source' },
  severity: { type: 'enum', column: 'severity', values: ['critical', 'major', 'minor', 'warning', 'info'] },
  state: { type: 'enum', column: 'state', values: ['open', 'acknowledged', 'resolved'] },
  assignee_id: { type: 'uuid', column: 'assigneeId' },
  dedup_key: { type: 'string', column: 'dedupKey' },
  last_seen_at: { type: 'date', column: 'lastSeenAt' },
  first_seen_at: { type: 'date', column: 'firstSeenAt' },
  count: { type: 'number', column: 'count', integer: 'int32' },
};
const SORTS = { last_seen_at: 'lastSeenAt', first_seen_at: 'firstSeenAt', severity: 'severity', state: 'state', count: 'count', title: 'title' };

export const alertView = (a: AlertRow) => ({
  id: a.id,
  source: a.source,
  title: a.title,
  description: a.description,
  severity: a.severity as 'critical' | 'major' | 'minor' | 'warning' | 'info',
  labels: a.labels,
  dedup_key: a.dedupKey,
  state: a.state as AlertState,
  count: a.count,
  assignee_id: a.assigneeId,
  notes: a.notes,
  auto_resolve_at: a.autoResolveAt,
  first_seen_at: a.firstSeenAt,
  last_seen_at: a.lastSeenAt,
  acknowledged_at: a.acknowledgedAt,
  acknowledged_by: a.acknowledgedBy,
  resolved_at: a.resolvedAt,
  resolved_by: a.resolvedBy,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});

const TOKEN_TOUCH_MS = 60_000;
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const who = (actor: Actor) => `${actor.kind}:${actor.name}`.slice(0, 200);

/** Alerts: ingest with dedup, the lifecycle, notes and assignment, inbound tokens. Every change writes its outbox rows in its transaction. */
export function createAlertsService(deps: AlertsServiceDeps) {
  const iso = () => new Date(deps.now()).toISOString();

  async function changed(
    repos: AlertsRepos,
    alert: AlertRow,
    change: AlertChange | 'updated',
    afterCommit: (fn: () => void | Promise<void>) => void,
  ): Promise<void> {
    await deps.events.record(repos.db, `alert.${change}`, {
      id: alert.id,
      source: alert.source,
      title: alert.title,
      severity: alert.severity,
      state: alert.state,
      count: alert.count,
      dedup_key: alert.dedupKey,
    });
    const lookup = deps.deviceContext && ((ref: Parameters<RoutingRefsPort['deviceContext']>[1]) => deps.deviceContext!(repos.db, ref));
    const queued = change === 'updated' ? 0 : await routeChange(repos.notifications, alert, change, deps.now(), lookup);
    afterCommit(() => {
      if (queued > 0) deps.wake();
      void deps.events.relay().catch(() => undefined);
    });
  }

  /**
   * One ingest in the caller's transaction: a new alert, a repeat of the open one with the same
   * dedup key (count + 1, `last_seen_at`), or — `status: resolved` — the open one resolved.
   */
  async function ingestIn(
    repos: AlertsRepos,
    input: IngestInput,
    by: string,
    afterCommit: (fn: () => void | Promise<void>) => void,
  ): Promise<{ alert: AlertRow | null; outcome: 'created' | 'deduplicated' | 'resolved' | 'ignored' }> {
    const key = input.dedup_key ?? defaultDedupKey(input);
    const now = iso();
    const autoResolveAt = input.resolve_after_seconds ? new Date(deps.now() + input.resolve_after_seconds * 1000).toISOString() : null;
    const open = await repos.alerts.findOpen(key);
    if (input.status === 'resolved') {
      if (
        !open ||
        !(await repos.alerts.transition(open.id, ['open', 'acknowledged'], { state: 'resolved', resolvedAt: now, resolvedBy: by, updatedAt: now }))
      ) {
        return { alert: open ?? null, outcome: 'ignored' };
      }
      const alert = (await repos.alerts.find(open.id))!;
      await changed(repos, alert, 'resolved', afterCommit);
      return { alert, outcome: 'resolved' };
    }
    if (
      open &&
      (await repos.alerts.repeat(open.id, {
        title: input.title,
        description: input.description ?? open.description,
        severity: input.severity,
        lastSeenAt: now,
        autoResolveAt,
      }))
    ) {
      const alert = (await repos.alerts.find(open.id))!;
      await changed(repos, alert, 'repeated', afterCommit);
      return { alert, outcome: 'deduplicated' };
    }
    const alert: AlertRow = {
      id: newId(),
      source: input.source,
      title: input.title,
      description: input.description ?? '',
      severity: input.severity,
      labels: input.labels ?? {},
      dedupKey: key,
      state: 'open',
      count: 1,
      assigneeId: null,
      notes: [],
      autoResolveAt,
      firstSeenAt: now,
      lastSeenAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      createdAt: now,
      updatedAt: now,
    };
    await repos.alerts.insert(alert);
    await changed(repos, alert, 'opened', afterCommit);
    return { alert, outcome: 'created' };
  }

  /** Runs an ingest in its own transaction; a concurrent first ingest of the same key wins and this one repeats it. */
  async function ingest(input: IngestInput, by: string) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await deps.unitOfWork((repos, tx) => ingestIn(repos, input, by, tx.afterCommit));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt < 2 && (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE')) continue;
        throw err;
      }
    }
  }

  async function load(id: string): Promise<AlertRow> {
    const a = await deps.repo.find(id);
    if (!a) throw new NotFoundError('ALERT_NOT_FOUND', `Alert ${id} not found`);
    return a;
  }

  async function transition(actor: Actor, id: string, to: 'acknowledged' | 'resolved', note: string | undefined) {
    requirePermission(actor, 'alerts:write');
    await load(id);
    const from = to === 'acknowledged' ? ['open'] : ['open', 'acknowledged'];
    return deps.unitOfWork(async (repos, tx) => {
      const now = iso();
      const set =
        to === 'acknowledged'
          ? { state: to, acknowledgedAt: now, acknowledgedBy: who(actor), updatedAt: now }
          : { state: to, resolvedAt: now, resolvedBy: who(actor), updatedAt: now };
      if (!(await repos.alerts.transition(id, from, set))) {
        const current = await repos.alerts.find(id);
        throw new ConflictError('ALERT_STATE_CONFLICT', `The alert is ${current?.state ?? 'gone'}; it cannot become ${to}`);
      }
      if (note) await repos.alerts.update(id, { notes: [...(await repos.alerts.find(id))!.notes, { at: now, by: who(actor), text: note }], updatedAt: now });
      const alert = (await repos.alerts.find(id))!;
      await deps.audit.record(repos.db, {
        actor,
        action: `alert.${to}`,
        resourceType: 'alert',
        resourceId: id,
        outcome: 'success',
        changes: note ? { note } : null,
      });
      await changed(repos, alert, to, tx.afterCommit);
      return alertView(alert);
    });
  }

  async function byToken(token: string | undefined) {
    if (!token) throw new UnauthorizedError('ALERT_INGEST_TOKEN_REQUIRED', 'An ingest token is required (Authorization: Bearer <token>)');
    // Looked up by its SHA-256: the token itself is never stored.
    const row = await deps.repo.tokenByHash(hashToken(token));
    if (!row) throw new UnauthorizedError('ALERT_INGEST_TOKEN_INVALID', 'The ingest token is not valid');
    // `last_used_at` to the minute: a busy sender does not pay a second write per event.
    if (!row.lastUsedAt || Date.parse(row.lastUsedAt) <= deps.now() - TOKEN_TOUCH_MS) await deps.repo.touchToken(row.id, iso());
    return row;
  }

  return {
    ingestIn,
    async list(actor: Actor, query: Record<string, unknown> & { limit?: number; cursor?: string; sort?: string; q?: string; label?: string[] }) {
      requirePermission(actor, 'alerts:read');
      const labels = (query.label ?? []).map((l): [string, string] => {
        const i = l.indexOf('=');
        if (i <= 0) {
          throw new ValidationError('ALERT_FILTER_INVALID', 'A label filter is key=value', [
            { path: 'query.label', message: `'${l.slice(0, 100)}' is not key=value` },
          ]);
        }
        return [l.slice(0, i), l.slice(i + 1)];
      });
      const keys = parseSort(query.sort, SORTS, 'id', '-last_seen_at', ['last_seen_at', 'first_seen_at', 'severity', 'state', 'count', 'title']);
      const page = await deps.repo.list(parseFilters(query, ALERT_FILTERS), labels, keys, query.cursor, query.limit ?? 50, query.q);
      return { items: page.items.map(alertView), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'alerts:read');
      return alertView(await load(id));
    },
    async create(actor: Actor, input: IngestInput) {
      requirePermission(actor, 'alerts:write');
      const r = await ingest(input, who(actor));
      return { outcome: r.outcome, alert: r.alert ? alertView(r.alert) : null };
    },
    acknowledge: (actor: Actor, id: string, note?: string) => transition(actor, id, 'acknowledged', note),
    resolve: (actor: Actor, id: string, note?: string) => transition(actor, id, 'resolved', note),
    async update(actor: Actor, id: string, body: { assignee_id?: string | null; note?: string }) {
      requirePermission(actor, 'alerts:write');
      const current = await load(id);
      return deps.unitOfWork(async (repos, tx) => {
        const now = iso();
        const notes: Note[] | undefined = body.note ? [...current.notes, { at: now, by: who(actor), text: body.note }] : undefined;
        await repos.alerts.update(id, {
          ...(body.assignee_id !== undefined ? { assigneeId: body.assignee_id } : {}),
          ...(notes ? { notes } : {}),
          updatedAt: now,
        });
        const alert = (await repos.alerts.find(id))!;
        await deps.audit.record(repos.db, { actor, action: 'alert.updated', resourceType: 'alert', resourceId: id, outcome: 'success', changes: { ...body } });
        await changed(repos, alert, 'updated', tx.afterCommit);
        return alertView(alert);
      });
    },
    async remove(actor: Actor, id: string) {
      requirePermission(actor, 'alerts:write');
      await load(id);
      await deps.unitOfWork(async (repos) => {
        await repos.alerts.remove(id);
        await deps.audit.record(repos.db, { actor, action: 'alert.deleted', resourceType: 'alert', resourceId: id, outcome: 'success' });
      });
    },
    /** POST /alerts/ingest/alertmanager: each alert of the group, firing → open/repeat, resolved → resolved. */
    async ingestAlertmanager(token: string | undefined, payload: { alerts: AlertmanagerAlert[]; commonLabels?: Record<string, string> | undefined }) {
      const t = await byToken(token);
      const results = [];
      for (const a of payload.alerts) results.push(await ingest({ ...fromAlertmanager(a, payload.commonLabels ?? {}), source: t.source }, `token:${t.name}`));
      return { received: results.length, outcomes: results.map((r) => ({ outcome: r.outcome, alert_id: r.alert?.id ?? null })) };
    },
    async ingestGeneric(token: string | undefined, input: Omit<IngestInput, 'source'> & { source?: string | undefined }) {
      const t = await byToken(token);
      const r = await ingest({ ...input, source: input.source ?? t.source }, `token:${t.name}`);
      return { outcome: r.outcome, alert_id: r.alert?.id ?? null };
    },
    /** Resolves alerts whose `resolve_after_seconds` passed without a repeat. */
    async autoResolve(): Promise<number> {
      const ids = await deps.repo.dueForAutoResolve(iso(), 200);
      let n = 0;
      for (const id of ids) {
        await deps.unitOfWork(async (repos, tx) => {
          const now = iso();
          if (
            !(await repos.alerts.transition(id, ['open', 'acknowledged'], {
              state: 'resolved',
              resolvedAt: now,
              resolvedBy: 'system:auto-resolve',
              updatedAt: now,
            }))
          ) {
            return;
          }
          n++;
          await changed(repos, (await repos.alerts.find(id))!, 'resolved', tx.afterCommit);
        });
      }
      return n;
    },
    async createToken(actor: Actor, body: { name: string; source?: string | undefined }) {
      requirePermission(actor, 'alerts:write');
      if (await deps.repo.tokenNameTaken(body.name)) {
        throw new ConflictError('ALERT_INGEST_TOKEN_EXISTS', `An ingest token named '${body.name}' exists`, [{ path: 'body.name', message: 'is taken' }]);
      }
      const token = `odin_${randomBytes(24).toString('base64url')}`;
      const row = {
        id: newId(),
        name: body.name,
        tokenHash: hashToken(token),
        source: body.source ?? 'webhook',
        createdBy: who(actor),
        lastUsedAt: null,
        createdAt: iso(),
      };
      await deps.unitOfWork(async (repos) => {
        await repos.alerts.insertToken(row);
        await deps.audit.record(repos.db, {
          actor,
          action: 'alert_ingest_token.created',
          resourceType: 'alert_ingest_token',
          resourceId: row.id,
          outcome: 'success',
          changes: { name: row.name, source: row.source },
        });
      });
      return { ...tokenView(row), token };
    },
    async listTokens(actor: Actor) {
      requirePermission(actor, 'alerts:read');
      return { items: (await deps.repo.listTokens()).map(tokenView), next_cursor: null };
    },
    async deleteToken(actor: Actor, id: string) {
      requirePermission(actor, 'alerts:write');
      await deps.unitOfWork(async (repos) => {
        if (!(await repos.alerts.removeToken(id))) throw new NotFoundError('ALERT_INGEST_TOKEN_NOT_FOUND', `Ingest token ${id} not found`);
        await deps.audit.record(repos.db, {
          actor,
          action: 'alert_ingest_token.deleted',
          resourceType: 'alert_ingest_token',
          resourceId: id,
          outcome: 'success',
        });
      });
    },
  };
}
export type AlertsService = ReturnType<typeof createAlertsService>;

const tokenView = (t: { id: string; name: string; source: string; createdBy: string; lastUsedAt: string | null; createdAt: string }) => ({
  id: t.id,
  name: t.name,
  source: t.source,
  created_by: t.createdBy,
  last_used_at: t.lastUsedAt,
  created_at: t.createdAt,
});
