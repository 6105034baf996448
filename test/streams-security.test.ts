import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, login, loginAs } from './helpers/auth.js';
import { DIALECTS } from './helpers/db.js';
import { createTestServer, TEST_ADMIN_PASSWORD, useTestServer, type TestServer } from './helpers/server.js';
import { requireRedis } from './helpers/redis.js';

/** The bound the issue sets for closing a stream whose principal lost access. */
const CLOSE_WITHIN_MS = 5_000;

interface Frame {
  type: string;
  code?: string;
  message?: string;
  channel?: string;
}

/** A WebSocket client that records the upgrade's answer, its frames and its close. */
function openWs(base: string, options: { query?: string; headers?: Record<string, string> } = {}) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws${options.query ?? ''}`, { headers: options.headers ?? {} });
  const frames: Frame[] = [];
  let framesAtClose: number | null = null;
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as Frame));
  const refused = new Promise<{ status: number; body: { code?: string } }>((resolve) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body ? (JSON.parse(body) as { code?: string }) : {} }));
    });
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      framesAtClose = frames.length;
      resolve({ code, reason: reason.toString() });
    }),
  );
  const waitFor = async (pred: (f: Frame) => boolean, ms = 10_000): Promise<Frame> => {
    const until = Date.now() + ms;
    while (!frames.some(pred)) {
      if (Date.now() > until) throw new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return frames.find(pred)!;
  };
  return {
    ws,
    frames,
    refused,
    closed,
    waitFor,
    ready: () => waitFor((f) => f.type === 'ready'),
    framesAfterClose: () => (framesAtClose === null ? 0 : frames.length - framesAtClose),
    subscribe: (channel: string) => ws.send(JSON.stringify({ type: 'subscribe', channel, after: 0 })),
  };
}

/** A raw SSE reader: every event in order, and whether the server ended the response. */
function openSse(base: string, path: string, headers: Record<string, string> = {}) {
  const events: { event: string; data: string }[] = [];
  let buffer = '';
  let ended = false;
  let req: http.ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = http.get(`${base}${path}`, { headers }, (res) => {
      resolve(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const data = block.find((l) => l.startsWith('data: '));
          if (data) events.push({ event: block.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message', data: data.slice(6) });
        }
      });
      res.on('end', () => (ended = true));
    });
    req.on('error', reject);
  });
  return { events, status, ended: () => ended, close: () => req.destroy() };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(DIALECTS)('live streams: authentication, authorisation and re-check on %s', (dialect) => {
  const server = useTestServer(dialect, {
    cluster: dialect === 'postgres',
    env: { OPSDECK_JOBS_QUEUE: `streams-${randomBytes(4).toString('hex')}`, OPSDECK_CORS_ORIGINS: 'https://console.example' },
  });
  let base: string;
  let admin: string;
  /** A run that stays queued (not_before far ahead): its streams stay open. */
  let runId: string;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    base = await server().app.listen({ host: '127.0.0.1', port: 0 });
    admin = await adminToken(server());
    const run = await api('POST', '/jobs/runs', admin, {
      type: 'noop',
      targets: ['streams.example'],
      not_before: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(run.statusCode, run.body).toBe(202);
    runId = run.json().id;
    const role = await api('POST', '/roles', admin, {
      name: 'stream-reader',
      permissions: ['account:read', 'account:manage', 'jobs:read', 'events:read', 'api-keys:write', 'api-keys:read'],
    });
    expect(role.statusCode, role.body).toBe(201);
    const noJobs = await api('POST', '/roles', admin, { name: 'no-jobs', permissions: ['account:read', 'system:read'] });
    expect(noJobs.statusCode, noJobs.body).toBe(201);
  });

  const ticket = async (token: string): Promise<string> => {
    const res = await api('POST', '/stream-tickets', token);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().ticket;
  };

  it('refuses an upgrade without authentication with a 401 problem, before upgrading', async () => {
    const c = openWs(base);
    expect(await c.refused).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    const bad = openWs(base, { headers: { authorization: 'Bearer not-a-token' } });
    expect((await bad.refused).status).toBe(401);
  });

  it('refuses a token in the URL (WebSocket and SSE) with 400 TOKEN_IN_URL, valid or not', async () => {
    for (const name of ['token', 'access_token']) {
      const c = openWs(base, { query: `?${name}=${admin}` });
      expect(await c.refused).toMatchObject({ status: 400, body: { code: 'TOKEN_IN_URL' } });
    }
    const sse = await server().app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${runId}/events?token=${admin}` });
    expect(sse.statusCode).toBe(400);
    expect(sse.json()).toMatchObject({ code: 'TOKEN_IN_URL', errors: [{ path: 'query.token' }] });
    const events = await server().app.inject({ method: 'GET', url: `/api/v1/events?token=${admin}` });
    expect(events.json().code).toBe('TOKEN_IN_URL');
    // The in-band auth message is gone: a header-authenticated socket is told so.
    const c = openWs(base, { headers: bearer(admin) });
    await c.ready();
    c.ws.send(JSON.stringify({ type: 'auth', token: admin }));
    expect(await c.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'WS_BAD_MESSAGE' });
    c.ws.close();
  });

  it('opens a stream with a ticket once; a second use, an expired ticket and a ticket on another route are refused', async () => {
    const t = await ticket(admin);
    const first = openWs(base, { query: `?ticket=${t}` });
    await first.ready();
    first.subscribe(`job-run:${runId}`);
    await first.waitFor((f) => f.type === 'subscribed');
    first.ws.close();
    const again = openWs(base, { query: `?ticket=${t}` });
    expect(await again.refused).toMatchObject({ status: 401, body: { code: 'STREAM_TICKET_INVALID' } });

    const stale = await ticket(admin);
    await sql`update stream_tickets set expires_at = ${new Date(Date.now() - 1000).toISOString()}`.execute(server().modules.database.db);
    expect(await openWs(base, { query: `?ticket=${stale}` }).refused).toMatchObject({ status: 401, body: { code: 'STREAM_TICKET_INVALID' } });

    // SSE (EventSource cannot set headers) takes a ticket too, once.
    const sseTicket = await ticket(admin);
    const sse = openSse(base, `/api/v1/jobs/runs/${runId}/events?ticket=${sseTicket}`);
    expect(await sse.status).toBe(200);
    sse.close();
    expect((await server().app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${runId}/events?ticket=${sseTicket}` })).json().code).toBe(
      'STREAM_TICKET_INVALID',
    );
    // Only stream routes read ?ticket=: elsewhere it authenticates nothing.
    const other = await ticket(admin);
    expect((await server().app.inject({ method: 'GET', url: `/api/v1/auth/me?ticket=${other}` })).statusCode).toBe(401);
  });

  it('refuses a browser upgrade from a foreign Origin (403) and accepts its own origin, a configured one and none', async () => {
    const host = new URL(base).host;
    const foreign = openWs(base, { headers: { ...bearer(admin), origin: 'https://evil.example' } });
    expect(await foreign.refused).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED' } });
    expect(await openWs(base, { headers: { ...bearer(admin), origin: 'null' } }).refused).toMatchObject({ status: 403 });
    for (const origin of [`http://${host}`, 'https://console.example', undefined]) {
      const c = openWs(base, { headers: { ...bearer(admin), ...(origin ? { origin } : {}) } });
      await c.ready();
      c.ws.close();
    }
  });

  it('answers a denied subscription the same whether the run exists, limits guessing (4429) and audits the burst once', async () => {
    const guesser = await loginAs(server(), 'viewer');
    const outsider = await loginAs(server(), 'no-jobs', admin);
    const probe = openWs(base, { headers: bearer(outsider.token) });
    await probe.ready();
    probe.subscribe(`job-run:${runId}`);
    probe.subscribe(`job-run:${crypto.randomUUID()}`);
    await probe.waitFor((f) => f.type === 'error' && f.channel !== `job-run:${runId}`);
    const [real, guessed] = [
      probe.frames.find((f) => f.channel === `job-run:${runId}`)!,
      probe.frames.find((f) => f.type === 'error' && f.channel !== `job-run:${runId}`)!,
    ];
    expect({ ...real, channel: '' }).toEqual({ ...guessed, channel: '' });
    expect(real.code).toBe('WS_SUBSCRIBE_DENIED');
    probe.ws.close();

    // 65 guessed ids over several connections: each is closed 4429 past the limit.
    let sent = 0;
    const closes: number[] = [];
    while (sent < 65) {
      const c = openWs(base, { headers: bearer(guesser.token) });
      await c.ready();
      while (sent < 65 && c.ws.readyState === WebSocket.OPEN) {
        c.subscribe(`job-run:${crypto.randomUUID()}`);
        sent += 1;
        await new Promise((r) => setTimeout(r, 5));
      }
      closes.push((await c.closed).code);
    }
    expect(closes).toEqual(closes.map(() => 4429));
    const audited = async () =>
      (await api('GET', `/audit?action=stream.subscriptions_denied&actor_id=${guesser.userId}`, admin)).json().items as { outcome: string }[];
    await expect.poll(audited, { timeout: 5_000 }).toHaveLength(1);
    expect((await audited())[0]).toMatchObject({ outcome: 'denied' });
    expect(server().logs.text()).toContain('too many denied stream subscriptions');
  });

  /** A user with WebSocket (run + events channels), run SSE and events SSE streams open. */
  async function streamsOf(token: string) {
    const ws = openWs(base, { headers: bearer(token) });
    await ws.ready();
    ws.subscribe(`job-run:${runId}`);
    ws.subscribe('events');
    await ws.waitFor((f) => f.type === 'subscribed' && f.channel === 'events');
    await ws.waitFor((f) => f.type === 'subscribed' && f.channel === `job-run:${runId}`);
    const runSse = openSse(base, `/api/v1/jobs/runs/${runId}/events`, bearer(token));
    const eventsSse = openSse(base, '/api/v1/events', bearer(token));
    expect([await runSse.status, await eventsSse.status]).toEqual([200, 200]);
    return { ws, sse: [runSse, eventsSse] };
  }

  /** Every stream ends within the bound: the socket with `code`, each SSE with an `end` event and nothing after it. */
  async function expectClosed(s: Awaited<ReturnType<typeof streamsOf>>, code: number, reason: string) {
    const started = Date.now();
    const closed = await Promise.race([s.ws.closed, new Promise<null>((r) => setTimeout(() => r(null), CLOSE_WITHIN_MS))]);
    expect(closed, `WebSocket still open after ${CLOSE_WITHIN_MS} ms`).toEqual({ code, reason });
    for (const sse of s.sse) {
      await until(sse.ended, Math.max(500, CLOSE_WITHIN_MS - (Date.now() - started)), 'SSE end');
      const last = sse.events[sse.events.length - 1]!;
      expect(last.event).toBe('end');
      expect(JSON.parse(last.data)).toMatchObject({ reason });
    }
    // Activity after the close reaches none of them.
    await api('POST', '/roles', admin, { name: `after-close-${randomBytes(3).toString('hex')}`, permissions: ['account:read'] });
    await new Promise((r) => setTimeout(r, 300));
    expect(s.ws.framesAfterClose()).toBe(0);
    for (const sse of s.sse) expect(sse.events[sse.events.length - 1]!.event).toBe('end');
  }

  it('closes the streams of a session that logs out (4401)', async () => {
    const u = await loginAs(server(), 'stream-reader', admin);
    const s = await streamsOf(u.token);
    expect((await api('POST', '/auth/logout', u.token)).statusCode).toBe(204);
    await expectClosed(s, 4401, 'credential_revoked');
  });

  it('closes the streams of other sessions when the password changes (4401)', async () => {
    const u = await loginAs(server(), 'stream-reader', admin);
    const other = (await login(server(), u.username, u.password)).access_token;
    const s = await streamsOf(other);
    const changed = await api('POST', '/auth/password', u.token, { current_password: u.password, new_password: `${u.password}-new-1` });
    expect(changed.statusCode, changed.body).toBe(204);
    await expectClosed(s, 4401, 'credential_revoked');
  });

  it('closes the streams of a disabled user (4401), ticket-opened ones included', async () => {
    const u = await loginAs(server(), 'stream-reader', admin);
    const s = await streamsOf(u.token);
    const viaTicket = openWs(base, { query: `?ticket=${await ticket(u.token)}` });
    await viaTicket.ready();
    expect((await api('PATCH', `/users/${u.userId}`, admin, { status: 'disabled' })).statusCode).toBe(200);
    await expectClosed(s, 4401, 'credential_revoked');
    expect(await viaTicket.closed).toEqual({ code: 4401, reason: 'credential_revoked' });
  });

  it('closes the streams of a user whose role no longer grants them (4403)', async () => {
    const u = await loginAs(server(), 'stream-reader', admin);
    const s = await streamsOf(u.token);
    const changed = await api('PATCH', `/users/${u.userId}`, admin, { roles: ['no-jobs'] });
    expect(changed.statusCode, changed.body).toBe(200);
    await expectClosed(s, 4403, 'access_revoked');
  });

  it('sign out everywhere with revoke_api_keys revokes the API keys too, and closes their streams', async () => {
    const u = await loginAs(server(), 'stream-reader', admin);
    const key = (await api('POST', '/api-keys', u.token, { name: 'streams', permissions: ['jobs:read', 'events:read'] })).json().key as string;
    const kept = (await api('POST', '/api-keys', u.token, { name: 'kept', permissions: ['jobs:read'] })).json().key as string;
    const s = await streamsOf(key);
    const session = openWs(base, { headers: bearer(u.token) });
    await session.ready();
    // Without the option, signing out everywhere ends the sessions' streams and leaves keys alone.
    const other = (await login(server(), u.username, u.password)).access_token;
    expect((await api('DELETE', '/auth/sessions', other)).statusCode).toBe(204);
    expect(await Promise.race([session.closed, new Promise<null>((r) => setTimeout(() => r(null), CLOSE_WITHIN_MS))])).toEqual({
      code: 4401,
      reason: 'credential_revoked',
    });
    expect(s.ws.ws.readyState).toBe(WebSocket.OPEN);
    expect((await server().app.inject({ method: 'GET', url: '/api/v1/auth/verify', headers: { 'x-api-key': kept } })).statusCode).toBe(200);
    const third = (await login(server(), u.username, u.password)).access_token;
    expect((await api('DELETE', '/auth/sessions?revoke_api_keys=true', third)).statusCode).toBe(204);
    await expectClosed(s, 4401, 'credential_revoked');
    for (const k of [key, kept]) {
      expect((await server().app.inject({ method: 'GET', url: '/api/v1/auth/verify', headers: { 'x-api-key': k } })).json().code).toBe('API_KEY_REVOKED');
    }
  });

  it('a password change with revoke_api_keys revokes the API keys; disabling the user makes them useless anyway', async () => {
    const verify = (k: string) => server().app.inject({ method: 'GET', url: '/api/v1/auth/verify', headers: { 'x-api-key': k } });
    const u = await loginAs(server(), 'stream-reader', admin);
    const key = (await api('POST', '/api-keys', u.token, { name: 'pw', permissions: ['jobs:read'] })).json().key as string;
    expect((await api('POST', '/auth/password', u.token, { current_password: u.password, new_password: `${u.password}-new-2` })).statusCode).toBe(204);
    expect((await verify(key)).statusCode).toBe(200);
    expect(
      (await api('POST', '/auth/password', u.token, { current_password: `${u.password}-new-2`, new_password: `${u.password}-new-3`, revoke_api_keys: true }))
        .statusCode,
    ).toBe(204);
    expect((await verify(key)).json().code).toBe('API_KEY_REVOKED');

    const d = await loginAs(server(), 'stream-reader', admin);
    const dKey = (await api('POST', '/api-keys', d.token, { name: 'disabled', permissions: ['jobs:read'] })).json().key as string;
    const s = openWs(base, { headers: { 'x-api-key': dKey } });
    await s.ready();
    expect((await api('PATCH', `/users/${d.userId}`, admin, { status: 'disabled' })).statusCode).toBe(200);
    expect((await verify(dKey)).statusCode).toBe(401);
    expect((await openWs(base, { headers: { 'x-api-key': dKey } }).refused).status).toBe(401);
    expect(await s.closed).toEqual({ code: 4401, reason: 'credential_revoked' });
  });
});

