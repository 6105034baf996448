import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useDeliveryServer } from '../../../test/helpers/delivery-server.js';

/** What a stand-in answers: status, headers, JSON body. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}
interface Hit {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The key the test scripts answers by (Slack channel, SMS number, FCM/APNs token). */
  key: string;
}

/**
 * Scripted answers per key: the queued ones first, then `ok`. `handle` returns the answer for a
 * request it verified, or a 401/400 naming what it found wrong (the test then fails on status).
 */
function script() {
  const plans = new Map<string, Answer[]>();
  const hits: Hit[] = [];
  return {
    hits,
    plan: (key: string, ...answers: Answer[]) => plans.set(key, answers),
    next: (key: string, ok: Answer): Answer => plans.get(key)?.shift() ?? ok,
    of: (key: string) => hits.filter((h) => h.key === key),
  };
}

/** One loopback HTTP/1.1 server standing in for Slack's Web API, Twilio, Google's token endpoint and FCM (routed by path). */
async function startHttp(handle: (path: string, headers: http.IncomingHttpHeaders, body: string) => Promise<Answer & { key: string }>) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      void handle(req.url ?? '', req.headers, body).then((a) => {
        res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) }).end(JSON.stringify(a.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A self-signed certificate for `name` (openssl: a test peer). */
function selfSigned(name: string): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'apns-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=DNS:${name}`,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pem = (kind: 'rsa' | 'ec') =>
  kind === 'rsa'
    ? generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      })
    : generateKeyPairSync('ec', {
        namedCurve: 'P-256',
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });

const hex = (n: number) => randomBytes(n).toString('hex');
const BOT_TOKEN = `xoxb-${hex(8)}-${hex(12)}`;
const TWILIO_SID = `AC${hex(16)}`;
const TWILIO_TOKEN = hex(16);
const GOOGLE = pem('rsa');
const APPLE = pem('ec');
const KEY_ID = 'ABC123DEFG';
const TEAM_ID = 'TEAM123456';
const BUNDLE = 'com.example.opsdeck';

