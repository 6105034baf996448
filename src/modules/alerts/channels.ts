import nodemailer from 'nodemailer';
import { egressRequest, EgressRefusedError, type EgressPolicy } from '../../platform/egress/index.js';
import { signatureHeader } from '../events/index.js';
import type { NotifyAction } from './alerts.fns.js';

export const CHANNEL_TYPES = ['email', 'webhook', 'slack', 'teams', 'pagerduty'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Per type: settings it requires, and secret fields (sealed in the vault, never returned). */
export const CHANNEL_SPECS: Record<ChannelType, { required: readonly string[]; secrets: readonly string[]; requiredSecrets: readonly string[] }> = {
  email: { required: ['host', 'port', 'from', 'to'], secrets: ['password'], requiredSecrets: [] },
  webhook: { required: ['url'], secrets: ['hmac_secret', 'authorization'], requiredSecrets: [] },
  slack: { required: [], secrets: ['webhook_url'], requiredSecrets: ['webhook_url'] },
  teams: { required: [], secrets: ['webhook_url'], requiredSecrets: ['webhook_url'] },
  pagerduty: { required: [], secrets: ['routing_key'], requiredSecrets: ['routing_key'] },
};

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export interface ChannelSettings {
  url?: string;
  headers?: Record<string, string>;
  host?: string;
  port?: number;
  tls?: 'none' | 'starttls' | 'tls';
  from?: string;
  to?: string[];
  username?: string;
  events_url?: string;
}

/** What every channel sends: the rendered subject and text, the alert as data, and the action. */
export interface Message {
  notificationId: string;
  action: NotifyAction;
  subject: string;
  text: string;
  /** The webhook's rendered JSON body (its template), else null: the default body. */
  body: string | null;
  alert: {
    id: string | null;
    source: string;
    title: string;
    description: string;
    severity: string;
    state: string;
    labels: Record<string, string>;
    count: number;
    dedup_key: string;
  };
}

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** Retrying cannot help. */
  final?: boolean;
}

export interface SendContext {
  egress: EgressPolicy;
  timeoutMs: number;
  userAgent: string;
  nowMs: number;
}

const PD_SEVERITY: Record<string, string> = { critical: 'critical', major: 'error', minor: 'warning', warning: 'warning', info: 'info' };
const COLOURS: Record<string, string> = { critical: '#b00020', major: '#e65100', minor: '#f9a825', warning: '#fbc02d', info: '#1976d2' };

async function post(ctx: SendContext, url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
  try {
    const res = await egressRequest(ctx.egress, new URL(url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': ctx.userAgent, ...headers },
      body,
      timeoutMs: ctx.timeoutMs,
      maxBodyBytes: 2048,
      maxRedirects: 0,
    });
    const ok = res.status >= 200 && res.status < 300;
    // 4xx other than 408/429 means the receiver refuses this request as it is: a retry would be refused too.
    const final = !ok && res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    return {
      ok,
      statusCode: res.status,
      error: ok ? null : `the receiver answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`,
      ...(final ? { final } : {}),
    };
  } catch (err) {
    const final = err instanceof EgressRefusedError && !err.retryable;
    return { ok: false, statusCode: null, error: (err as Error).message.slice(0, 500), ...(final ? { final } : {}) };
  }
}

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
  }
}
