import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { importPKCS8, SignJWT } from 'jose';
import type { FieldError } from '../../platform/errors.js';
import { maskSecrets } from './alerts.fns.js';
import {
  COLOURS,
  exchange,
  httpResult,
  post,
  retryAfterMs,
  thrown,
  toEach,
  type ChannelSettings,
  type Message,
  type SendContext,
  type SendResult,
} from './channel-http.js';

/**
 * The chat-bot, SMS and mobile-push channels: Slack `chat.postMessage` with a bot token, Twilio
 * SMS, Firebase Cloud Messaging HTTP v1 (OAuth2 token from a service-account JWT) and APNs
 * (HTTP/2 with an ES256 provider token). Each send goes through the egress policy and never
 * throws; credentials it derives (Basic auth, access and provider tokens) are masked in its
 * error before the delivery log masks the channel's stored secrets.
 */

export const SLACK_API_URL = 'https://slack.com/api/chat.postMessage';
export const TWILIO_API_BASE = 'https://api.twilio.com';
export const FCM_API_BASE = 'https://fcm.googleapis.com';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const APNS_HOST = 'api.push.apple.com';
export const APNS_SANDBOX_HOST = 'api.sandbox.push.apple.com';
/** Twilio's limit for one message body (it splits it into up to 10 segments). */
export const SMS_MAX_LENGTH = 1600;
export const SMS_DEFAULT_LENGTH = 320;
/** APNs asks providers to refresh the token at most every 20 minutes and refuses one older than an hour. */
export const APNS_TOKEN_REUSE_MS = 50 * 60_000;

const E164 = /^\+[1-9][0-9]{1,14}$/;
/** Twilio's alphanumeric sender ID: up to 11 letters, digits and spaces, at least one letter. */
const ALPHA_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const hash = (s: string) => createHash('sha256').update(s).digest('hex');

const withMask = (r: SendResult, secrets: readonly string[]): SendResult => (r.error === null ? r : { ...r, error: maskSecrets(r.error, secrets) });

/** Cuts text to `max` characters (code points), ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

// ---------------------------------------------------------------------------------------------
// Slack bot token: chat.postMessage answers HTTP 200 with {ok:false, error} when it refuses.

/** Slack Web API errors a later attempt can get past; every other `error` is final (`invalid_auth`, `channel_not_found` …). */
const SLACK_RETRYABLE = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export async function sendSlackBot(ctx: SendContext, s: ChannelSettings, secrets: Record<string, string>, m: Message): Promise<SendResult> {
  const body = JSON.stringify({ channel: s.channel, text: m.subject, attachments: [{ color: COLOURS[m.alert.severity], text: m.text }] });
  try {
    const res = await exchange(
      ctx,
      s.api_url ?? SLACK_API_URL,
      { authorization: `Bearer ${secrets.bot_token}`, 'content-type': 'application/json; charset=utf-8' },
      body,
      { ca: s.ca, maxBodyBytes: 16_384 },
    );
    if (res.status !== 200) return httpResult(ctx, res);
    let answer: { ok?: unknown; error?: unknown };
    try {
      answer = JSON.parse(res.body.toString('utf8')) as { ok?: unknown; error?: unknown };
    } catch {
      return { ok: false, statusCode: 200, error: 'Slack answered 200 without JSON' };
    }
    if (answer.ok === true) return { ok: true, statusCode: 200, error: null };
    const code = typeof answer.error === 'string' ? answer.error.slice(0, 100) : 'unknown_error';
    const wait = retryAfterMs(res.headers['retry-after'], ctx.nowMs);
    return {
      ok: false,
      statusCode: 200,
      error: `Slack refused the message: ${code}`,
      ...(SLACK_RETRYABLE.has(code) ? {} : { final: true }),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    };
  } catch (err) {
    return thrown(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Twilio SMS: one form-encoded POST per recipient, HTTP Basic account SID : auth token.

export function smsText(m: Pick<Message, 'subject' | 'text'>, max: number): string {
  return truncate(m.text ? `${m.subject}\n${m.text}` : m.subject, max);
}

export async function sendTwilio(ctx: SendContext, s: ChannelSettings, secrets: Record<string, string>, m: Message): Promise<SendResult> {
  const basic = Buffer.from(`${s.account_sid}:${secrets.auth_token}`).toString('base64');
  const url = `${(s.api_base ?? TWILIO_API_BASE).replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(s.account_sid!)}/Messages.json`;
  const text = smsText(m, s.max_length ?? SMS_DEFAULT_LENGTH);
  const sender: Record<string, string> = s.messaging_service_sid ? { MessagingServiceSid: s.messaging_service_sid } : { From: s.from! };
  const r = await toEach(
    s.to!,
    (to) => to,
    (to) =>
      post(
        ctx,
        url,
        { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ To: to, ...sender, Body: text }).toString(),
        s.ca,
      ),
  );
  return withMask(r, [basic]);
}

// ---------------------------------------------------------------------------------------------
// Firebase Cloud Messaging HTTP v1: an OAuth2 access token from a JWT signed with the service
// account's key (RS256), cached until a minute before it expires.

export interface ServiceAccount {
  client_email: string;
  private_key: string;
  project_id: string;
  token_uri?: string;
}

/** The service account JSON, or why it is unusable (never echoing it). */
export async function parseServiceAccount(text: string): Promise<ServiceAccount | { problem: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problem: 'must be the service account JSON key file' };
  }
  const sa = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null) return { problem: 'must be the service account JSON key file' };
  const missing = ['client_email', 'private_key', 'project_id'].filter((k) => typeof sa[k] !== 'string' || !(sa[k] as string));
  if (missing.length > 0) return { problem: `lacks ${missing.join(', ')}` };
  if (sa.token_uri !== undefined && typeof sa.token_uri !== 'string') return { problem: 'token_uri must be a string' };
  try {
    await importPKCS8(sa.private_key as string, 'RS256');
  } catch {
    return { problem: 'private_key is not an RSA private key in PKCS#8 PEM' };
  }
  return sa as unknown as ServiceAccount;
}

