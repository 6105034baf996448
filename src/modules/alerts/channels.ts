import nodemailer from 'nodemailer';
import { signatureHeader } from '../events/index.js';
import { COLOURS, post, type ChannelSettings, type Message, type SendContext, type SendResult } from './channel-http.js';
import { sendApns, sendFcm, sendSlackBot, sendTwilio } from './channels.push.js';

export type { ChannelSettings, Message, SendContext, SendResult } from './channel-http.js';

export const CHANNEL_TYPES = ['email', 'webhook', 'slack', 'slack_bot', 'teams', 'pagerduty', 'twilio_sms', 'fcm', 'apns'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/**
 * Per type: settings it requires, and secret fields (sealed in the vault, never returned).
 * Type-specific rules beyond these (E.164 numbers, the service account, the .p8 key) are
 * `channels.push.ts` → `checkPushChannel`.
 */
export const CHANNEL_SPECS: Record<ChannelType, { required: readonly string[]; secrets: readonly string[]; requiredSecrets: readonly string[] }> = {
  email: { required: ['host', 'port', 'from', 'to'], secrets: ['password'], requiredSecrets: [] },
  webhook: { required: ['url'], secrets: ['hmac_secret', 'authorization'], requiredSecrets: [] },
  slack: { required: [], secrets: ['webhook_url'], requiredSecrets: ['webhook_url'] },
  slack_bot: { required: ['channel'], secrets: ['bot_token'], requiredSecrets: ['bot_token'] },
  teams: { required: [], secrets: ['webhook_url'], requiredSecrets: ['webhook_url'] },
  pagerduty: { required: [], secrets: ['routing_key'], requiredSecrets: ['routing_key'] },
  twilio_sms: { required: ['account_sid', 'to'], secrets: ['auth_token'], requiredSecrets: ['auth_token'] },
  fcm: { required: [], secrets: ['service_account'], requiredSecrets: ['service_account'] },
  apns: { required: ['bundle_id', 'key_id', 'team_id', 'device_tokens'], secrets: ['private_key'], requiredSecrets: ['private_key'] },
};

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const PD_SEVERITY: Record<string, string> = { critical: 'critical', major: 'error', minor: 'warning', warning: 'warning', info: 'info' };

/** The default webhook body: the alert and what happened to it. */
export function defaultWebhookBody(m: Message, nowMs: number): string {
  return JSON.stringify({
    notification_id: m.notificationId,
    action: m.action,
    sent_at: new Date(nowMs).toISOString(),
    subject: m.subject,
    text: m.text,
    alert: m.alert,
  });
}

export function pagerDutyBody(m: Message, routingKey: string): string {
  const base = { routing_key: routingKey, event_action: m.action, dedup_key: m.alert.dedup_key };
  if (m.action !== 'trigger') return JSON.stringify(base);
  return JSON.stringify({
    ...base,
    payload: {
      summary: m.subject.slice(0, 1024),
      source: m.alert.labels.instance ?? m.alert.source,
      severity: PD_SEVERITY[m.alert.severity] ?? 'warning',
      custom_details: { description: m.alert.description, labels: m.alert.labels, count: m.alert.count },
    },
  });
}

export function slackBody(m: Message): string {
  return JSON.stringify({ text: m.subject, attachments: [{ color: COLOURS[m.alert.severity], text: m.text }] });
}

export function teamsBody(m: Message): string {
  return JSON.stringify({
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: m.subject,
    themeColor: (COLOURS[m.alert.severity] ?? '#888888').slice(1),
    title: m.subject,
    text: m.text.replace(/\n/g, '  \n'),
  });
}

async function sendEmail(ctx: SendContext, s: ChannelSettings, secrets: Record<string, string>, m: Message): Promise<SendResult> {
  const host = s.host!;
  const verdict = await ctx.egress.check(new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${s.port}`));
  if (!verdict.ok) return { ok: false, statusCode: null, error: `${host}: ${verdict.reason}`, final: true };
  // The approved address is dialled; the name stays the TLS server name.
  const transport = nodemailer.createTransport({
    host: verdict.addresses[0]!.address,
    port: s.port!,
    secure: s.tls === 'tls',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'none',
    tls: { servername: host },
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: ctx.timeoutMs,
    ...(s.username ? { auth: { user: s.username, pass: secrets.password ?? '' } } : {}),
  });
  try {
    const info = await transport.sendMail({
      from: s.from!,
      to: s.to!,
      subject: m.subject,
      text: m.text,
      headers: { 'X-Opsdeck-Notification': m.notificationId },
    });
    return { ok: true, statusCode: Number(String(info.response).slice(0, 3)) || 250, error: null };
  } catch (err) {
    const e = err as { responseCode?: number; message: string };
    const final = e.responseCode !== undefined && e.responseCode >= 500;
    return { ok: false, statusCode: e.responseCode ?? null, error: e.message.slice(0, 500), ...(final ? { final } : {}) };
  } finally {
    transport.close();
  }
}

/** Sends one message over a channel; never throws. */
export async function send(ctx: SendContext, type: ChannelType, s: ChannelSettings, secrets: Record<string, string>, m: Message): Promise<SendResult> {
  switch (type) {
    case 'email':
      return sendEmail(ctx, s, secrets, m);
    case 'webhook': {
      const body = m.body ?? defaultWebhookBody(m, ctx.nowMs);
      const headers: Record<string, string> = { ...(s.headers ?? {}), 'x-opsdeck-notification': m.notificationId, 'x-opsdeck-event': `alert.${m.action}` };
      if (secrets.authorization) headers.authorization = secrets.authorization;
      if (secrets.hmac_secret) headers['x-opsdeck-signature'] = signatureHeader(secrets.hmac_secret, body, Math.floor(ctx.nowMs / 1000));
      return post(ctx, s.url!, headers, body);
    }
    case 'slack':
      return post(ctx, secrets.webhook_url!, {}, slackBody(m));
    case 'teams':
      return post(ctx, secrets.webhook_url!, {}, teamsBody(m));
    case 'pagerduty':
      return post(ctx, s.events_url ?? PAGERDUTY_EVENTS_URL, {}, pagerDutyBody(m, secrets.routing_key!));
    case 'slack_bot':
      return sendSlackBot(ctx, s, secrets, m);
    case 'twilio_sms':
      return sendTwilio(ctx, s, secrets, m);
    case 'fcm':
      return sendFcm(ctx, s, secrets, m);
    case 'apns':
      return sendApns(ctx, s, secrets, m);
  }
}
