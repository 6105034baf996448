import type { Envelope } from '../../platform/crypto/index.js';
import type { Db } from '../../platform/db/database.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import { checkOutboundUrl, type EgressPolicy } from '../../platform/egress/index.js';
import { globMatcher } from './events.fns.js';
import type { StoredEvent } from './events.repository.js';
import type { Subscriber } from './subscribers.js';
import { secretRef, type DeliveryWorker } from './webhook-delivery.js';
import type { CreateWebhookBody, ListDeliveriesQuery, ListWebhooksQuery, UpdateWebhookBody } from './webhooks.schemas.js';
import { createWebhooksRepository, type DeliveryRow, type WebhookRow, type WebhooksRepository } from './webhooks.repository.js';
import type { AuditPort } from './audit.subscriber.js';

export interface WebhooksServiceDeps {
  repo: WebhooksRepository;
  unitOfWork: UnitOfWork<{ webhooks: WebhooksRepository; db: Db }>;
  envelope: Envelope;
  egress: EgressPolicy;
  audit: AuditPort;
  worker: DeliveryWorker;
}

export const webhookView = (w: WebhookRow) => ({
  id: w.id,
  name: w.name,
  url: w.url,
  events: w.events,
  enabled: w.enabled,
  secret: { set: true },
  created_at: w.createdAt,
  updated_at: w.updatedAt,
});