const accessTokens = new Map<string, { token: string; expiresAtMs: number }>();

async function fcmAccessToken(ctx: SendContext, sa: ServiceAccount, key: string, ca: string | undefined): Promise<{ token: string } | { failed: SendResult }> {
  const cached = accessTokens.get(key);
  if (cached && cached.expiresAtMs - 60_000 > ctx.nowMs) return { token: cached.token };
  const iat = Math.floor(ctx.nowMs / 1000);
  const tokenUri = sa.token_uri ?? GOOGLE_TOKEN_URI;
  const assertion = await new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(sa.client_email)
    .setAudience(tokenUri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(await importPKCS8(sa.private_key, 'RS256'));
  const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
  try {
    const res = await exchange(ctx, tokenUri, { 'content-type': 'application/x-www-form-urlencoded' }, form, { ca, maxBodyBytes: 16_384 });
    if (res.status < 200 || res.status >= 300) {
      const r = httpResult(ctx, res);
      return { failed: withMask({ ...r, error: `the token endpoint: ${r.error}` }, [assertion]) };
    }
    const answer = JSON.parse(res.body.toString('utf8')) as { access_token?: unknown; expires_in?: unknown };
    if (typeof answer.access_token !== 'string' || !answer.access_token) {
      return { failed: { ok: false, statusCode: res.status, error: 'the token endpoint answered without access_token' } };
    }
    const expiresIn = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 3600;
    accessTokens.set(key, { token: answer.access_token, expiresAtMs: ctx.nowMs + expiresIn * 1000 });
    return { token: answer.access_token };
  } catch (err) {
    const r = thrown(err);
    return { failed: withMask({ ...r, error: `the token endpoint: ${r.error}` }, [assertion]) };
  }
}

/** FCM data values must be strings. */
const pushData = (m: Message): Record<string, string> => ({
  notification_id: m.notificationId,
  action: m.action,
  alert_id: m.alert.id ?? '',
  severity: m.alert.severity,
  source: m.alert.source,
  dedup_key: m.alert.dedup_key,
});

export async function sendFcm(ctx: SendContext, s: ChannelSettings, secrets: Record<string, string>, m: Message): Promise<SendResult> {
  const parsed = await parseServiceAccount(secrets.service_account ?? '');
  if ('problem' in parsed) return { ok: false, statusCode: null, error: `service_account ${parsed.problem}`, final: true };
  const key = hash(secrets.service_account!);
  const got = await fcmAccessToken(ctx, parsed, key, s.ca);
  if ('failed' in got) return withMask(got.failed, [parsed.private_key]);
  const url = `${(s.api_base ?? FCM_API_BASE).replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(parsed.project_id)}/messages:send`;
  const targets: Record<string, string>[] = s.topic ? [{ topic: s.topic }] : (s.device_tokens ?? []).map((token) => ({ token }));
  const r = await toEach(
    targets,
    (t, i) => (t.topic ? `topic ${t.topic}` : `device ${i + 1}`),
    async (target) => {
      const body = JSON.stringify({ message: { ...target, notification: { title: m.subject, body: truncate(m.text, 1000) }, data: pushData(m) } });
      const res = await post(ctx, url, { authorization: `Bearer ${got.token}` }, body, s.ca);
      // 401: the access token was revoked or expired early; the next attempt fetches a new one.
      if (res.statusCode === 401) {
        accessTokens.delete(key);
        return { ok: false, statusCode: 401, error: res.error };
      }
      return res;
    },
  );
  return withMask(r, [got.token, parsed.private_key]);
}

// ---------------------------------------------------------------------------------------------
// APNs: HTTP/2 to the checked address, an ES256 provider token reused for up to 50 minutes.

const providerTokens = new Map<string, { jwt: string; issuedAtMs: number }>();

const providerKey = (s: ChannelSettings, p8: string) => hash(`${s.team_id}\n${s.key_id}\n${p8}`);

async function apnsProviderToken(ctx: SendContext, s: ChannelSettings, p8: string): Promise<string> {
  const key = providerKey(s, p8);
  const cached = providerTokens.get(key);
  if (cached && ctx.nowMs - cached.issuedAtMs < APNS_TOKEN_REUSE_MS && ctx.nowMs >= cached.issuedAtMs) return cached.jwt;
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: s.key_id! })
    .setIssuer(s.team_id!)
    .setIssuedAt(Math.floor(ctx.nowMs / 1000))
    .sign(await importPKCS8(p8, 'ES256'));
  providerTokens.set(key, { jwt, issuedAtMs: ctx.nowMs });
  return jwt;
}