describe.each(DIALECTS)('chat-bot, SMS and push channels on %s', (dialect) => {
  const slack = script();
  const twilio = script();
  const google = script();
  const fcm = script();
  const apns = script();
  /** Access tokens the stand-in token endpoint issued (FCM accepts only these). */
  const issued = new Set<string>();
  let rx: Awaited<ReturnType<typeof startHttp>>;
  let h2: http2.Http2SecureServer;
  let h2Port = 0;
  const tlsPair = selfSigned('apns.test');

  beforeAll(async () => {
    rx = await startHttp(async (url, headers, body) => {
      if (url === '/slack/api/chat.postMessage') {
        const msg = JSON.parse(body) as { channel: string; text: string; attachments: { text: string }[] };
        slack.hits.push({ path: url, headers, body, key: msg.channel });
        // Slack answers 200 {ok:false} for a bad token, as the real API does.
        if (headers.authorization !== `Bearer ${BOT_TOKEN}`) return { key: msg.channel, status: 200, body: { ok: false, error: 'invalid_auth' } };
        return { key: msg.channel, ...slack.next(msg.channel, { status: 200, body: { ok: true, ts: '1.2' } }) };
      }
      if (url === `/twilio/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`) {
        const form = new URLSearchParams(body);
        const to = form.get('To') ?? '';
        twilio.hits.push({ path: url, headers, body, key: to });
        if (headers.authorization !== `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`) {
          return { key: to, status: 401, body: { code: 20003, message: 'Authenticate' } };
        }
        // Echoes the credential it got, as a careless gateway might: the log must mask it.
        return {
          key: to,
          ...twilio.next(to, { status: 201, body: { sid: `SM${hex(16)}`, status: 'queued' } }),
        };
      }
      if (url === '/oauth/token') {
        const form = new URLSearchParams(body);
        const assertion = form.get('assertion') ?? '';
        const { payload } = await jwtVerify(assertion, createPublicKey(GOOGLE.publicKey), {
          algorithms: ['RS256'],
          audience: `http://oauth.test:${rx.port}/oauth/token`,
        }).catch(() => ({ payload: null }));
        const iss = String(payload?.iss ?? 'unverified');
        google.hits.push({ path: url, headers, body, key: iss });
        if (
          !payload ||
          form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' ||
          payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging'
        ) {
          return { key: iss, status: 400, body: { error: 'invalid_grant' } };
        }
        const token = `ya29.${hex(16)}`;
        issued.add(token);
        return { key: iss, ...google.next(iss, { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } }) };
      }
      const m = /^\/fcm\/v1\/projects\/([^/]+)\/messages:send$/.exec(url);
      if (m) {
        const msg = (JSON.parse(body) as { message: { token?: string; topic?: string } }).message;
        const key = msg.token ?? msg.topic ?? '';
        fcm.hits.push({ path: url, headers, body, key });
        const token = String(headers.authorization ?? '').replace(/^Bearer /, '');
        if (!issued.has(token)) return { key, status: 401, body: { error: { status: 'UNAUTHENTICATED' } } };
        return { key, ...fcm.next(key, { status: 200, body: { name: `projects/${m[1]}/messages/${hex(4)}` } }) };
      }
      return { key: '', status: 404, body: {} };
    });
    h2 = http2.createSecureServer({ key: tlsPair.key, cert: tlsPair.cert });
    h2.on('stream', (stream, headers) => {
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      stream.on('end', () => {
        const device = String(headers[':path']).replace('/3/device/', '');
        apns.hits.push({ path: String(headers[':path']), headers: headers as Hit['headers'], body, key: device });
        const jwt = String(headers.authorization ?? '').replace(/^bearer /, '');
        void jwtVerify(jwt, createPublicKey(APPLE.publicKey), { algorithms: ['ES256'], issuer: TEAM_ID })
          .then(({ payload, protectedHeader }) => {
            const fresh = typeof payload.iat === 'number' && Math.abs(payload.iat - Date.now() / 1000) < 3600;
            return protectedHeader.kid === KEY_ID && fresh;
          })
          .catch(() => false)
          .then((valid) => {
            const a: Answer = !valid
              ? { status: 403, body: { reason: 'InvalidProviderToken' } }
              : headers['apns-topic'] !== BUNDLE || headers['apns-push-type'] !== 'alert'
                ? { status: 400, body: { reason: 'TopicDisallowed' } }
                : apns.next(device, { status: 200, body: null });
            stream.respond({ ':status': a.status, ...(a.headers ?? {}) });
            stream.end(a.body === null ? undefined : JSON.stringify(a.body));
          });
      });
    });
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    h2Port = (h2.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await rx.close();
    await new Promise<void>((resolve) => h2.close(() => resolve()));
  });

  const { server, call } = useDeliveryServer(dialect, ['slack.test', 'twilio.test', 'oauth.test', 'fcm.test', 'apns.test']);
  const channel = async (token: string, body: Record<string, unknown>) => {
    const r = await call('POST', '/api/v1/notifications/channels', token, body);
    if (r.status !== 201) throw new Error(`channel: ${r.status} ${r.raw}`);
    return { id: r.body.id as string, raw: r.raw };
  };
  /** Routes alerts of `source` to the channel and raises one; answers the notification's id. */
  const notify = async (token: string, channelId: string, source: string, extra: Record<string, unknown> = {}) => {
    const rule = await call('POST', '/api/v1/notifications/rules', token, { name: `r-${source}`, match: { sources: [source] }, channel_ids: [channelId] });
    if (rule.status !== 201) throw new Error(`rule: ${rule.status} ${rule.raw}`);
    const a = await call('POST', '/api/v1/alerts', token, { source, title: `${source} alert`, severity: 'critical', ...extra });
    const alertId = (a.body.alert as { id: string }).id;
    const list = await call('GET', `/api/v1/notifications/deliveries?alert_id=${alertId}`, token);
    return (list.body.items as { id: string }[])[0]!.id;
  };
  interface Delivery {
    status: string;
    attempts: number;
    last_error: string | null;
    log: { attempt: number; status_code: number | null; error: string | null; at: string }[];
  }
  const settled = async (token: string, id: string, status: string): Promise<Delivery & { raw: string }> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const d = await call('GET', `/api/v1/notifications/deliveries/${id}`, token);
      if (d.body.status === status) return { ...(d.body as unknown as Delivery), raw: d.raw };
      if (Date.now() > until) throw new Error(`delivery ${id} is ${String(d.body.status)}, not ${status}: ${d.raw}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** No secret of these channels in any response body given, nor in the server's log. */
  const noSecrets = (texts: string[], secrets: string[]) => {
    for (const s of secrets) {
      for (const t of [...texts, server().logs.text()]) expect(t).not.toContain(s);
    }
  };

  it('Slack bot: posts with the bearer token, waits out ratelimited (Retry-After), is final on channel_not_found and invalid_auth', async () => {
    const admin = await adminToken(server());
    const api = `http://slack.test:${rx.port}/slack/api/chat.postMessage`;
    const ok = await channel(admin, {
      name: `bot-${dialect}`,
      type: 'slack_bot',
      settings: { channel: `C-${dialect}`, api_url: api },
      secrets: { bot_token: BOT_TOKEN },
    });
    expect(JSON.parse(ok.raw).secrets).toEqual({ bot_token: { set: true } });
    slack.plan(`C-${dialect}`, { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
    const n = await notify(admin, ok.id, `slackbot-${dialect}`, { description: 'uplink flapping' });
    const done = await settled(admin, n, 'delivered');
    expect(done.log.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 429],
      [2, 200],
    ]);
    // The backoff alone would be 100 ms: the second attempt waited for Retry-After.
    expect(Date.parse(done.log[1]!.at) - Date.parse(done.log[0]!.at)).toBeGreaterThanOrEqual(1000);
    const msg = JSON.parse(slack.of(`C-${dialect}`).at(-1)!.body) as { channel: string; text: string; attachments: { text: string }[] };
    expect(msg).toMatchObject({ channel: `C-${dialect}`, text: `[CRITICAL] slackbot-${dialect} alert` });
    expect(msg.attachments[0]!.text).toContain('uplink flapping');

    // ok:false channel_not_found on HTTP 200 is a failure, and final: dead after one attempt.
    const gone = await channel(admin, {
      name: `bot-gone-${dialect}`,
      type: 'slack_bot',
      settings: { channel: `G-${dialect}`, api_url: api },
      secrets: { bot_token: BOT_TOKEN },
    });
    slack.plan(`G-${dialect}`, { status: 200, body: { ok: false, error: 'channel_not_found' } });
    const dead = await settled(admin, await notify(admin, gone.id, `slackgone-${dialect}`), 'dead');
    expect(dead.log).toHaveLength(1);
    expect(dead.last_error).toContain('channel_not_found');

    // A wrong token: the stand-in answers invalid_auth; the test-send says so.
    const wrong = await channel(admin, {
      name: `bot-wrong-${dialect}`,
      type: 'slack_bot',
      settings: { channel: `W-${dialect}`, api_url: api },
      secrets: { bot_token: 'xoxb-wrong-token-1234' },
    });
    const test = await call('POST', `/api/v1/notifications/channels/${wrong.id}/test`, admin);
    expect(test.body).toMatchObject({ status: 'dead', attempts: 1, last_status_code: 200 });
    expect(String(test.body.last_error)).toContain('invalid_auth');
    const good = await call('POST', `/api/v1/notifications/channels/${ok.id}/test`, admin);
    expect(good.body).toMatchObject({ status: 'delivered', kind: 'test' });
    noSecrets([ok.raw, done.raw, test.raw, good.raw, (await call('GET', `/api/v1/notifications/channels/${ok.id}`, admin)).raw], [BOT_TOKEN]);
    const bad = await call('POST', '/api/v1/notifications/channels', admin, {
      name: 'b',
      type: 'slack_bot',
      settings: { channel: 'C1' },
      secrets: { bot_token: 'nope' },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.errors)).toContain('body.secrets.bot_token');
    expect(bad.raw).not.toContain('nope');
  });

  it('Twilio SMS: Basic auth, one form POST per E.164 number, text cut to max_length, 503 retried, 400 final, credentials masked', async () => {
    const admin = await adminToken(server());
    const [a, b] = [`+1415555${dialect === 'sqlite' ? '01' : '02'}01`, `+4930123456${dialect === 'sqlite' ? '1' : '2'}`];
    const settings = { account_sid: TWILIO_SID, from: '+14155550100', to: [a, b], api_base: `http://twilio.test:${rx.port}/twilio`, max_length: 60 };
    const ch = await channel(admin, { name: `sms-${dialect}`, type: 'twilio_sms', settings, secrets: { auth_token: TWILIO_TOKEN } });
    twilio.plan(b, { status: 503, body: { message: 'busy' } });
    const n = await notify(admin, ch.id, `sms-${dialect}`, { description: 'x'.repeat(500) });
    const done = await settled(admin, n, 'delivered');
    expect(done.log.map((l) => [l.attempt, l.status_code])).toEqual([
      [1, 503],
      [2, 201],
    ]);
    const last = new URLSearchParams(twilio.of(b).at(-1)!.body);
    expect(last.get('From')).toBe('+14155550100');
    expect(last.get('Body')!.startsWith(`[CRITICAL] sms-${dialect} alert`)).toBe(true);
    expect([...last.get('Body')!]).toHaveLength(60);
    expect(last.get('Body')!.endsWith('…')).toBe(true);
    expect(twilio.of(a).length).toBeGreaterThanOrEqual(1);

    // 400 (Twilio's invalid number) is final: dead after one attempt; the echoed Basic credential is masked.
    const basic = Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64');
    const c = `+1415555${dialect === 'sqlite' ? '03' : '04'}01`;
    const ch2 = await channel(admin, {
      name: `sms2-${dialect}`,
      type: 'twilio_sms',
      settings: { ...settings, to: [c] },
      secrets: { auth_token: TWILIO_TOKEN },
    });
    twilio.plan(c, { status: 400, body: { code: 21211, message: `invalid To; you sent Basic ${basic} token ${TWILIO_TOKEN}` } });
    const dead = await settled(admin, await notify(admin, ch2.id, `sms2-${dialect}`), 'dead');
    expect(dead.log).toHaveLength(1);
    expect(dead.last_error).toContain('21211');
    expect(dead.last_error).toContain('***');
    const test = await call('POST', `/api/v1/notifications/channels/${ch.id}/test`, admin);
    expect(test.body).toMatchObject({ status: 'delivered', kind: 'test' });
    noSecrets([ch.raw, done.raw, dead.raw, test.raw], [TWILIO_TOKEN, basic]);

    const bad = await call('POST', '/api/v1/notifications/channels', admin, {
      name: 'bad-sms',
      type: 'twilio_sms',
      settings: { account_sid: TWILIO_SID, to: ['+14155550100', '0301234'] },
      secrets: { auth_token: TWILIO_TOKEN },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.errors)).toContain('body.settings.to.1');
    expect(JSON.stringify(bad.body.errors)).toContain('body.settings.from');
  });

  it('FCM: signs the service-account JWT, caches the access token, sends messages:send, retries 500, is final on 404', async () => {
    const admin = await adminToken(server());
    const email = `opsdeck-${dialect}-${hex(3)}@project.iam.gserviceaccount.com`;
    const serviceAccount = JSON.stringify({
      type: 'service_account',
      project_id: 'opsdeck-test',
      client_email: email,
      private_key: GOOGLE.privateKey,
      token_uri: `http://oauth.test:${rx.port}/oauth/token`,
    });
    const device = `dev-${dialect}-${hex(8)}`;
    const ch = await channel(admin, {
      name: `fcm-${dialect}`,
      type: 'fcm',
      settings: { device_tokens: [device], api_base: `http://fcm.test:${rx.port}/fcm` },
      secrets: { service_account: serviceAccount },
    });
    const t1 = await call('POST', `/api/v1/notifications/channels/${ch.id}/test`, admin);
    expect(t1.body).toMatchObject({ status: 'delivered', kind: 'test' });
    fcm.plan(device, { status: 500, body: { error: { status: 'INTERNAL' } } });
    const done = await settled(admin, await notify(admin, ch.id, `fcm-${dialect}`), 'delivered');
    expect(done.log.map((l) => [l.attempt, l.status_code])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    // One token for the test-send and both attempts: cached until shortly before it expires.
    expect(google.of(email)).toHaveLength(1);
    const sent = fcm.of(device).at(-1)!;
    expect(sent.path).toBe('/fcm/v1/projects/opsdeck-test/messages:send');
    const msg = (JSON.parse(sent.body) as { message: Record<string, unknown> }).message;
    expect(msg).toMatchObject({
      token: device,
      notification: { title: `[CRITICAL] fcm-${dialect} alert` },
      data: { action: 'trigger', severity: 'critical', source: `fcm-${dialect}` },
    });

    const gone = `gone-${dialect}-${hex(8)}`;
    const ch2 = await channel(admin, {
      name: `fcm2-${dialect}`,
      type: 'fcm',
      settings: { device_tokens: [gone], api_base: `http://fcm.test:${rx.port}/fcm` },
      secrets: { service_account: serviceAccount },
    });
    fcm.plan(gone, { status: 404, body: { error: { status: 'NOT_FOUND', details: [{ errorCode: 'UNREGISTERED' }] } } });
    const dead = await settled(admin, await notify(admin, ch2.id, `fcm2-${dialect}`), 'dead');
    expect(dead.log).toHaveLength(1);
    expect(dead.last_error).toContain('UNREGISTERED');
    const keyBody = GOOGLE.privateKey.split('\n')[1]!;
    noSecrets([ch.raw, t1.raw, done.raw, dead.raw], [keyBody, ...issued]);

    const bad = await call('POST', '/api/v1/notifications/channels', admin, {
      name: 'bad-fcm',
      type: 'fcm',
      settings: { topic: 'alerts' },
      secrets: { service_account: JSON.stringify({ client_email: email, project_id: 'p', private_key_id: 'kid-secret-1234' }) },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.errors)).toContain('body.secrets.service_account');
    expect(bad.raw).not.toContain('kid-secret-1234');
  });

  it('APNs: HTTP/2 to the checked address, ES256 provider token (kid, iss, iat) reused, 503 retried, 410/400 final, the ca setting is the only trust', async () => {
    const admin = await adminToken(server());
    const settings = { host: 'apns.test', port: h2Port, ca: tlsPair.cert, bundle_id: BUNDLE, key_id: KEY_ID, team_id: TEAM_ID, priority: 5 };
    const device = hex(32);
    const ch = await channel(admin, {
      name: `apns-${dialect}`,
      type: 'apns',
      settings: { ...settings, device_tokens: [device] },
      secrets: { private_key: APPLE.privateKey },
    });
    const test = await call('POST', `/api/v1/notifications/channels/${ch.id}/test`, admin);
    expect(test.body).toMatchObject({ status: 'delivered', kind: 'test' });
    apns.plan(device, { status: 503, body: { reason: 'ServiceUnavailable' } });
    const done = await settled(admin, await notify(admin, ch.id, `apns-${dialect}`), 'delivered');
    expect(done.log.map((l) => [l.attempt, l.status_code])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    const hits = apns.of(device);
    expect(hits).toHaveLength(3);
    const last = hits.at(-1)!;
    expect(last.headers).toMatchObject({ ':method': 'POST', 'apns-topic': BUNDLE, 'apns-push-type': 'alert', 'apns-priority': '5' });
    expect(last.headers[':authority']).toBe(`apns.test:${h2Port}`);
    const jwt = String(last.headers.authorization).replace(/^bearer /, '');
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: KEY_ID });
    // The provider token is reused (≤ 50 minutes), not signed per request.
    expect(new Set(hits.map((h) => h.headers.authorization)).size).toBe(1);
    expect(JSON.parse(last.body)).toMatchObject({ aps: { alert: { title: `[CRITICAL] apns-${dialect} alert` } } });

    for (const [status, reason] of [
      [410, 'Unregistered'],
      [400, 'BadDeviceToken'],
    ] as const) {
      const d = hex(32);
      const c = await channel(admin, {
        name: `apns-${reason}-${dialect}`,
        type: 'apns',
        settings: { ...settings, device_tokens: [d] },
        secrets: { private_key: APPLE.privateKey },
      });
      apns.plan(d, { status, body: { reason } });
      const dead = await settled(admin, await notify(admin, c.id, `apns-${reason}-${dialect}`), 'dead');
      expect(dead.log.map((l) => l.status_code)).toEqual([status]);
      expect(dead.last_error).toContain(reason);
    }

    // Without the ca setting the self-signed receiver is not trusted: nothing reaches it.
    const untrusted = hex(32);
    const { ca: _ca, ...noCa } = settings;
    const c = await channel(admin, {
      name: `apns-noca-${dialect}`,
      type: 'apns',
      settings: { ...noCa, device_tokens: [untrusted] },
      secrets: { private_key: APPLE.privateKey },
    });
    const refused = await call('POST', `/api/v1/notifications/channels/${c.id}/test`, admin);
    expect(refused.body.status).toBe('dead');
    expect(String(refused.body.last_error)).toMatch(/certificate/i);
    expect(apns.of(untrusted)).toHaveLength(0);

    const keyBody = APPLE.privateKey.split('\n')[1]!;
    noSecrets([ch.raw, test.raw, done.raw, refused.raw], [keyBody, jwt]);
    const bad = await call('POST', '/api/v1/notifications/channels', admin, {
      name: 'bad-apns',
      type: 'apns',
      settings: { ...settings, device_tokens: ['not-a-hex-token'] },
      secrets: { private_key: GOOGLE.privateKey },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.errors)).toContain('body.settings.device_tokens.0');
    expect(JSON.stringify(bad.body.errors)).toContain('body.secrets.private_key');
  });
});
