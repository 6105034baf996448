import type { Envelope } from '../../platform/crypto/index.js';
import { checkOutboundUrl, type EgressPolicy } from '../../platform/egress/index.js';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId } from '../../platform/ids.js';
import { quietHoursProblem, type QuietHours, type RuleMatch } from './alerts.fns.js';
import type { AuditPort, RoutingRefsPort } from './alerts.service.js';
import { CHANNEL_SPECS, type ChannelSettings, type ChannelType } from './channels.js';
import { checkPushChannel, pushUrls } from './channels.push.js';
import { channelSecretRef, openSecrets, type DeliveryWorker } from './delivery.js';
import type { ChannelRow, NotificationRow, NotificationsRepository, RuleRow } from './notifications.repository.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import type { AlertsRepos } from './alerts.service.js';

export interface ChannelInput {
  name: string;
  type: ChannelType;
  enabled?: boolean | undefined;
  settings?: ChannelSettings | undefined;
  secrets?: Record<string, string | undefined> | undefined;
  template?: { subject?: string | undefined; body?: string | undefined } | null | undefined;
}
export interface RuleInput {
  name: string;
  enabled?: boolean | undefined;
  match?: RuleMatch | undefined;
  channel_ids: string[];
  repeat_interval_seconds?: number | null | undefined;
  quiet_hours?: QuietHours | null | undefined;
  escalate_after_minutes?: number | null | undefined;
  escalation_channel_ids?: string[] | undefined;
  group_window_seconds?: number | undefined;
  group_by?: string[] | undefined;
}

export const channelView = (c: ChannelRow) => ({
  id: c.id,
  name: c.name,
  type: c.type as ChannelType,
  enabled: c.enabled,
  settings: c.settings as ChannelSettings,
  template: c.template,
  // Which secret fields are set, never their values.
  secrets: Object.fromEntries(Object.keys(c.secretsSealed ?? {}).map((k) => [k, { set: true as const }])),
  created_at: c.createdAt,
  updated_at: c.updatedAt,
});
export const ruleView = (r: RuleRow) => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled,
  match: r.match,
  channel_ids: r.channelIds,
  repeat_interval_seconds: r.repeatIntervalSeconds,
  quiet_hours: r.quietHours,
  escalate_after_minutes: r.escalateAfterMinutes,
  escalation_channel_ids: r.escalationChannelIds,
  group_window_seconds: r.groupWindowSeconds,
  group_by: r.groupBy,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});
export const notificationView = (n: NotificationRow) => ({
  id: n.id,
  alert_id: n.alertId,
  channel_id: n.channelId,
  rule_id: n.ruleId,
  kind: n.kind as 'alert' | 'escalation' | 'group' | 'security' | 'test',
  action: n.action as 'trigger' | 'acknowledge' | 'resolve',
  status: n.status as 'pending' | 'running' | 'delivered' | 'dead' | 'cancelled',
  attempts: n.attempts,
  next_attempt_at: n.nextAttemptAt,
  last_status_code: n.lastStatusCode,
  last_error: n.lastError,
  delivered_at: n.deliveredAt,
  created_at: n.createdAt,
  updated_at: n.updatedAt,
});

export interface NotificationsServiceDeps {
  repo: NotificationsRepository;
  unitOfWork: UnitOfWork<AlertsRepos>;
  envelope: Envelope;
  egress: EgressPolicy;
  audit: AuditPort;
  worker: DeliveryWorker;
  now: () => number;
  /** Which devices, locations and teams a rule's match names exist. */
  refs: Pick<RoutingRefsPort, 'unknown'>;
}