/** APNs statuses retrying cannot help (BadDeviceToken, Unregistered, a refused token or topic …); 429/500/503 are retried. */
const APNS_FINAL = new Set([400, 403, 404, 405, 410, 413]);

function apnsRequest(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: string,
  nowMs: number,
  onExpiredToken: () => void,
): Promise<SendResult> {
  return new Promise((resolve) => {
    const fail = (err: Error) => resolve({ ok: false, statusCode: null, error: err.message.slice(0, 500) });
    session.once('error', fail);
    const req = session.request(headers);
    let status = 0;
    let retryAfter: string | string[] | undefined;
    let data = '';
    req.setEncoding('utf8');
    req.on('response', (h) => {
      status = Number(h[':status']);
      retryAfter = h['retry-after'];
    });
    req.on('data', (c: string) => {
      if (data.length < 4096) data += c;
    });
    req.on('error', fail);
    req.on('end', () => {
      session.off('error', fail);
      if (status === 200) return resolve({ ok: true, statusCode: 200, error: null });
      let reason = data.slice(0, 200);
      try {
        reason = String((JSON.parse(data) as { reason?: unknown }).reason ?? reason);
      } catch {
        // not JSON: the raw start of the body is the reason
      }
      const expired = status === 403 && reason === 'ExpiredProviderToken';
      if (expired) onExpiredToken();
      const wait = retryAfterMs(retryAfter, nowMs);
      resolve({
        ok: false,
        statusCode: status,
        error: `APNs answered ${status}: ${reason}`,
        ...(APNS_FINAL.has(status) && !expired ? { final: true } : {}),
        ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      });
    });
    req.end(body);
  });
}

