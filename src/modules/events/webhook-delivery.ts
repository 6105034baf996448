import type { Db } from '../../platform/db/database.js';
import type { Envelope } from '../../platform/crypto/index.js';
import { createDrainLoop } from '../../platform/drain-loop.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { egressRequest, EgressRefusedError, type EgressPolicy } from '../../platform/egress/index.js';
import { backoffMs, signatureHeader } from './events.fns.js';
import { createWebhooksRepository, type DeliveryRow, type WebhookRow } from './webhooks.repository.js';

export interface DeliverySettings {
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
  pollMs: number;
  /** Deliveries attempted at once by this node. */
  concurrency?: number;
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** Retrying cannot help (the egress policy refused the target). */
  final?: boolean;
}

/** The record a webhook's secret is sealed under: associated data binds it to this webhook. */
export const secretRef = (id: string) => ({ kind: 'webhook', id, type: 'hmac' });

/**
 * Delivers webhook payloads: signed POSTs through `platform/egress` (each attempt checks the
 * target's resolved addresses and connects only to them; a second DNS answer cannot re-point
 * it), retried with exponential backoff.
 * The delivery row is the durable record: a restart, or another node, picks pending ones up.
 */
export function createDeliveryWorker(deps: {
  db: Db;
  envelope: Envelope;
  egress: EgressPolicy;
  logger: Logger;
  settings: DeliverySettings;
  userAgent: string;
}) {
  const repo = createWebhooksRepository(deps.db);
  const s = deps.settings;
  const concurrency = s.concurrency ?? 4;
  const log = deps.logger.child({ component: 'webhooks' });

  /** One signed POST; never throws. */
  async function attempt(webhook: WebhookRow, delivery: Pick<DeliveryRow, 'id' | 'eventId' | 'eventName' | 'body'>): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let secret: string;
    try {
      secret = deps.envelope.open(secretRef(webhook.id), { keyId: webhook.keyId, wrappedKey: webhook.wrappedKey }, { secret: webhook.secretSealed }).secret!;
    } catch (err) {
      return { ok: false, statusCode: null, durationMs: elapsed(), error: (err as Error).message, final: true };
    }
    const headers = {
      'content-type': 'application/json',
      'user-agent': deps.userAgent,
      'x-opsdeck-event': delivery.eventName,
      'x-opsdeck-event-id': delivery.eventId,
      'x-opsdeck-delivery': delivery.id,
      'x-opsdeck-signature': signatureHeader(secret, delivery.body, Math.floor(Date.now() / 1000)),
    };
    try {
      // Not redirected: a receiver answers where it was registered (the hop is checked all the same).
      const { status: statusCode } = await egressRequest(deps.egress, new URL(webhook.url), {
        method: 'POST',
        headers,
        body: delivery.body,
        timeoutMs: s.timeoutMs,
        maxBodyBytes: 0,
        maxRedirects: 0,
      });
      const ok = statusCode >= 200 && statusCode < 300;
      return { ok, statusCode, durationMs: elapsed(), error: ok ? null : `the receiver answered ${statusCode}` };
    } catch (err) {
      // A refusal is final, but a resolver that did not answer may answer the next attempt.
      const final = err instanceof EgressRefusedError && !err.retryable;
      return { ok: false, statusCode: null, durationMs: elapsed(), error: (err as Error).message.slice(0, 500), ...(final ? { final } : {}) };
    }
  }

  /** Claims and attempts one due delivery, then records the outcome (success, retry later, or failed). */
  async function run(d: DeliveryRow): Promise<void> {
    const lease = new Date(Date.now() + s.timeoutMs * 2 + 5000).toISOString();
    if (!(await repo.claim(d, lease))) return;
    const attemptNo = d.attempts + 1;
    const webhook = await repo.find(d.webhookId);
    const result: AttemptResult = webhook
      ? webhook.enabled || d.eventName === 'webhook.ping'
        ? await attempt(webhook, d)
        : { ok: false, statusCode: null, durationMs: 0, error: 'the webhook is disabled', final: true }
      : { ok: false, statusCode: null, durationMs: 0, error: 'the webhook was deleted', final: true };
    const retry = !result.ok && !result.final && attemptNo < s.maxAttempts;
    await repo.finish(d.id, attemptNo, {
      status: result.ok ? 'succeeded' : retry ? 'pending' : 'failed',
      nextAttemptAt: retry ? new Date(Date.now() + backoffMs(attemptNo, s.retryBaseMs)).toISOString() : null,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
    });
    if (!result.ok) log.info({ webhookId: d.webhookId, deliveryId: d.id, attempt: attemptNo, statusCode: result.statusCode, retry }, 'webhook delivery failed');
  }

  async function drainOnce(): Promise<number> {
    const due = await repo.due(nowIso(), concurrency * 4);
    for (let i = 0; i < due.length; i += concurrency) {
      await Promise.all(
        due.slice(i, i + concurrency).map((d) => run(d).catch((err: unknown) => log.error({ err, deliveryId: d.id }, 'webhook delivery crashed'))),
      );
    }
    return due.length;
  }

  // Everything due now, concurrent calls coalescing; then asleep until the next row is due (at most pollMs).
  const loop = createDrainLoop({
    drainOnce,
    nextDue: () => repo.nextDue(),
    pollMs: s.pollMs,
    onError: (err) => log.error({ err }, 'webhook delivery loop failed'),
  });

  return {
    attempt,
    drain: loop.drain,
    /** A ping: one delivery row, attempted at once (not retried), returned with its outcome. */
    async ping(webhook: WebhookRow): Promise<DeliveryRow> {
      const now = nowIso();
      const id = newId();
      const eventId = newId();
      const body = JSON.stringify({ id: eventId, name: 'webhook.ping', created_at: now, payload: { webhook_id: webhook.id, name: webhook.name } });
      await repo.enqueue([
        {
          id,
          webhookId: webhook.id,
          eventId,
          eventName: 'webhook.ping',
          body,
          status: 'running',
          attempts: 1,
          nextAttemptAt: null,
          statusCode: null,
          durationMs: null,
          error: null,
          createdAt: now,
          updatedAt: now,
        },
      ]);
      const result = await attempt(webhook, { id, eventId, eventName: 'webhook.ping', body });
      await repo.finish(id, 1, {
        status: result.ok ? 'succeeded' : 'failed',
        nextAttemptAt: null,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
        error: result.error,
      });
      return (await repo.findDelivery(id))!;
    },
    start: loop.start,
    stop: loop.stop,
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