/** Channels (secrets sealed in the vault), routing rules, the delivery log and the dead-letter replay. */
export function createNotificationsService(deps: NotificationsServiceDeps) {
  const iso = () => new Date(deps.now()).toISOString();

  async function validateChannel(type: ChannelType, settings: ChannelSettings, secrets: Record<string, string>): Promise<void> {
    const spec = CHANNEL_SPECS[type];
    const errors: FieldError[] = [];
    for (const f of spec.required) {
      if ((settings as Record<string, unknown>)[f] === undefined) errors.push({ path: `body.settings.${f}`, message: `is required for ${type} channels` });
    }
    for (const f of spec.requiredSecrets) if (!secrets[f]) errors.push({ path: `body.secrets.${f}`, message: `is required for ${type} channels` });
    for (const f of Object.keys(secrets)) {
      if (!spec.secrets.includes(f)) {
        errors.push({ path: `body.secrets.${f}`, message: `is not a secret of ${type} channels (${spec.secrets.join(', ') || 'none'})` });
      }
    }
    errors.push(...(await checkPushChannel(type, settings, secrets)));
    const urls: [string, string | undefined][] = [
      ['body.settings.url', settings.url],
      ['body.settings.events_url', settings.events_url],
      ['body.secrets.webhook_url', secrets.webhook_url],
      ...(await pushUrls(type, settings, secrets)),
    ];
    for (const [path, url] of urls) {
      if (!url) continue;
      const problem = await checkOutboundUrl(deps.egress, url);
      // The message names the rule, never the URL (a Slack/Teams URL is a secret).
      if (problem) errors.push({ path, message: problem.kind === 'invalid' ? problem.message : 'the egress policy refuses this address' });
    }
    if (errors.length > 0) throw new ValidationError('NOTIFICATION_CHANNEL_INVALID', 'The channel is invalid', errors);
  }

  async function loadChannel(id: string): Promise<ChannelRow> {
    const c = await deps.repo.findChannel(id);
    if (!c) throw new NotFoundError('NOTIFICATION_CHANNEL_NOT_FOUND', `Channel ${id} not found`);
    return c;
  }

  async function checkRule(input: Partial<RuleInput>): Promise<void> {
    const errors: FieldError[] = [];
    for (const [field, ids] of [
      ['channel_ids', input.channel_ids],
      ['escalation_channel_ids', input.escalation_channel_ids],
    ] as const) {
      if (!ids) continue;
      const found = new Set((await deps.repo.channelsById(ids)).map((c) => c.id));
      ids.forEach((id, i) => !found.has(id) && errors.push({ path: `body.${field}.${i}`, message: `no channel ${id}` }));
    }
    for (const [field, kind] of [
      ['device_ids', 'device'],
      ['location_ids', 'location'],
      ['team_ids', 'team'],
    ] as const) {
      const ids = input.match?.[field];
      if (!ids?.length) continue;
      const unknown = new Set(await deps.refs.unknown(kind, ids));
      ids.forEach((id, i) => unknown.has(id) && errors.push({ path: `body.match.${field}.${i}`, message: `no ${kind} ${id}` }));
    }
    const quiet = input.quiet_hours ? quietHoursProblem(input.quiet_hours) : null;
    if (quiet) errors.push({ path: 'body.quiet_hours', message: quiet });
    if (errors.length > 0) throw new ValidationError('NOTIFICATION_RULE_INVALID', 'The rule is invalid', errors);
  }

  async function loadRule(id: string): Promise<RuleRow> {
    const r = await deps.repo.findRule(id);
    if (!r) throw new NotFoundError('NOTIFICATION_RULE_NOT_FOUND', `Rule ${id} not found`);
    return r;
  }

  return {
    async listChannels(actor: Actor) {
      requirePermission(actor, 'notifications:read');
      return { items: (await deps.repo.listChannels()).map(channelView), next_cursor: null };
    },
    async getChannel(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:read');
      return channelView(await loadChannel(id));
    },
    async createChannel(actor: Actor, body: ChannelInput) {
      requirePermission(actor, 'notifications:write');
      const settings = body.settings ?? {};
      const secrets = Object.fromEntries(Object.entries(body.secrets ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
      await validateChannel(body.type, settings, secrets);
      if (await deps.repo.channelNameTaken(body.name)) {
        throw new ConflictError('NOTIFICATION_CHANNEL_EXISTS', `A channel named '${body.name}' exists`, [{ path: 'body.name', message: 'is taken' }]);
      }
      const id = newId();
      const sealed = Object.keys(secrets).length > 0 ? deps.envelope.seal(channelSecretRef(id), secrets) : null;
      const now = iso();
      const row: ChannelRow = {
        id,
        name: body.name,
        type: body.type,
        settings: settings as Record<string, unknown>,
        template: body.template ?? null,
        enabled: body.enabled ?? true,
        keyId: sealed?.keyId ?? null,
        wrappedKey: sealed?.wrappedKey ?? null,
        secretsSealed: sealed?.sealed ?? null,
        createdAt: now,
        updatedAt: now,
      };
      await deps.unitOfWork(async (repos) => {
        await repos.notifications.insertChannel(row);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_channel.created',
          resourceType: 'notification_channel',
          resourceId: id,
          outcome: 'success',
          changes: { name: row.name, type: row.type, settings, secrets: Object.keys(secrets) },
        });
      });
      return channelView(row);
    },
    /** Settings and template replace the stored ones when given; `secrets` merge (a null value removes a field). */
    async updateChannel(
      actor: Actor,
      id: string,
      body: Partial<Omit<ChannelInput, 'type' | 'secrets'>> & { secrets?: Record<string, string | null | undefined> | undefined },
    ) {
      requirePermission(actor, 'notifications:write');
      const current = await loadChannel(id);
      const secrets: Record<string, string> = { ...openSecrets(deps.envelope, current) };
      for (const [k, v] of Object.entries(body.secrets ?? {})) {
        if (v === null) delete secrets[k];
        else if (v !== undefined) secrets[k] = v;
      }
      const settings = body.settings ?? (current.settings as ChannelSettings);
      await validateChannel(current.type as ChannelType, settings, secrets);
      if (body.name && (await deps.repo.channelNameTaken(body.name, id))) {
        throw new ConflictError('NOTIFICATION_CHANNEL_EXISTS', `A channel named '${body.name}' exists`, [{ path: 'body.name', message: 'is taken' }]);
      }
      const sealed = Object.keys(secrets).length > 0 ? deps.envelope.seal(channelSecretRef(id), secrets) : null;
      const set: Partial<ChannelRow> = {
        ...(body.name ? { name: body.name } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        ...(body.template !== undefined ? { template: body.template } : {}),
        settings: settings as Record<string, unknown>,
        keyId: sealed?.keyId ?? null,
        wrappedKey: sealed?.wrappedKey ?? null,
        secretsSealed: sealed?.sealed ?? null,
        updatedAt: iso(),
      };
      await deps.unitOfWork(async (repos) => {
        await repos.notifications.updateChannel(id, set);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_channel.updated',
          resourceType: 'notification_channel',
          resourceId: id,
          outcome: 'success',
          changes: { ...body, secrets: Object.keys(body.secrets ?? {}) },
        });
      });
      return channelView((await deps.repo.findChannel(id))!);
    },
    async deleteChannel(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:write');
      await loadChannel(id);
      const rules = await deps.repo.rulesUsing(id);
      if (rules.length > 0) throw new ConflictError('NOTIFICATION_CHANNEL_IN_USE', `The channel is used by rules: ${rules.join(', ')}`);
      await deps.unitOfWork(async (repos) => {
        await repos.notifications.removeChannel(id);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_channel.deleted',
          resourceType: 'notification_channel',
          resourceId: id,
          outcome: 'success',
        });
      });
    },
    /** Sends a sample alert through the channel now (one attempt, not retried) and answers with the logged outcome. */
    async testChannel(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:write');
      const channel = await loadChannel(id);
      const now = iso();
      const payload = {
        id: null,
        source: 'opsdeck',
        title: `Test notification from Opsdeck (${channel.name})`,
        description: 'If you read this, the channel works.',
        severity: 'info',
        state: 'open',
        labels: { test: 'true' },
        count: 1,
        dedup_key: `test:${id}:${now}`,
      };
      // Enqueued already held by this call (status running, its lease as next_attempt_at): the
      // outbox loop cannot take it in between, so the answer is always this attempt's outcome.
      const lease = deps.worker.leaseUntil();
      const n: NotificationRow = {
        id: newId(),
        alertId: null,
        channelId: id,
        ruleId: null,
        kind: 'test',
        action: 'trigger',
        payload: JSON.stringify(payload),
        status: 'running',
        attempts: 0,
        nextAttemptAt: lease,
        lastStatusCode: null,
        lastError: null,
        deliveredAt: null,
        groupKey: null,
        createdAt: now,
        updatedAt: now,
      };
      await deps.unitOfWork(async (repos) => {
        await repos.notifications.enqueue([n]);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_channel.tested',
          resourceType: 'notification_channel',
          resourceId: id,
          outcome: 'success',
        });
      });
      await deps.worker.runClaimed(n, lease);
      return notificationView((await deps.repo.findNotification(n.id))!);
    },

    async listRules(actor: Actor) {
      requirePermission(actor, 'notifications:read');
      return { items: (await deps.repo.listRules()).map(ruleView), next_cursor: null };
    },
    async getRule(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:read');
      return ruleView(await loadRule(id));
    },
    async createRule(actor: Actor, body: RuleInput) {
      requirePermission(actor, 'notifications:write');
      await checkRule(body);
      if (await deps.repo.ruleNameTaken(body.name)) {
        throw new ConflictError('NOTIFICATION_RULE_EXISTS', `A rule named '${body.name}' exists`, [{ path: 'body.name', message: 'is taken' }]);
      }
      const now = iso();
      const row: RuleRow = {
        id: newId(),
        name: body.name,
        enabled: body.enabled ?? true,
        match: body.match ?? {},
        channelIds: body.channel_ids,
        repeatIntervalSeconds: body.repeat_interval_seconds ?? null,
        quietHours: body.quiet_hours ?? null,
        escalateAfterMinutes: body.escalate_after_minutes ?? null,
        escalationChannelIds: body.escalation_channel_ids ?? [],
        groupWindowSeconds: body.group_window_seconds ?? 0,
        groupBy: body.group_by ?? [],
        createdAt: now,
        updatedAt: now,
      };
      await deps.unitOfWork(async (repos) => {
        await repos.notifications.insertRule(row);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_rule.created',
          resourceType: 'notification_rule',
          resourceId: row.id,
          outcome: 'success',
          changes: { ...body },
        });
      });
      return ruleView(row);
    },
    async updateRule(actor: Actor, id: string, body: Partial<RuleInput>) {
      requirePermission(actor, 'notifications:write');
      await loadRule(id);
      await checkRule(body);
      if (body.name && (await deps.repo.ruleNameTaken(body.name, id))) {
        throw new ConflictError('NOTIFICATION_RULE_EXISTS', `A rule named '${body.name}' exists`, [{ path: 'body.name', message: 'is taken' }]);
      }
      const set: Partial<RuleRow> = {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        ...(body.match !== undefined ? { match: body.match } : {}),
        ...(body.channel_ids !== undefined ? { channelIds: body.channel_ids } : {}),
        ...(body.repeat_interval_seconds !== undefined ? { repeatIntervalSeconds: body.repeat_interval_seconds } : {}),
        ...(body.quiet_hours !== undefined ? { quietHours: body.quiet_hours } : {}),
        ...(body.escalate_after_minutes !== undefined ? { escalateAfterMinutes: body.escalate_after_minutes } : {}),
        ...(body.escalation_channel_ids !== undefined ? { escalationChannelIds: body.escalation_channel_ids } : {}),
        ...(body.group_window_seconds !== undefined ? { groupWindowSeconds: body.group_window_seconds } : {}),
        ...(body.group_by !== undefined ? { groupBy: body.group_by } : {}),
        updatedAt: iso(),
      };
      await deps.unitOfWork(async (repos) => {
        await repos.notifications.updateRule(id, set);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_rule.updated',
          resourceType: 'notification_rule',
          resourceId: id,
          outcome: 'success',
          changes: { ...body },
        });
      });
      return ruleView((await deps.repo.findRule(id))!);
    },
    async deleteRule(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:write');
      await deps.unitOfWork(async (repos) => {
        if (!(await repos.notifications.removeRule(id))) throw new NotFoundError('NOTIFICATION_RULE_NOT_FOUND', `Rule ${id} not found`);
        await deps.audit.record(repos.db, {
          actor,
          action: 'notification_rule.deleted',
          resourceType: 'notification_rule',
          resourceId: id,
          outcome: 'success',
        });
      });
    },

    async listDeliveries(
      actor: Actor,
      query: {
        status?: string | undefined;
        alert_id?: string | undefined;
        channel_id?: string | undefined;
        limit?: number | undefined;
        cursor?: string | undefined;
      },
    ) {
      requirePermission(actor, 'notifications:read');
      const keys = parseSort(undefined, {}, 'id', '-id');
      const page = await deps.repo.listNotifications(
        { status: query.status, alertId: query.alert_id, channelId: query.channel_id },
        keys,
        query.cursor,
        query.limit ?? 50,
      );
      return { items: page.items.map(notificationView), next_cursor: page.next_cursor };
    },
    /** One notification with its delivery log (every attempt: status code, error with secrets masked, duration). */
    async getDelivery(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:read');
      const n = await deps.repo.findNotification(id);
      if (!n) throw new NotFoundError('NOTIFICATION_NOT_FOUND', `Notification ${id} not found`);
      const attempts = (await deps.repo.attempts(id)).map((a) => ({
        attempt: a.attempt,
        status_code: a.statusCode,
        error: a.error,
        duration_ms: a.durationMs,
        at: a.at,
      }));
      return { ...notificationView(n), log: attempts };
    },
    /** Puts a dead-lettered notification back in the outbox with a fresh attempt budget. */
    async replay(actor: Actor, id: string) {
      requirePermission(actor, 'notifications:write');
      const n = await deps.repo.findNotification(id);
      if (!n) throw new NotFoundError('NOTIFICATION_NOT_FOUND', `Notification ${id} not found`);
      await deps.unitOfWork(async (repos, tx) => {
        if (!(await repos.notifications.replay(id, iso()))) {
          throw new ConflictError('NOTIFICATION_NOT_DEAD', `The notification is ${n.status}; only dead-lettered ones are replayed`);
        }
        await deps.audit.record(repos.db, { actor, action: 'notification.replayed', resourceType: 'notification', resourceId: id, outcome: 'success' });
        tx.afterCommit(() => deps.worker.wake());
      });
      return notificationView((await deps.repo.findNotification(id))!);
    },
  };
}
export type NotificationsService = ReturnType<typeof createNotificationsService>;
