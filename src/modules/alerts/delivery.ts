import type { Envelope } from '../../platform/crypto/index.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createDrainLoop } from '../../platform/drain-loop.js';
import { backoffMs, maskSecrets } from './alerts.fns.js';
import type { AlertsRepository } from './alerts.repository.js';
import { send, type ChannelSettings, type ChannelType, type Message, type SendResult } from './channels.js';
import type { ChannelRow, NotificationRow, NotificationsRepository } from './notifications.repository.js';
import { prepareMessage } from './outbox-messages.js';
import { renderMessage, type RenderPort } from './templates.js';

export interface DeliverySettings {
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
  pollMs: number;
  concurrency?: number;
}

export interface DeliveryDeps {
  repo: NotificationsRepository;
  alerts: AlertsRepository;
  envelope: Envelope;
  egress: EgressPolicy;
  render: RenderPort;
  logger: Logger;
  settings: DeliverySettings;
  userAgent: string;
  now: () => number;
}

/** The record a channel's secrets are sealed under: associated data binds them to this channel. */
export const channelSecretRef = (id: string) => ({ kind: 'notification_channel', id, type: 'secrets' });

export function openSecrets(envelope: Envelope, c: ChannelRow): Record<string, string> {
  if (!c.secretsSealed || !c.keyId || !c.wrappedKey) return {};
  return envelope.open(channelSecretRef(c.id), { keyId: c.keyId, wrappedKey: c.wrappedKey }, c.secretsSealed);
}

/**
 * Delivers the notification outbox: claims a due row by compare-and-set (status `running`,
 * `next_attempt_at` a lease ahead, so a worker that dies mid-delivery leaves it due again),
 * sends through the channel, and records one attempt row with the status code and the error
 * (every secret of the channel masked). Failures retry with exponential backoff until
 * `maxAttempts`, then the row is `dead` (the dead-letter list) until replayed.
 */
export function createDeliveryWorker(deps: DeliveryDeps) {
  const s = deps.settings;
  const concurrency = s.concurrency ?? 4;
  const log = deps.logger.child({ component: 'notifications' });

  /** Renders and sends one message over a channel; never throws, and its error text holds no secret. */
  async function deliver(channel: ChannelRow, m: Omit<Message, 'subject' | 'text' | 'body'>): Promise<SendResult & { durationMs: number }> {
    const started = performance.now();
    let secrets: Record<string, string> = {};
    let result: SendResult;
    try {
      secrets = openSecrets(deps.envelope, channel);
      const rendered = await renderMessage(deps.render, channel, m);
      result =
        'error' in rendered
          ? { ok: false, statusCode: null, error: rendered.error, final: true }
          : await send(
              { egress: deps.egress, timeoutMs: s.timeoutMs, userAgent: deps.userAgent, nowMs: deps.now() },
              channel.type as ChannelType,
              channel.settings as ChannelSettings,
              secrets,
              { ...m, ...rendered },
            );
    } catch (err) {
      result = { ok: false, statusCode: null, error: (err as Error).message, final: true };
    }
    const error = result.error === null ? null : maskSecrets(result.error, Object.values(secrets)).slice(0, 1000);
    return { ...result, error, durationMs: Math.round(performance.now() - started) };
  }

  /** How long a claim holds a row: past it, a worker that died mid-delivery leaves the row due again. */
  const leaseUntil = () => new Date(deps.now() + s.timeoutMs * 2 + 5000).toISOString();

  async function run(n: NotificationRow): Promise<void> {
    const lease = leaseUntil();
    if (!(await deps.repo.claim(n, lease, new Date(deps.now()).toISOString()))) return;
    await runClaimed(n, lease);
  }

  /** Delivers a row this caller already holds (status `running`, `next_attempt_at` = `lease`). */
  async function runClaimed(n: NotificationRow, lease: string): Promise<void> {
    const attempt = n.attempts + 1;
    const now = () => new Date(deps.now()).toISOString();
    // An escalation is only for an alert nobody acknowledged, a group lists its members as they
    // are now (outbox-messages.ts); a channel switched off sends nothing.
    const prepared = await prepareMessage(deps, n);
    if ('cancelled' in prepared) {
      await deps.repo.finish(
        n.id,
        lease,
        { id: newId(), notificationId: n.id, attempt: 0, statusCode: null, error: null, durationMs: 0, at: now() },
        {
          status: 'cancelled',
          attempts: n.attempts,
          nextAttemptAt: null,
          lastStatusCode: null,
          lastError: prepared.cancelled,
          deliveredAt: null,
          updatedAt: now(),
        },
      );
      return;
    }
    const found = await deps.repo.findChannel(n.channelId);
    // A user's security mail goes to that user's own address, not the channel's recipients.
    const channel = found && prepared.to ? { ...found, settings: { ...found.settings, to: [prepared.to] } } : found;
    const result = !channel
      ? { ok: false, statusCode: null, error: 'the channel was deleted', final: true, durationMs: 0 }
      : !channel.enabled && n.kind !== 'test'
        ? { ok: false, statusCode: null, error: 'the channel is disabled', final: true, durationMs: 0 }
        : await deliver(channel, { notificationId: n.id, action: n.action as Message['action'], alert: prepared.alert });
    const retry = !result.ok && !result.final && attempt < s.maxAttempts && n.kind !== 'test';
    const status = result.ok ? 'delivered' : retry ? 'pending' : 'dead';
    await deps.repo.finish(
      n.id,
      lease,
      { id: newId(), notificationId: n.id, attempt, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs, at: now() },
      {
        status,
        attempts: attempt,
        // A receiver's Retry-After (Slack, Twilio, FCM, APNs rate limits) is honoured when it asks for longer than the backoff.
        nextAttemptAt: retry ? new Date(deps.now() + Math.max(backoffMs(attempt, s.retryBaseMs), result.retryAfterMs ?? 0)).toISOString() : null,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        deliveredAt: result.ok ? now() : null,
        updatedAt: now(),
      },
    );
    if (!result.ok) log.info({ notificationId: n.id, channelId: n.channelId, attempt, statusCode: result.statusCode, status }, 'notification delivery failed');
  }

  async function drainOnce(): Promise<number> {
    const due = await deps.repo.due(new Date(deps.now()).toISOString(), concurrency * 4);
    for (let i = 0; i < due.length; i += concurrency) {
      await Promise.all(
        due.slice(i, i + concurrency).map((n) => run(n).catch((err: unknown) => log.error({ err, notificationId: n.id }, 'notification delivery crashed'))),
      );
    }
    return due.length;
  }
  const loop = createDrainLoop({
    drainOnce,
    nextDue: () => deps.repo.nextDue(),
    pollMs: s.pollMs,
    now: deps.now,
    onError: (err) => log.error({ err }, 'notification delivery loop failed'),
  });

  return {
    deliver,
    run,
    runClaimed,
    leaseUntil,
    drain: loop.drain,
    /** Wakes a started worker at once (after a commit that wrote notifications). */
    wake(): void {
      if (loop.running()) void loop.drain();
    },
    start: loop.start,
    stop: loop.stop,
  };
}
export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