export async function sendApns(ctx: SendContext, s: ChannelSettings, secrets: Record<string, string>, m: Message): Promise<SendResult> {
  const host = s.host ?? (s.sandbox ? APNS_SANDBOX_HOST : APNS_HOST);
  const port = s.port ?? 443;
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const verdict = await ctx.egress.check(new URL(`https://${authority}`));
  if (!verdict.ok) return { ok: false, statusCode: null, error: `${host}: ${verdict.reason}`, ...(verdict.retryable ? {} : { final: true }) };
  let jwt: string;
  try {
    jwt = await apnsProviderToken(ctx, s, secrets.private_key ?? '');
  } catch {
    return { ok: false, statusCode: null, error: 'private_key is not an EC P-256 private key in PKCS#8 PEM (.p8)', final: true };
  }
  const address = verdict.addresses[0]!;
  // The approved address is dialled; the name stays the TLS server name (and :authority).
  const session = http2.connect(`https://${authority}`, {
    createConnection: () =>
      tls.connect({
        host: address.address,
        port,
        ALPNProtocols: ['h2'],
        ...(isIP(host) ? {} : { servername: host }),
        ...(s.ca ? { ca: s.ca } : {}),
      }),
  });
  session.on('error', () => undefined);
  const timer = setTimeout(() => session.destroy(new Error(`no response within ${ctx.timeoutMs} ms`)), ctx.timeoutMs);
  const body = JSON.stringify({
    aps: { alert: { title: m.subject, body: truncate(m.text, 1500) }, sound: 'default' },
    opsdeck: pushData(m),
  });
  try {
    const r = await toEach(
      s.device_tokens ?? [],
      (_t, i) => `device ${i + 1}`,
      (token) =>
        apnsRequest(
          session,
          {
            ':method': 'POST',
            ':path': `/3/device/${encodeURIComponent(token)}`,
            authorization: `bearer ${jwt}`,
            'apns-topic': s.bundle_id!,
            'apns-push-type': 'alert',
            'apns-priority': String(s.priority ?? 10),
            'apns-id': m.notificationId,
            'content-type': 'application/json',
          },
          body,
          ctx.nowMs,
          () => providerTokens.delete(providerKey(s, secrets.private_key ?? '')),
        ),
    );
    return withMask(r, [jwt]);
  } finally {
    clearTimeout(timer);
    session.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Save-time checks (the service adds the egress check of every URL `pushUrls` names).

export async function checkPushChannel(type: string, s: ChannelSettings, secrets: Record<string, string>): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const err = (path: string, message: string) => errors.push({ path, message });
  switch (type) {
    case 'slack_bot':
      if (secrets.bot_token && !/^xox[a-z]-\S+$/.test(secrets.bot_token)) err('body.secrets.bot_token', 'must be a Slack token (xoxb-…)');
      break;
    case 'twilio_sms':
      if (!s.from && !s.messaging_service_sid) err('body.settings.from', 'from or messaging_service_sid is required for twilio_sms channels');
      if (s.from && !E164.test(s.from) && !ALPHA_SENDER.test(s.from)) {
        err('body.settings.from', 'must be an E.164 number (+14155550100) or an alphanumeric sender ID');
      }
      (s.to ?? []).forEach((to, i) => !E164.test(to) && err(`body.settings.to.${i}`, 'must be an E.164 number (+14155550100)'));
      if (s.max_length !== undefined && s.max_length > SMS_MAX_LENGTH) err('body.settings.max_length', `must be at most ${SMS_MAX_LENGTH}`);
      break;
    case 'fcm': {
      if (!s.topic === !s.device_tokens) err('body.settings.topic', 'give exactly one of topic and device_tokens for fcm channels');
      if (secrets.service_account) {
        const sa = await parseServiceAccount(secrets.service_account);
        if ('problem' in sa) err('body.secrets.service_account', sa.problem);
      }
      break;
    }
    case 'apns':
      (s.device_tokens ?? []).forEach((t, i) => !/^[0-9a-fA-F]{32,200}$/.test(t) && err(`body.settings.device_tokens.${i}`, 'must be a hex APNs device token'));
      if (secrets.private_key) {
        try {
          await importPKCS8(secrets.private_key, 'ES256');
        } catch {
          err('body.secrets.private_key', 'must be the .p8 key (an EC P-256 private key in PKCS#8 PEM)');
        }
      }
      break;
  }
  return errors;
}

/** The URLs a push channel calls, for the save-time egress check: [field path, URL]. */
export async function pushUrls(type: string, s: ChannelSettings, secrets: Record<string, string>): Promise<[string, string | undefined][]> {
  switch (type) {
    case 'slack_bot':
      return [['body.settings.api_url', s.api_url]];
    case 'twilio_sms':
      return [['body.settings.api_base', s.api_base]];
    case 'fcm': {
      const sa = secrets.service_account ? await parseServiceAccount(secrets.service_account) : null;
      return [
        ['body.settings.api_base', s.api_base],
        ['body.secrets.service_account', sa && !('problem' in sa) ? sa.token_uri : undefined],
      ];
    }
    case 'apns':
      return s.host ? [['body.settings.host', `https://${isIP(s.host) === 6 ? `[${s.host}]` : s.host}:${s.port ?? 443}`]] : [];
    default:
      return [];
  }
}
