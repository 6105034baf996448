/**
 * Public surface of the alerts module: alerts (ingest with dedup, lifecycle, inbound webhooks,
 * domain-event sources), notification channels, routing rules and the delivery outbox.
 * Other modules import from here only. See README.md for the invariants.
 */
import type { RoutePlugin } from '../../app.js';
import { createEnvelope, type KeyRing } from '../../platform/crypto/index.js';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { SubscriberRunner } from '../events/index.js';
import { createAlertsRepository } from './alerts.repository.js';
import { alertsRoutes } from './alerts.routes.js';
import { createAlertsService, type AlertsRepos, type AuditPort, type EventsPort, type RoutingRefsPort } from './alerts.service.js';
import { createDeliveryWorker } from './delivery.js';
import { createNotificationsRepository } from './notifications.repository.js';
import { notificationsRoutes } from './notifications.routes.js';
import { createNotificationsService } from './notifications.service.js';
import { createSecurityMailSubscriber, type ContactPort } from './security-mail.js';
import { createAlertSourcesSubscriber } from './sources.js';
import type { RenderPort } from './templates.js';

export const ALERTS_PERMISSIONS = ['alerts:read', 'alerts:write', 'notifications:read', 'notifications:write'] as const;

export interface AlertsConfig {
  roles: readonly string[];
  /** Notification delivery shares the outbound-webhook settings (OPSDECK_WEBHOOKS_*). */
  webhooksMaxAttempts: number;
  webhooksRetryBaseMs: number;
  webhooksTimeoutMs: number;
  eventsPollMs: number;
}

export interface AlertsModuleDeps {
  db: Db;
  logger: Logger;
  events: EventsPort;
  audit: AuditPort;
  keyRing: KeyRing;
  egress: EgressPolicy;
  /** The template engine (templates module), for subjects, bodies and webhook JSON. */
  render: RenderPort;
  /** The events module's durable subscribers: alerts subscribes to its sources there (before they start). */
  subscribers: Pick<SubscriberRunner, 'add'>;
  config: AlertsConfig;
  version: string;
  /** Identity: users' own addresses, for their security notices. */
  contacts?: ContactPort;
  /** The e-mail channel of users' security notices (settings `notifications.security_channel_id`); '' or absent: none. */
  securityChannelId?: () => string;
  /** Inventory and identity: the device an alert is about (routing on device/location), and which referenced ids exist. */
  refs: RoutingRefsPort;
  /** The clock (tests move it); default Date.now. */
  now?: () => number;
}

const AUTO_RESOLVE_EVERY_MS = 30_000;

export function createAlertsModule(deps: AlertsModuleDeps) {
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ module: 'alerts' });
  const reposFor = (db: Db): AlertsRepos => ({ alerts: createAlertsRepository(db), notifications: createNotificationsRepository(db), db });
  const unitOfWork = createUnitOfWork(deps.db, reposFor, (err) => logger.error({ err }, 'after-commit step failed'));
  const repos = reposFor(deps.db);
  const envelope = createEnvelope(deps.keyRing);
  const c = deps.config;
  const worker = createDeliveryWorker({
    repo: repos.notifications,
    alerts: repos.alerts,
    envelope,
    egress: deps.egress,
    render: deps.render,
    logger,
    userAgent: `Opsdeck-Notifications/${deps.version}`,
    settings: { maxAttempts: c.webhooksMaxAttempts, retryBaseMs: c.webhooksRetryBaseMs, timeoutMs: c.webhooksTimeoutMs, pollMs: c.eventsPollMs },
    now,
  });
  const service = createAlertsService({
    repo: repos.alerts,
    unitOfWork,
    events: deps.events,
    audit: deps.audit,
    now,
    wake: () => worker.wake(),
    deviceContext: deps.refs.deviceContext,
  });
  const notifications = createNotificationsService({
    repo: repos.notifications,
    unitOfWork,
    envelope,
    egress: deps.egress,
    audit: deps.audit,
    worker,
    now,
    refs: deps.refs,
  });
  const wakeAll = () => {
    worker.wake();
    void deps.events.relay().catch(() => undefined);
  };
  deps.subscribers.add(createAlertSourcesSubscriber(service, reposFor, wakeAll));
  if (deps.contacts && deps.securityChannelId) {
    deps.subscribers.add(
      createSecurityMailSubscriber({ contacts: deps.contacts, channelId: deps.securityChannelId, now, logger, afterCommit: () => worker.wake() }),
    );
  }

  let sweep: NodeJS.Timeout | null = null;
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: alertsRoutes(service) },
    { prefix: '/api/v1', plugin: notificationsRoutes(notifications) },
  ];
  return {
    service,
    notifications,
    worker,
    plugins,
    permissions: ALERTS_PERMISSIONS as readonly string[],
    /** `worker`-role processes deliver notifications and auto-resolve alerts. */
    start(): void {
      if (!c.roles.includes('worker')) return;
      worker.start();
      const tick = () => {
        sweep = setTimeout(() => {
          void service
            .autoResolve()
            .catch((err: unknown) => logger.warn({ err }, 'auto-resolve failed'))
            .finally(() => sweep && tick());
        }, AUTO_RESOLVE_EVERY_MS);
        sweep.unref();
      };
      tick();
    },
    async stop(): Promise<void> {
      if (sweep) clearTimeout(sweep);
      sweep = null;
      await worker.stop();
    },
  };
}
export type AlertsModule = ReturnType<typeof createAlertsModule>;
export { alertFromEvent } from './sources.js';
export type { RoutingRefsPort } from './alerts.service.js';
