/**
 * Fault handling seen through the API, on both deployments: Idempotency-Key reuse with another
 * body, runs past their deadline, and targets whose failure no retry can fix.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { adminClient, JOB_MODES, startJobsServer, type RunBody } from './helpers.js';

describe.each(JOB_MODES)('job faults through the API on $name', (mode) => {
  let server: TestServer;
  let api: Awaited<ReturnType<typeof adminClient>>;
  beforeAll(async () => {
    // Names go through this resolver, never the machine's DNS: `nosuch-host.invalid` does not exist.
    const resolve = (host: string): Promise<string[]> => Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    server = await startJobsServer(mode, { env: { OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32' }, resolve });
    api = await adminClient(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses an Idempotency-Key reused with a different body (422 naming the header), and still returns the first run for the same body', async () => {
    const key = `reuse-${mode.dialect}-${Math.random().toString(36).slice(2)}`;
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const first = await api.create(
      { type: 'noop', targets: ['idem-a.example'], not_before: later, params: { lines: 1, sleep_ms: 0 } },
      { 'idempotency-key': key },
    );
    expect(first.statusCode, first.body).toBe(202);
    const id = (first.json() as RunBody).id;

    const other = await api.create({ type: 'noop', targets: ['idem-b.example'], not_before: later }, { 'idempotency-key': key });
    expect(other.statusCode, other.body).toBe(422);
    expect(other.headers['content-type']).toMatch(/application\/problem\+json/);
    const problem = other.json() as { code: string; errors: { path: string; message: string }[] };
    expect(problem.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(problem.errors.map((e) => e.path)).toEqual(['headers.idempotency-key']);

    // The same request (keys in another order) is a repeat: the first run, nothing new stored.
    const again = await api.create(
      { params: { sleep_ms: 0, lines: 1 }, not_before: later, targets: ['idem-a.example'], type: 'noop' },
      { 'idempotency-key': key },
    );
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as RunBody).id).toBe(id);
    const list = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs?type=noop&limit=1000', headers: api.headers });
    const hosts = (list.json() as { items: RunBody[] }).items.flatMap((r) => r.targets as string[]);
    expect(hosts.filter((h) => h.startsWith('idem-'))).toEqual(['idem-a.example']);
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${id}/cancel`, headers: api.headers });
  });

  it('ends a run still queued at its deadline as expired, without starting it; a deadline already past is refused', async () => {
    const holder = await api.start({ type: 'noop', targets: ['deadline.example'], params: { sleep_ms: 60_000 } });
    await api.waitFor(holder.id, (r) => r.status === 'running');
    const late = await api.start({ type: 'noop', targets: ['deadline.example'], expires_at: new Date(Date.now() + 1500).toISOString() });
    expect(late.expires_at).not.toBeNull();
    const ended = await api.finished(late.id, 20_000);
    expect([ended.status, ended.attempt, ended.started_at]).toEqual(['expired', 0, null]);
    expect(ended.reason).toMatch(/expires_at/);
    expect((await api.output(late.id)).targets.map((t) => t.status)).toEqual(['pending']);
    const byStatus = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs?status=expired', headers: api.headers });
    expect((byStatus.json() as { items: RunBody[] }).items.map((r) => r.id)).toContain(late.id);
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${holder.id}/cancel`, headers: api.headers });
    await api.finished(holder.id);

    const past = await api.create({ type: 'noop', expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(past.statusCode, past.body).toBe(422);
    expect((past.json() as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['body.expires_at']);
  });

  it('fails a target at once when no retry can fix it (a host name that does not exist), and retries one that may pass later (connection refused)', async () => {
    const nxdomain = await api.start({
      type: 'http_request',
      targets: ['nosuch-host.invalid'],
      params: { url: 'http://{{target}}/' },
      max_attempts: 3,
      backoff_ms: 10,
    });
    const failed = await api.finished(nxdomain.id);
    expect([failed.status, failed.attempt]).toEqual(['failed', 1]);
    expect(failed.reason).toMatch(/^not retried: dns: .*nosuch-host\.invalid/);
    const ping = await api.start({ type: 'ping', targets: ['nosuch-host.invalid'], params: { count: 1, timeout_ms: 1000 }, max_attempts: 3, backoff_ms: 10 });
    const pingFailed = await api.finished(ping.id);
    expect([pingFailed.status, pingFailed.attempt, pingFailed.reason]).toEqual(['failed', 1, 'not retried: cannot resolve nosuch-host.invalid (ENOTFOUND)']);

    const closed = await closedPort();
    const refused = await api.start({
      type: 'http_request',
      targets: ['127.0.0.1'],
      params: { url: `http://{{target}}:${closed}/` },
      max_attempts: 2,
      backoff_ms: 10,
    });
    const retried = await api.finished(refused.id);
    expect([retried.status, retried.attempt]).toEqual(['failed', 2]);
    expect(retried.reason ?? '').not.toMatch(/not retried/);
  });
});

/** A local TCP port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