export const deliveryView = (d: DeliveryRow) => ({
  id: d.id,
  webhook_id: d.webhookId,
  event_id: d.eventId,
  event_name: d.eventName,
  status: d.status as 'pending' | 'running' | 'succeeded' | 'failed',
  attempts: d.attempts,
  next_attempt_at: d.nextAttemptAt,
  status_code: d.statusCode,
  duration_ms: d.durationMs,
  error: d.error,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

const SORTS = { name: 'name', created_at: 'createdAt' };

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint/.test(e.message ?? '');
}

/** Outbound webhooks: CRUD (the secret sealed by the platform envelope, write-only), ping, delivery log. */
export function createWebhooksService(deps: WebhooksServiceDeps) {
  async function load(id: string): Promise<WebhookRow> {
    const w = await deps.repo.find(id);
    if (!w) throw new NotFoundError('WEBHOOK_NOT_FOUND', `Webhook ${id} does not exist`);
    return w;
  }

  /** The URL must be http(s) without user info, and its host pass the egress policy now (and again at each delivery). */
  async function checkUrl(text: string): Promise<void> {
    const problem = await checkOutboundUrl(deps.egress, text);
    if (problem?.kind === 'invalid') {
      throw new ValidationError('WEBHOOK_URL_INVALID', 'The webhook URL must be an http(s) URL without credentials', [
        { path: 'body.url', message: problem.message },
      ]);
    }
    if (problem) {
      throw new ValidationError('WEBHOOK_URL_DENIED', 'The egress policy refuses this webhook target', [{ path: 'body.url', message: problem.message }]);
    }
  }

  const duplicate = (name: string) =>
    new ConflictError('WEBHOOK_NAME_TAKEN', `A webhook named '${name}' already exists`, [{ path: 'body.name', message: 'already taken' }]);

  async function guarded<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err) && name) throw duplicate(name);
      throw err;
    }
  }

  return {
    async list(actor: Actor, query: ListWebhooksQuery) {
      requirePermission(actor, 'webhooks:read');
      const page = await deps.repo.list(parseSort(query.sort, SORTS, 'id', 'name'), query.cursor, query.limit ?? 50);
      return { items: page.items.map(webhookView), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'webhooks:read');
      return webhookView(await load(id));
    },
    async create(actor: Actor, body: CreateWebhookBody) {
      requirePermission(actor, 'webhooks:write');
      await checkUrl(body.url);
      if (await deps.repo.findByName(body.name)) throw duplicate(body.name);
      const id = newId();
      const now = nowIso();
      const sealed = deps.envelope.seal(secretRef(id), { secret: body.secret });
      const row: WebhookRow = {
        id,
        name: body.name,
        url: body.url,
        events: body.events,
        enabled: body.enabled ?? true,
        secretSealed: sealed.sealed.secret!,
        keyId: sealed.keyId,
        wrappedKey: sealed.wrappedKey,
        createdAt: now,
        updatedAt: now,
      };
      await guarded(body.name, () =>
        deps.unitOfWork(async (r) => {
          await r.webhooks.insert(row);
          await deps.audit.record(r.db, {
            actor,
            action: 'webhook.created',
            resourceType: 'webhook',
            resourceId: id,
            outcome: 'success',
            changes: { name: row.name, url: row.url, events: row.events, enabled: row.enabled },
          });
        }),
      );
      return webhookView(row);
    },
    async update(actor: Actor, id: string, body: UpdateWebhookBody) {
      requirePermission(actor, 'webhooks:write');
      const current = await load(id);
      if (body.url !== undefined) await checkUrl(body.url);
      if (body.name && body.name !== current.name && (await deps.repo.findByName(body.name))) throw duplicate(body.name);
      const fields: Partial<WebhookRow> = {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.events !== undefined ? { events: body.events } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        updatedAt: nowIso(),
      };
      if (body.secret !== undefined) {
        const sealed = deps.envelope.seal(secretRef(id), { secret: body.secret }, { keyId: current.keyId, wrappedKey: current.wrappedKey });
        Object.assign(fields, { secretSealed: sealed.sealed.secret!, keyId: sealed.keyId, wrappedKey: sealed.wrappedKey });
      }
      const changed = Object.keys(body).sort();
      await guarded(body.name, () =>
        deps.unitOfWork(async (r) => {
          await r.webhooks.update(id, fields);
          await deps.audit.record(r.db, {
            actor,
            action: 'webhook.updated',
            resourceType: 'webhook',
            resourceId: id,
            outcome: 'success',
            changes: { fields: changed },
          });
        }),
      );
      return webhookView(await load(id));
    },
    async remove(actor: Actor, id: string) {
      requirePermission(actor, 'webhooks:write');
      const current = await load(id);
      await deps.unitOfWork(async (r) => {
        if (!(await r.webhooks.delete(id))) throw new NotFoundError('WEBHOOK_NOT_FOUND', `Webhook ${id} does not exist`);
        await deps.audit.record(r.db, {
          actor,
          action: 'webhook.deleted',
          resourceType: 'webhook',
          resourceId: id,
          outcome: 'success',
          changes: { name: current.name },
        });
      });
    },
    /** Sends a signed `webhook.ping` now and answers with the recorded delivery (whatever the receiver said). */
    async ping(actor: Actor, id: string) {
      requirePermission(actor, 'webhooks:write');
      return deliveryView(await deps.worker.ping(await load(id)));
    },
    async deliveries(actor: Actor, id: string, query: ListDeliveriesQuery) {
      requirePermission(actor, 'webhooks:read');
      await load(id);
      const keys = parseSort('-created_at', { created_at: 'createdAt' }, 'id', '-created_at', ['created_at']);
      const page = await deps.repo.deliveries(id, keys, query.cursor, query.limit ?? 50);
      return { items: page.items.map(deliveryView), next_cursor: page.next_cursor };
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;

/**
 * The `webhooks` subscriber: for each event, one pending delivery per enabled webhook whose
 * filter matches and that existed when the event happened, written in the consuming
 * transaction (so an event is queued once per webhook, even across restarts).
 */
export function createWebhooksSubscriber(worker: Pick<DeliveryWorker, 'drain'>): Subscriber {
  // One read of the enabled webhooks per consuming transaction (a batch), not per event.
  const enabledIn = new WeakMap<Db, Promise<WebhookRow[]>>();
  return {
    name: 'webhooks',
    events: ['*'],
    async handle(db: Db, event: StoredEvent): Promise<void> {
      const repo = createWebhooksRepository(db);
      const now = nowIso();
      const body = JSON.stringify({ id: event.id, name: event.name, created_at: event.createdAt, payload: event.payload });
      let enabled = enabledIn.get(db);
      if (!enabled) enabledIn.set(db, (enabled = repo.enabled()));
      const targets = (await enabled).filter((w) => w.createdAt <= event.createdAt && globMatcher(w.events)(event.name));
      await repo.enqueue(
        targets.map((w) => ({
          id: newId(),
          webhookId: w.id,
          eventId: event.id,
          eventName: event.name,
          body,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          statusCode: null,
          durationMs: null,
          error: null,
          createdAt: now,
          updatedAt: now,
        })),
      );
    },
    afterCommit: () => void worker.drain(),
  };
}
