import { execFileSync } from 'node:child_process';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/platform/http/auth.js';
import { loginAs, bearer } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { adminClient, JOB_MODES, startJobsServer, type RunBody } from './helpers.js';

describe.each(JOB_MODES)('jobs API on $name', (mode) => {
  let server: TestServer;
  let api: Awaited<ReturnType<typeof adminClient>>;
  beforeAll(async () => {
    server = await startJobsServer(mode, { env: { OPSDECK_JOBS_LOCAL_COMMANDS: 'sleep,echo,/bin/sh', OPSDECK_JOBS_LOG_LINES_MAX: '30' } });
    api = await adminClient(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists every executor type with its parameter schema', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/types', headers: api.headers });
    expect(res.statusCode).toBe(200);
    const types = (res.json() as { items: { type: string; params_schema: { properties: object } }[] }).items.map((t) => t.type);
    expect(types).toEqual(expect.arrayContaining(['ssh_command', 'ping', 'tcp_port_scan', 'snmp_get', 'snmp_walk', 'http_request', 'local_command']));
  });

  it('runs a no-op run to success with per-target results and ordered logs', async () => {
    const run = await api.start({ type: 'noop', targets: ['a.example', 'b.example'], params: { lines: 3 } });
    expect(run.status).toBe('queued');
    expect(run.blocked_by).not.toBeNull();
    const done = await api.finished(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(1);
    const out = await api.output(run.id);
    expect(out.targets.map((t) => [t.host, t.status])).toEqual([
      ['a.example', 'succeeded'],
      ['b.example', 'succeeded'],
    ]);
    const logs = await api.logs(run.id);
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
    expect(logs.filter((l) => l.target === 'a.example' && l.message.startsWith('line')).map((l) => l.message)).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('retries only the failed targets with backoff, then ends partially_failed', async () => {
    const run = await api.start({
      type: 'noop',
      targets: ['ok.example', 'bad.example'],
      params: { fail_targets: ['bad.example'] },
      max_attempts: 2,
      backoff_ms: 50,
    });
    const done = await api.finished(run.id);
    expect(done.status).toBe('partially_failed');
    expect(done.attempt).toBe(2);
    const out = await api.output(run.id);
    expect(out.targets.find((t) => t.host === 'ok.example')).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(out.targets.find((t) => t.host === 'bad.example')).toMatchObject({ status: 'failed', attempt: 2, error: 'failed on purpose' });
  });
  it('rejects bad input with 4xx naming the field and writes nothing', async () => {
    // Counted in the table: the list caps at 1000, and another test may have queued more.
    const count = async () =>
      Number(
        (
          await (server.modules.database.db as unknown as Kysely<any>)
            .selectFrom('jobRuns')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ type: 'teleport', targets: ['x'] }, 422, 'body.type'],
      [{ type: 'ping', targets: ['x'], params: { count: 0 } }, 422, 'body.params.count'],
      [{ type: 'ping', targets: ['x'], params: { nope: 1 } }, 422, 'body.params'],
      [{ type: 'ping', targets: [] }, 422, 'body.targets'],
      [{ type: 'local_command', params: { command: 'rm', args: ['-rf', '/'] } }, 422, 'body.params.command'],
      [{ type: 'ssh_command', targets: ['x'], params: { commands: ['show version'] } }, 422, 'body.credential_id'],
      [{ type: 'ssh_command', targets: ['x'], credential_id: '0190a000-0000-7000-8000-000000000000', params: { commands: ['x'] } }, 422, 'body.credential_id'],
      [{ type: 'ping', targets: ['bad host!'] }, 400, 'body.targets.0'],
      [{ type: 'ping', targets: ['x'], priority: 99 }, 400, 'body.priority'],
      [{ type: 'ping', targets: ['x'], surprise: true }, 400, 'body.surprise'],
      [{ targets: ['x'] }, 400, 'body.type'],
    ];
    for (const [body, status, path] of cases) {
      const res = await api.create(body);
      expect(res.statusCode, JSON.stringify(body) + res.body).toBe(status);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(
        res.json().errors.map((e: { path: string }) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    expect(await count()).toBe(before);
  });

  it('returns the existing run for a repeated Idempotency-Key', async () => {
    const key = `key-${mode.dialect}-${Date.now()}`;
    const first = await api.create({ type: 'noop', targets: ['idem.example'] }, { 'idempotency-key': key });
    const second = await api.create({ type: 'noop', targets: ['idem.example'] }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(200);
    expect(second.json().id).toBe(first.json().id);
    const list = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs?type=noop&limit=1000', headers: api.headers });
    expect(list.json().items.filter((r: RunBody) => r.id === first.json().id)).toHaveLength(1);
  });

  it('stores, audits and queues each run of a concurrent burst once, and one run per repeated Idempotency-Key', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const key = `burst-${mode.dialect}-${Date.now()}`;
    const [burst, repeats] = await Promise.all([
      Promise.all(
        Array.from({ length: 30 }, (_, i) => api.create({ type: 'noop', targets: [`burst-${i}.example`], not_before: later, priority: i % 2 ? 9 : 1 })),
      ),
      Promise.all(
        Array.from({ length: 5 }, () => api.create({ type: 'noop', targets: ['burst-idem.example'], not_before: later }, { 'idempotency-key': key })),
      ),
    ]);
    expect(burst.map((r) => r.statusCode)).toEqual(Array(30).fill(202));
    const runs = burst.map((r) => r.json() as RunBody & { priority: number; queue_position: number });
    runs.forEach((r, i) => expect(r.targets, r.id).toEqual([`burst-${i}.example`]));
    expect(new Set(runs.map((r) => r.id)).size).toBe(30);
    expect(repeats.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(new Set(repeats.map((r) => r.json().id)).size).toBe(1);
    // Positions of the burst, read back now, rank the high-priority half ahead and each half by age.
    const now = await Promise.all(runs.map((r) => server.app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${r.id}`, headers: api.headers })));
    const ranked = now.map((r) => r.json() as { id: string; priority: number; queue_position: number }).sort((a, b) => a.queue_position - b.queue_position);
    expect(ranked.map((r) => `${r.priority}:${r.id}`)).toEqual(
      [...ranked].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id)).map((r) => `${r.priority}:${r.id}`),
    );
    expect(new Set(ranked.map((r) => r.queue_position)).size).toBe(30);
    const audit = await server.app.inject({ method: 'GET', url: '/api/v1/audit?action=job_run.created&limit=1000', headers: api.headers });
    const audited = (audit.json().items as { resource_id: string }[]).map((a) => a.resource_id);
    for (const r of [...runs, repeats[0]!.json() as RunBody]) {
      expect(
        audited.filter((id) => id === r.id),
        r.id,
      ).toHaveLength(1);
    }
    for (const r of runs) await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${r.id}/cancel`, headers: api.headers });
  });

  it('places a new run behind a long queue by estimate, never ahead of where a read counts it', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const jobs = server.modules.jobs.service;
    const long = await Promise.all(
      Array.from({ length: 1_050 }, (_, i) => jobs.createRun(SYSTEM_ACTOR, { type: 'noop', targets: [`long-${i}.example`], not_before: later, priority: 10 })),
    );
    const res = await api.create({ type: 'noop', targets: ['behind.example'], not_before: later, priority: 10 });
    expect(res.statusCode).toBe(202);
    const created = res.json() as { id: string; queue_position: number };
    const read = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${created.id}`, headers: api.headers })).json() as {
      queue_position: number;
    };
    expect(read.queue_position).toBeGreaterThanOrEqual(1_050);
    expect(created.queue_position).toBeGreaterThanOrEqual(read.queue_position);
    // Nothing else left the queue meanwhile but what earlier tests cancelled.
    expect(created.queue_position - read.queue_position).toBeLessThan(100);
    await Promise.all([...long.map(({ run }) => run.id), created.id].map((id) => jobs.cancelRun(SYSTEM_ACTOR, id)));
  });

  it('cancels a running local command, kills its process and keeps its log', async () => {
    const marker = `${40 + Math.floor(Math.random() * 1000) / 1000}`;
    const run = await api.start({ type: 'local_command', params: { command: '/bin/sh', args: ['-c', `echo started; exec sleep ${marker}`] } });
    await api.waitFor(run.id, (r) => r.status === 'running');
    await vi.waitFor(async () => expect((await api.logs(run.id)).some((l) => l.message === 'started')).toBe(true), { timeout: 10_000 });
    const res = await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${run.id}/cancel`, headers: api.headers });
    expect(res.statusCode).toBe(202);
    const done = await api.finished(run.id, 5_000);
    expect(done.status).toBe('cancelled');
    expect((await api.logs(run.id)).map((l) => l.message)).toContain('started');
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    expect(ps).not.toContain(`sleep ${marker}`);
    const again = await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${run.id}/cancel`, headers: api.headers });
    expect(again.statusCode).toBe(409);
  });

  it('cancels a queued run before it starts and explains scheduled runs', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const run = await api.start({ type: 'noop', targets: ['later.example'], not_before: later });
    expect(run.blocked_by).toBe(`scheduled_for ${later}`);
    expect(run.queue_position).toEqual(expect.any(Number));
    const res = await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${run.id}/cancel`, headers: api.headers });
    expect(res.json().status).toBe('cancelled');
    expect((await api.output(run.id)).targets[0]!.status).toBe('pending');
  });

  it('times a run out, and a target out, with the right states', async () => {
    const run = await api.start({ type: 'noop', targets: ['slow.example'], params: { sleep_ms: 60_000 }, timeout_ms: 300 });
    expect((await api.finished(run.id)).status).toBe('timed_out');
    const t = await api.start({ type: 'noop', targets: ['slow.example', 'fast.example'], params: { sleep_ms: 0 }, target_timeout_ms: 100 });
    expect((await api.finished(t.id)).status).toBe('succeeded');
    const slow = await api.start({ type: 'local_command', params: { command: 'sleep', args: ['30'] }, target_timeout_ms: 200 });
    expect((await api.finished(slow.id)).status).toBe('failed');
    expect((await api.output(slow.id)).targets[0]).toMatchObject({ status: 'timed_out', error: expect.stringMatching(/timeout/) });
  });

  it('serialises runs on one device: the second waits with blocked_by device_lock', async () => {
    const first = await api.start({ type: 'noop', targets: ['shared.example'], params: { sleep_ms: 3000 } });
    await api.waitFor(first.id, (r) => r.status === 'running');
    const second = await api.start({ type: 'noop', targets: ['shared.example'] });
    const waiting = await api.waitFor(second.id, (r) => r.blocked_by === `device_lock: ${first.id}`);
    expect(waiting.status).toBe('queued');
    expect((await api.finished(second.id)).status).toBe('succeeded');
    const [a, b] = [(await api.output(first.id)).targets[0]!, (await api.output(second.id)).targets[0]!];
    expect(Date.parse(b.started_at!)).toBeGreaterThanOrEqual(Date.parse(a.finished_at!));
  });

  it('caps the log with a visible truncation marker, and clears logs of finished runs', async () => {
    const run = await api.start({ type: 'noop', targets: ['chatty.example'], params: { lines: 100 } });
    const done = await api.finished(run.id);
    const logs = await api.logs(run.id);
    expect(logs).toHaveLength(31);
    expect(logs[30]!.message).toMatch(/log truncated/);
    expect(done.log_dropped).toBeGreaterThan(60);
    const del = await server.app.inject({ method: 'DELETE', url: `/api/v1/jobs/runs/${run.id}/logs`, headers: api.headers });
    expect(del.json()).toEqual({ deleted: 31 });
    expect(await api.logs(run.id)).toEqual([]);
    const all = await server.app.inject({ method: 'DELETE', url: '/api/v1/jobs/logs', headers: api.headers });
    expect(all.statusCode).toBe(200);
  });

  it('retries a finished run with only its failed targets', async () => {
    const run = await api.start({ type: 'noop', targets: ['good.example', 'flaky.example'], params: { fail_targets: ['flaky.example'] } });
    expect((await api.finished(run.id)).status).toBe('partially_failed');
    const res = await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${run.id}/retry`, headers: api.headers, payload: {} });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ retry_of: run.id, targets: ['flaky.example'] });
  });

  it('saves a template, runs it with overrides, and serves the latest report', async () => {
    const create = await server.app.inject({
      method: 'POST',
      url: '/api/v1/jobs/templates',
      headers: api.headers,
      payload: {
        name: `fpl-report-${mode.dialect}`,
        type: 'local_command',
        params: { command: 'echo', args: ['{"rank":1}'], parse: 'json' },
        tags: ['fpl'],
        folder: 'reports',
      },
    });
    expect(create.statusCode, create.body).toBe(201);
    const tpl = create.json();
    const run = await server.app.inject({
      method: 'POST',
      url: `/api/v1/jobs/templates/${tpl.id}/run`,
      headers: api.headers,
      payload: { params: { args: ['{"rank":7}'] } },
    });
    expect(run.statusCode, run.body).toBe(202);
    expect((await api.finished(run.json().id)).status).toBe('succeeded');
    const latest = await server.app.inject({ method: 'GET', url: `/api/v1/jobs/runs/latest?template=${encodeURIComponent(tpl.name)}`, headers: api.headers });
    expect(latest.statusCode).toBe(200);
    expect(latest.json().report).toEqual({ rank: 7 });
    const dup = await server.app.inject({ method: 'POST', url: '/api/v1/jobs/templates', headers: api.headers, payload: { name: tpl.name, type: 'noop' } });
    expect(dup.statusCode).toBe(409);
    const patch = await server.app.inject({
      method: 'PATCH',
      url: `/api/v1/jobs/templates/${tpl.id}`,
      headers: api.headers,
      payload: { params: { command: 'rm' } },
    });
    expect(patch.statusCode).toBe(422);
    expect((await server.app.inject({ method: 'DELETE', url: `/api/v1/jobs/templates/${tpl.id}`, headers: api.headers })).statusCode).toBe(204);
  });

  it('enforces permissions per route', async () => {
    const viewer = await loginAs(server, 'viewer');
    const res = await server.app.inject({ method: 'POST', url: '/api/v1/jobs/runs', headers: bearer(viewer.token), payload: { type: 'noop' } });
    expect(res.statusCode).toBe(403);
    const list = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs', headers: bearer(viewer.token) });
    expect(list.statusCode).toBe(200);
    const clear = await server.app.inject({ method: 'DELETE', url: '/api/v1/jobs/logs', headers: bearer(viewer.token) });
    expect(clear.statusCode).toBe(403);
    const anon = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs' });
    expect(anon.statusCode).toBe(401);
  });
});
