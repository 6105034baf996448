import type { Db } from '../../platform/db/database.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { Subscriber } from '../events/index.js';
import type { Message } from './channels.js';
import { createNotificationsRepository } from './notifications.repository.js';
import type { SecurityPayload } from './outbox-messages.js';

/** Identity's slice: where a user's own mail goes, read through `db` (null: no such user). */
export interface ContactPort {
  contactOf(db: Db, userId: string): Promise<{ email: string; username: string } | null>;
}

/** The security events (identity's `security.event`, by audit action) that are mailed to their user, and what the mail says. */
export const MAILED_ACTIONS: Record<string, string> = {
  'auth.lockout': 'Your Opsdeck account was locked after repeated failed sign-ins',
  'auth.2fa.enabled': 'Two-factor authentication was turned on for your Opsdeck account',
  'auth.2fa.disabled': 'Two-factor authentication was turned off for your Opsdeck account',
  'auth.2fa.recovery_code_used': 'A recovery code was used to sign in to your Opsdeck account',
  'auth.2fa.recovery_codes_regenerated': 'New recovery codes were generated for your Opsdeck account',
  'user.password_changed': 'Your Opsdeck password was changed',
  'user.password_reset': 'Your Opsdeck password was reset by an administrator',
  'auth.token.reuse_detected': 'A reused sign-in token was refused and your Opsdeck sessions were signed out',
};

/** A notice about an event older than this is not sent: a new subscriber starts at the oldest retained event, and a day-old lockout mail helps nobody. */
export const SECURITY_MAIL_MAX_AGE_MS = 60 * 60_000;

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/**
 * The notice of one security event, rendered by the channel's templates like an alert (source
 * `security`). It says what happened, when and from where — the event carries no secret, and the
 * notice adds none (no code, token or password; only the action's name).
 */
export function securityNotice(p: Record<string, unknown>, title: string): Message['alert'] {
  const where = [text(p.ip) && `from ${text(p.ip)}`, text(p.user_agent) && `(${text(p.user_agent).slice(0, 200)})`].filter(Boolean).join(' ');
  return {
    id: null,
    source: 'security',
    title,
    description: `At ${text(p.time)}${where ? ` ${where}` : ''}. If this was not you, tell your Opsdeck administrator at once.`,
    severity: 'warning',
    state: 'open',
    labels: { event: text(p.action) },
    count: 1,
    dedup_key: `security:${text(p.audit_id)}`,
  };
}

/**
 * The durable subscriber `alerts.security-mail`: each mailed `security.event` becomes a `security`
 * row in the notification outbox, in the subscriber's consuming transaction, addressed to the
 * affected user's own e-mail through the e-mail channel the `notifications.security_channel_id`
 * setting names (empty, missing, disabled or not an e-mail channel: nothing is sent).
 */
export function createSecurityMailSubscriber(deps: {
  contacts: ContactPort;
  channelId: () => string;
  now: () => number;
  logger: Logger;
  afterCommit: () => void;
}): Subscriber {
  return {
    name: 'alerts.security-mail',
    events: ['security.event'],
    async handle(db: Db, event) {
      const p = (event.payload ?? {}) as Record<string, unknown>;
      const title = MAILED_ACTIONS[text(p.action)];
      const channelId = deps.channelId();
      if (!title || !channelId) return;
      if (deps.now() - Date.parse(event.createdAt) > SECURITY_MAIL_MAX_AGE_MS) return;
      const repo = createNotificationsRepository(db);
      const channel = await repo.findChannel(channelId);
      if (!channel || channel.type !== 'email' || !channel.enabled) {
        deps.logger.warn({ channelId }, 'the security mail channel is missing, disabled or not an e-mail channel: notice not sent');
        return;
      }
      const contact = await deps.contacts.contactOf(db, text(p.user_id));
      if (!contact) return;
      const now = new Date(deps.now()).toISOString();
      const payload: SecurityPayload = { to: contact.email, alert: securityNotice(p, title) };
      await repo.enqueue([
        {
          id: newId(),
          alertId: null,
          channelId,
          ruleId: null,
          kind: 'security',
          action: 'trigger',
          payload: JSON.stringify(payload),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          lastStatusCode: null,
          lastError: null,
          deliveredAt: null,
          groupKey: null,
          createdAt: now,
          updatedAt: now,
        },
      ]);
    },
    afterCommit: deps.afterCommit,
  };
}
