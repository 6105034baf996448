/**
 * Public surface of the events module: durable subscribers over the domain-event outbox,
 * retention, the live event stream (SSE, the WebSocket `events` channel, history) and
 * outbound webhooks. Other modules import from here only. See README.md for the invariants.
 */
import type { RoutePlugin } from '../../app.js';
import type { EventBus } from '../../platform/bus/event-bus.js';
import { createEnvelope, type KeyRing } from '../../platform/crypto/index.js';
import type { Db } from '../../platform/db/database.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { StreamGuard } from '../../platform/http/stream-guard.js';
import { createTemplateAuditSubscriber, type AuditPort } from './audit.subscriber.js';
import { createEventTail } from './event-tail.js';
import { createEventsRepository } from './events.repository.js';
import { eventsChannel, eventsRoutes } from './events.routes.js';
import { createEventsService } from './events.service.js';
import { createSubscriberRunner } from './subscribers.js';
import { createDeliveryWorker, secretRef } from './webhook-delivery.js';
import { createWebhooksRepository } from './webhooks.repository.js';
import { webhooksRoutes } from './webhooks.routes.js';
import { createWebhooksService, createWebhooksSubscriber } from './webhooks.service.js';

export const EVENTS_PERMISSIONS = ['events:read', 'webhooks:read', 'webhooks:write'] as const;

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export interface EventsConfig {
  roles: readonly string[];
  eventsRetentionDays: number;
  eventsPollMs: number;
  webhooksMaxAttempts: number;
  webhooksRetryBaseMs: number;
  webhooksTimeoutMs: number;
}

export interface EventsModuleDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  /** The platform outbox's relay (`platform/events/domain-events.ts`). */
  domainEvents: { relay(): Promise<void> };
  audit: AuditPort;
  keyRing: KeyRing;
  /** Outbound HTTP (webhook targets): the one policy of the process (`platform/egress`). */
  egress: EgressPolicy;
  config: EventsConfig;
  version: string;
  /** Re-checks open streams' principals (built in modules.ts over identity's authenticator). */
  streamGuard: StreamGuard;
}

export function createEventsModule(deps: EventsModuleDeps) {
  const c = deps.config;
  const logger = deps.logger.child({ module: 'events' });
  const repo = createEventsRepository(deps.db);
  const tail = createEventTail({ repo, bus: deps.bus, logger, pollMs: c.eventsPollMs });
  const service = createEventsService({ repo, tail });
  const envelope = createEnvelope(deps.keyRing);
  const egress = deps.egress;
  const worker = createDeliveryWorker({
    db: deps.db,
    envelope,
    egress,
    logger,
    userAgent: `Opsdeck-Webhooks/${deps.version}`,
    settings: { maxAttempts: c.webhooksMaxAttempts, retryBaseMs: c.webhooksRetryBaseMs, timeoutMs: c.webhooksTimeoutMs, pollMs: c.eventsPollMs },
  });
  const unitOfWork = createUnitOfWork(
    deps.db,
    (db) => ({ webhooks: createWebhooksRepository(db), db }),
    (err) => logger.error({ err }, 'after-commit step failed'),
  );
  const webhooks = createWebhooksService({ repo: createWebhooksRepository(deps.db), unitOfWork, envelope, egress, audit: deps.audit, worker });
  const subscribers = createSubscriberRunner({ db: deps.db, bus: deps.bus, logger, relay: () => deps.domainEvents.relay(), pollMs: c.eventsPollMs });
  subscribers.add(createTemplateAuditSubscriber(deps.audit));
  subscribers.add(createWebhooksSubscriber(worker));

  const consuming = c.roles.includes('worker');
  let pruneTimer: NodeJS.Timeout | null = null;

  /** Deletes events past retention that every subscriber has consumed; the number deleted. */
  async function prune(now = Date.now()): Promise<number> {
    const deleted = await repo.prune(new Date(now - c.eventsRetentionDays * DAY_MS).toISOString());
    if (deleted > 0) logger.info({ deleted }, 'domain events pruned');
    return deleted;
  }

  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: eventsRoutes(service, deps.streamGuard) },
    { prefix: '/api/v1', plugin: webhooksRoutes(webhooks) },
  ];

  return {
    service,
    webhooks,
    subscribers,
    worker,
    tail,
    prune,
    /** The `events` channel for the WebSocket at /api/v1/ws (served by the jobs module's socket). */
    channel: eventsChannel(service),
    plugins,
    permissions: EVENTS_PERMISSIONS as readonly string[],
    /** Registers the subscribers' cursors; `worker`-role processes also consume, deliver and prune. */
    async start(): Promise<void> {
      await subscribers.register();
      if (!consuming) return;
      subscribers.start();
      worker.start();
      const tick = () => {
        void prune()
          .catch((err: unknown) => logger.warn({ err }, 'domain event pruning failed'))
          .finally(() => {
            if (pruneTimer) {
              pruneTimer = setTimeout(tick, PRUNE_EVERY_MS);
              pruneTimer.unref();
            }
          });
      };
      pruneTimer = setTimeout(tick, 0);
      pruneTimer.unref();
    },
    async stop(): Promise<void> {
      if (pruneTimer) clearTimeout(pruneTimer);
      pruneTimer = null;
      await tail.stop();
      await subscribers.stop();
      await worker.stop();
    },
  };
}

export type EventsModule = ReturnType<typeof createEventsModule>;
export type { Subscriber, SubscriberRunner } from './subscribers.js';
export type { StoredEvent } from './events.repository.js';
export { signatureHeader, verifySignature } from './events.fns.js';

/** The webhooks' sealed signing secrets, for master-key rotation (credentials' `keys.ts`). */
export function webhookRotationTable(db: Db) {
  const repo = createWebhooksRepository(db);
  return {
    kind: 'webhook' as const,
    batch: async (keyId: string, afterId: string, limit: number) =>
      (await repo.sealedNotUnder(keyId, afterId, limit)).map((r) => ({ ...r, type: secretRef(r.id).type })),
    replace: (trx: Db, id: string, old: { keyId: string; wrappedKey: string }, next: { keyId: string; wrappedKey: string }) =>
      createWebhooksRepository(trx).replaceWrap(id, old, next),
  };
}

/** Webhook secrets per master key id (`opsdeck keys status`). */
export const webhookKeyUsage = (db: Db) => createWebhooksRepository(db).countByKey();
export { EventFrame } from './events.schemas.js';
