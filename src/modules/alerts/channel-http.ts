import { egressRequest, EgressRefusedError, type EgressPolicy, type EgressResponse } from '../../platform/egress/index.js';
import type { NotifyAction } from './alerts.fns.js';

/** Settings of every channel type (each type reads its own; `CHANNEL_SPECS` says which it requires). */
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
  channel?: string;
  api_url?: string;
  api_base?: string;
  account_sid?: string;
  messaging_service_sid?: string;
  max_length?: number;
  topic?: string;
  device_tokens?: string[];
  bundle_id?: string;
  key_id?: string;
  team_id?: string;
  sandbox?: boolean;
  priority?: 5 | 10;
  ca?: string;
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
  /** The receiver asked to wait this long before the next attempt (`Retry-After`). */
  retryAfterMs?: number;
}

export interface SendContext {
  egress: EgressPolicy;
  timeoutMs: number;
  userAgent: string;
  nowMs: number;
}

/** Severity colours of chat messages (Slack attachments, Teams cards). */
export const COLOURS: Record<string, string> = { critical: '#b00020', major: '#e65100', minor: '#f9a825', warning: '#fbc02d', info: '#1976d2' };

/** `Retry-After` (delta-seconds or an HTTP date) in milliseconds from `nowMs`, capped at one hour; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const ms = /^\d+$/.test(v.trim()) ? Number(v.trim()) * 1000 : Date.parse(v) - nowMs;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 3_600_000) : undefined;
}

/** 4xx other than 408/429 means the receiver refuses this request as it is: a retry would be refused too. */
export const finalStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** A failed exchange as a result: an egress refusal is final unless only the resolver failed. */
export function thrown(err: unknown): SendResult {
  const final = err instanceof EgressRefusedError && !err.retryable;
  return { ok: false, statusCode: null, error: (err as Error).message.slice(0, 500), ...(final ? { final } : {}) };
}

/** The result of an HTTP answer: 2xx delivered, else the status and the start of the body, final per `finalStatus`. */
export function httpResult(ctx: SendContext, res: EgressResponse): SendResult {
  const ok = res.status >= 200 && res.status < 300;
  if (ok) return { ok, statusCode: res.status, error: null };
  const wait = retryAfterMs(res.headers['retry-after'], ctx.nowMs);
  return {
    ok,
    statusCode: res.status,
    error: `the receiver answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`,
    ...(finalStatus(res.status) ? { final: true } : {}),
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
  };
}

/** One POST through the egress policy (pinned to the checked addresses, no redirects); `ca` trusts a private CA for HTTPS. */
export function exchange(
  ctx: SendContext,
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { ca?: string | undefined; maxBodyBytes?: number } = {},
): Promise<EgressResponse> {
  return egressRequest(ctx.egress, new URL(url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': ctx.userAgent, ...headers },
    body,
    timeoutMs: ctx.timeoutMs,
    maxBodyBytes: opts.maxBodyBytes ?? 2048,
    maxRedirects: 0,
    ...(opts.ca ? { tls: { ca: opts.ca } } : {}),
  });
}

/** POSTs and classifies the answer; never throws. */
export async function post(ctx: SendContext, url: string, headers: Record<string, string>, body: string, ca?: string): Promise<SendResult> {
  try {
    return httpResult(ctx, await exchange(ctx, url, headers, body, { ca }));
  } catch (err) {
    return thrown(err);
  }
}

/** Sends to each recipient in turn: delivered when all were; otherwise final only when every failure is final (a retry resends to all). */
export async function toEach<T>(targets: readonly T[], label: (t: T, i: number) => string, one: (t: T) => Promise<SendResult>): Promise<SendResult> {
  if (targets.length === 0) return { ok: false, statusCode: null, error: 'the channel has no recipients', final: true };
  const failures: { label: string; r: SendResult }[] = [];
  let last: SendResult = { ok: true, statusCode: null, error: null };
  for (const [i, t] of targets.entries()) {
    const r = await one(t);
    last = r;
    if (!r.ok) failures.push({ label: label(t, i), r });
  }
  if (failures.length === 0) return last;
  const waits = failures.map((f) => f.r.retryAfterMs).filter((w): w is number => w !== undefined);
  return {
    ok: false,
    statusCode: failures[0]!.r.statusCode,
    error: failures
      .map((f) => `${f.label}: ${f.r.error ?? 'failed'}`)
      .join('; ')
      .slice(0, 900),
    ...(failures.every((f) => f.r.final) ? { final: true } : {}),
    ...(waits.length > 0 ? { retryAfterMs: Math.max(...waits) } : {}),
  };
}
