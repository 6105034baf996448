import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/helpers/db.js';
import { createTestServer, useTestServer, type TestServer } from '../../../test/helpers/server.js';
import { isolatedRedisUrl } from '../../../test/helpers/events.js';
import { makeDevice, makeJobTemplate } from '../../../test/factories/index.js';
import { verifySignature } from './index.js';
import { createWebhooksRepository } from './webhooks.repository.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on loopback; answers with the queued statuses, then 200. */
async function startReceiver() {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    failNext: (...codes: number[]) => statuses.push(...codes),
    async waitFor(pred: (r: Received) => boolean, count = 1, ms = 15_000): Promise<Received[]> {
      const until = Date.now() + ms;
      while (received.filter(pred).length < count) {
        if (Date.now() > until) throw new Error(`receiver got ${received.length} requests: ${received.map((r) => r.headers['x-opsdeck-event']).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received.filter(pred);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const baseEnv = (dialect: string) => ({
  ...(dialect === 'postgres' ? { OPSDECK_REDIS_URL: isolatedRedisUrl(14) } : {}),
  OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32',
  OPSDECK_WEBHOOKS_RETRY_BASE_MS: '100',
  OPSDECK_WEBHOOKS_MAX_ATTEMPTS: '3',
  OPSDECK_EVENTS_POLL_MS: '100',
  OPSDECK_JOBS_QUEUE: `whk-${randomBytes(4).toString('hex')}`,
});

describe.each(DIALECTS)('/api/v1/webhooks on %s', (dialect) => {
  // Names resolve through this map, never the machine's DNS.
  const resolve = async (host: string) => {
    if (host === 'hooks.lab.test') return ['127.0.0.1'];
    throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  const server = useTestServer(dialect, { cluster: dialect === 'postgres', env: baseEnv(dialect), resolve });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: Record<string, string>;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = admin) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
  const createHook = async (name: string, events: string[], url = `${receiver.url}/hook`) => {
    const res = await api('POST', '/webhooks', { name, url, secret: SECRET, events });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string };
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    admin = bearer(await adminToken(server()));
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('creates, reads, updates and deletes a webhook without ever returning its secret; bad input is a 4xx naming the field', async () => {
    const created = await api('POST', '/webhooks', { name: 'crud', url: `${receiver.url}/crud`, secret: SECRET, events: ['device.*'] });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ name: 'crud', url: `${receiver.url}/crud`, events: ['device.*'], enabled: true, secret: { set: true } });
    const id = created.json().id as string;
    const got = await api('GET', `/webhooks/${id}`);
    expect(got.json()).toEqual(created.json());
    expect((await api('GET', '/webhooks')).json().items.map((w: { id: string }) => w.id)).toContain(id);
    const patched = await api('PATCH', `/webhooks/${id}`, { enabled: false, events: ['run.*'], secret: `${SECRET}-2` });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false, events: ['run.*'] });
    for (const body of [created.body, got.body, patched.body, (await api('GET', '/webhooks')).body]) expect(body).not.toContain(SECRET);

    const cases: [object, number, string][] = [
      [{ name: 'x', secret: SECRET, events: ['*'] }, 400, 'body.url'],
      [{ name: 'x', url: 'ftp://127.0.0.1/x', secret: SECRET, events: ['*'] }, 400, 'body.url'],
      [{ name: 'x', url: `${receiver.url}/x`, secret: 'short', events: ['*'] }, 400, 'body.secret'],
      [{ name: 'x', url: `${receiver.url}/x`, secret: SECRET, events: ['Bad Name'] }, 400, 'body.events.0'],
      [{ name: 'x', url: 'http://169.254.169.254/latest/meta-data', secret: SECRET, events: ['*'] }, 422, 'body.url'],
      [{ name: 'x', url: 'http://[::1]:9/x', secret: SECRET, events: ['*'] }, 422, 'body.url'],
      [{ name: 'x', url: 'http://user:pw@127.0.0.1:9/x', secret: SECRET, events: ['*'] }, 422, 'body.url'],
      [{ name: 'crud', url: `${receiver.url}/x`, secret: SECRET, events: ['*'] }, 409, 'body.name'],
    ];
    for (const [body, status, path] of cases) {
      const res = await api('POST', '/webhooks', body);
      expect(res.statusCode, `${JSON.stringify(body)} → ${res.body}`).toBe(status);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const names = (await api('GET', '/webhooks')).json().items.map((w: { name: string }) => w.name);
    expect(names.filter((n: string) => n === 'x')).toEqual([]);

    expect((await api('DELETE', `/webhooks/${id}`)).statusCode).toBe(204);
    expect((await api('GET', `/webhooks/${id}`)).statusCode).toBe(404);
    expect(server().logs.text()).not.toContain(SECRET);
  });

  it('delivers matching events signed with X-Opsdeck-Signature, retries after a 500 with backoff, and logs each delivery', async () => {
    const hook = await createHook('templates', ['job_template.*']);
    const disabled = await api('POST', '/webhooks', {
      name: 'templates-off',
      url: `${receiver.url}/off`,
      secret: SECRET,
      events: ['job_template.*'],
      enabled: false,
    });
    expect(disabled.statusCode, disabled.body).toBe(201);
    receiver.failNext(500);
    const template = await makeJobTemplate({ server: server(), headers: admin });
    const forTemplate = (r: Received) =>
      r.headers['x-opsdeck-event'] === 'job_template.created' && (JSON.parse(r.body) as { payload: { id: string } }).payload.id === template.id;
    const [first, second] = await receiver.waitFor(forTemplate, 2);
    expect(first!.headers['x-opsdeck-delivery']).toBe(second!.headers['x-opsdeck-delivery']);
    const body = JSON.parse(second!.body) as { id: string; name: string; created_at: string; payload: { name: string } };
    expect(body).toMatchObject({ name: 'job_template.created', payload: { name: template.name } });
    expect(second!.headers['x-opsdeck-event-id']).toBe(body.id);
    const signature = second!.headers['x-opsdeck-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(SECRET, second!.body, signature, now)).toBe(true);
    expect(verifySignature('another-secret-entirely', second!.body, signature, now)).toBe(false);
    expect(verifySignature(SECRET, second!.body.replace('job_template', 'job_templatf'), signature, now)).toBe(false);

    let log: { items: { event_id: string; status: string; attempts: number; status_code: number | null; duration_ms: number | null; error: string | null }[] } =
      { items: [] };
    for (let i = 0; i < 100; i += 1) {
      log = (await api('GET', `/webhooks/${hook.id}/deliveries`)).json();
      if (log.items[0]?.status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({ event_id: body.id, status: 'succeeded', attempts: 2, status_code: 200, error: null });
    expect(log.items[0]!.duration_ms).toBeGreaterThanOrEqual(0);
    // An event its filter does not match is not sent.
    expect(
      receiver.received.filter(
        (r) => r.headers['x-opsdeck-event'] !== 'job_template.created' && r.headers['x-opsdeck-event'] !== 'webhook.ping' && r.body.includes(hook.id),
      ),
    ).toEqual([]);
    // A disabled webhook gets nothing queued.
    expect((await api('GET', `/webhooks/${disabled.json().id as string}/deliveries`)).json().items).toEqual([]);
    expect((await api('DELETE', `/webhooks/${hook.id}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/webhooks/${disabled.json().id as string}`)).statusCode).toBe(204);
  });

  it('checks the target against the egress policy again at delivery time', async () => {
    const hook = await createHook('recheck', ['nothing.*']);
    const { eventsModule } = server().modules;
    // The stored webhook as if its address now resolved to one the policy refuses.
    const row = (await createWebhooksRepository(server().modules.database.db).find(hook.id))!;
    const result = await eventsModule.worker.attempt({ ...row, url: 'http://[::1]:9/x' }, { id: hook.id, eventId: hook.id, eventName: 'x.y', body: '{}' });
    expect(result).toMatchObject({ ok: false, statusCode: null, final: true });
    expect(result.error).toMatch(/^egress refused: ::1 is a loopback/);
    expect((await api('DELETE', `/webhooks/${hook.id}`)).statusCode).toBe(204);
  });

  it("refuses unspecified, unlisted loopback and Opsdeck's own port in every form when saved (body.url), and delivers to a host name", async () => {
    const address = await server().app.listen({ host: '127.0.0.1', port: 0 });
    const own = Number(new URL(address).port);
    const hosts = ['0', '0.0.0.0', '[::]', '[::ffff:0.0.0.0]', '[::ffff:0:0]', '127.0.0.2', '[::1]', '2130706434', '0x7f.2', '[::ffff:127.0.0.2]'];
    const urls = [
      ...hosts.map((h) => `http://${h}:9/x`),
      ...['127.0.0.1', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'hooks.lab.test'].map((h) => `http://${h}:${own}/metrics`),
    ];
    for (const url of urls) {
      const res = await api('POST', '/webhooks', { name: 'refused', url, secret: SECRET, events: ['*'] });
      expect(res.statusCode, `${url} → ${res.body}`).toBe(422);
      expect(res.json()).toMatchObject({ code: 'WEBHOOK_URL_DENIED', errors: [{ path: 'body.url' }] });
    }
    const hook = await createHook('by-name', ['nothing.*'], `${receiver.url.replace('127.0.0.1', 'hooks.lab.test')}/by-name`);
    const patched = await api('PATCH', `/webhooks/${hook.id}`, { url: `http://[::ffff:7f00:1]:${own}/metrics` });
    expect(patched.statusCode, patched.body).toBe(422);
    const ping = await api('POST', `/webhooks/${hook.id}/ping`);
    expect(ping.json(), ping.body).toMatchObject({ status: 'succeeded', status_code: 200, error: null });
    expect(receiver.received.at(-1)!.headers.host).toBe(`hooks.lab.test:${new URL(receiver.url).port}`);
    expect((await api('DELETE', `/webhooks/${hook.id}`)).statusCode).toBe(204);
  });

  it('gives up after the configured attempts and records the last status and error', async () => {
    const hook = await createHook('always-failing', ['device.created'], `${receiver.url}/failing`);
    receiver.failNext(503, 503, 503);
    await makeDevice({ server: server(), headers: admin });
    let item: { status: string; attempts: number; status_code: number | null; error: string | null } | undefined;
    for (let i = 0; i < 200 && item?.status !== 'failed'; i += 1) {
      item = (await api('GET', `/webhooks/${hook.id}/deliveries`)).json().items[0];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(item).toMatchObject({ status: 'failed', attempts: 3, status_code: 503, error: 'the receiver answered 503' });
    expect((await api('DELETE', `/webhooks/${hook.id}`)).statusCode).toBe(204);
  });

  it('ping sends a signed webhook.ping at once and answers with the delivery; viewers read, operators and viewers cannot write', async () => {
    const hook = await createHook('pinged', ['run.*']);
    const res = await api('POST', `/webhooks/${hook.id}/ping`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ webhook_id: hook.id, event_name: 'webhook.ping', status: 'succeeded', attempts: 1, status_code: 200, error: null });
    const [ping] = await receiver.waitFor((r) => r.headers['x-opsdeck-delivery'] === res.json().id);
    expect(verifySignature(SECRET, ping!.body, ping!.headers['x-opsdeck-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);

    const viewer = bearer((await loginAs(server(), 'viewer')).token);
    const operator = bearer((await loginAs(server(), 'operator')).token);
    expect((await api('GET', `/webhooks/${hook.id}/deliveries`, undefined, viewer)).statusCode).toBe(200);
    expect((await api('GET', `/webhooks/${hook.id}`, undefined, viewer)).statusCode).toBe(200);
    for (const who of [viewer, operator]) {
      expect((await api('POST', '/webhooks', { name: 'nope', url: `${receiver.url}/n`, secret: SECRET, events: ['*'] }, who)).statusCode).toBe(403);
      expect((await api('POST', `/webhooks/${hook.id}/ping`, undefined, who)).statusCode).toBe(403);
    }
    expect((await api('POST', `/webhooks/00000000-0000-7000-8000-000000000000/ping`)).statusCode).toBe(404);
  });
});

describe.each(DIALECTS)('after a restart on %s', (dialect) => {
  let db: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const env = baseEnv(dialect);
  beforeAll(async () => {
    db = await createTestDatabase(dialect, { migrate: false });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await db.drop();
  });

  it('events written while no worker ran are audited and delivered once one starts (subscribers catch up from their cursors)', async () => {
    const cluster = dialect === 'postgres';
    // First process: API only, nothing consumes.
    let node: TestServer = await createTestServer(dialect, { db, cluster, env: { ...env, OPSDECK_ROLES: 'api' } });
    const admin = bearer(await adminToken(node));
    const hook = await node.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: admin,
      payload: { name: 'restart', url: `${receiver.url}/r`, secret: SECRET, events: ['job_template.*'] },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    const template = await node.app.inject({
      method: 'POST',
      url: '/api/v1/jobs/templates',
      headers: admin,
      payload: { name: 'made-while-down', type: 'noop', params: {} },
    });
    expect(template.statusCode, template.body).toBe(201);
    const audit = async (n: TestServer) =>
      (
        await n.app.inject({ method: 'GET', url: `/api/v1/audit?resource_type=job_template&resource_id=${template.json().id as string}`, headers: admin })
      ).json().items as { action: string; actor: { name: string } }[];
    await new Promise((r) => setTimeout(r, 300));
    expect(await audit(node)).toEqual([]);
    expect(receiver.received).toEqual([]);
    await node.close();

    // Second process on the same database, with the worker role.
    node = await createTestServer(dialect, { db, cluster, env: { ...env, OPSDECK_ROLES: 'api,worker' } });
    try {
      const [got] = await receiver.waitFor((r) => r.headers['x-opsdeck-event'] === 'job_template.created');
      expect(JSON.parse(got!.body)).toMatchObject({ payload: { id: template.json().id, name: 'made-while-down' } });
      let rows: Awaited<ReturnType<typeof audit>> = [];
      for (let i = 0; i < 100 && rows.length === 0; i += 1) {
        rows = await audit(node);
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rows).toMatchObject([{ action: 'job_template.created', actor: { name: 'admin' } }]);
    } finally {
      await node.close();
    }
  });
});