/** Two API nodes on one PostgreSQL database and one Redis, as in a cluster. */
describe('live streams across two cluster nodes', () => {
  const env = { OPSDECK_JOBS_QUEUE: `streams-cl-${randomBytes(4).toString('hex')}` };
  let a: TestServer;
  let b: TestServer;
  let baseB: string;
  let admin: string;
  beforeAll(async () => {
    await requireRedis();
    a = await createTestServer('postgres', { cluster: true, env });
    b = await createTestServer('postgres', { cluster: true, db: a.db, env });
    baseB = await b.app.listen({ host: '127.0.0.1', port: 0 });
    admin = await adminToken(a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  const onA = (method: 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
    a.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const closedWithin = (ws: ReturnType<typeof openWs>) => Promise.race([ws.closed, new Promise<null>((r) => setTimeout(() => r(null), CLOSE_WITHIN_MS))]);

  it('redeems on node B a ticket node A issued, once', async () => {
    const t = (await onA('POST', '/stream-tickets', admin)).json().ticket as string;
    const c = openWs(baseB, { query: `?ticket=${t}` });
    await c.ready();
    c.ws.close();
    expect((await openWs(baseB, { query: `?ticket=${t}` }).refused).status).toBe(401);
  });

  it('closes on node B the streams of a session logged out on node A', async () => {
    const session = await login(a, 'admin', TEST_ADMIN_PASSWORD);
    const ws = openWs(baseB, { headers: bearer(session.access_token) });
    await ws.ready();
    ws.subscribe('events');
    await ws.waitFor((f) => f.type === 'subscribed');
    const sse = openSse(baseB, '/api/v1/events', bearer(session.access_token));
    expect(await sse.status).toBe(200);
    expect((await onA('POST', '/auth/logout', session.access_token)).statusCode).toBe(204);
    expect(await closedWithin(ws)).toEqual({ code: 4401, reason: 'credential_revoked' });
    await until(sse.ended, CLOSE_WITHIN_MS, 'SSE end');
    expect(sse.events.at(-1)).toMatchObject({ event: 'end' });
  });

  it('closes on node B the streams of a user whose role node A removed', async () => {
    expect((await onA('POST', '/roles', admin, { name: 'cl-events', permissions: ['account:read', 'events:read'] })).statusCode).toBe(201);
    expect((await onA('POST', '/roles', admin, { name: 'cl-none', permissions: ['account:read'] })).statusCode).toBe(201);
    const u = await loginAs(a, 'cl-events', admin);
    const ws = openWs(baseB, { headers: bearer(u.token) });
    await ws.ready();
    ws.subscribe('events');
    await ws.waitFor((f) => f.type === 'subscribed');
    expect((await onA('PATCH', `/users/${u.userId}`, admin, { roles: ['cl-none'] })).statusCode).toBe(200);
    expect(await closedWithin(ws)).toEqual({ code: 4403, reason: 'access_revoked' });
  });
});
