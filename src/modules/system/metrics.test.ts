import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { adminClient } from '../../../test/jobs/helpers.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { cacheNamespace } from '../../platform/observability/metrics.js';

/** The value of one series in an exposition, or undefined when it is absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(DIALECTS)('job series on /metrics on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_JOBS_LOCAL_COMMANDS: 'echo' } });
  const scrape = async () => {
    const res = await server().app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    execFileSync('promtool', ['check', 'metrics'], { input: res.body, stdio: ['pipe', 'pipe', 'pipe'] });
    return res.body;
  };

  it('exposes queue depth and running runs read from the database, and promtool accepts them', async () => {
    const body = await scrape();
    expect(body).toMatch(/^# TYPE opsdeck_job_queue_depth gauge$/m);
    expect(body).toMatch(/^opsdeck_job_queue_depth 0$/m);
    expect(body).toMatch(/^# TYPE opsdeck_job_runs_running gauge$/m);
    expect(body).toMatch(/^# TYPE opsdeck_schedule_fires_total counter$/m);
    expect(body).toMatch(/^# TYPE opsdeck_job_run_duration_seconds histogram$/m);
    expect(body).toMatch(/^# TYPE opsdeck_job_runs_finished_total counter$/m);
  });

  it('counts a finished run by type and state and observes its duration', async () => {
    const api = await adminClient(server());
    const before = await scrape();
    const finished = (b: string) => sample(b, 'opsdeck_job_runs_finished_total{type="local_command",status="succeeded"}') ?? 0;
    const observed = (b: string) => sample(b, 'opsdeck_job_run_duration_seconds_count{type="local_command"}') ?? 0;
    const run = await api.start({ type: 'local_command', params: { command: 'echo', args: ['hi'] } });
    expect((await api.finished(run.id)).status).toBe('succeeded');
    const after = await scrape();
    expect(finished(after)).toBe(finished(before) + 1);
    expect(observed(after)).toBe(observed(before) + 1);
    expect(sample(after, 'opsdeck_job_run_duration_seconds_bucket{le="+Inf",type="local_command"}')).toBe(observed(after));
  });

  it('counts a run cancelled while still queued', async () => {
    const api = await adminClient(server());
    const cancelled = (b: string) => sample(b, 'opsdeck_job_runs_finished_total{type="local_command",status="cancelled"}') ?? 0;
    const before = await scrape();
    const run = await api.start({
      type: 'local_command',
      params: { command: 'echo', args: ['later'] },
      not_before: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const res = await server().app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${run.id}/cancel`, headers: api.headers });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().status).toBe('cancelled');
    expect(cancelled(await scrape())).toBe(cancelled(before) + 1);
  });

  it('counts enabled schedules from the database', async () => {
    const api = await adminClient(server());
    const enabled = async () => sample(await scrape(), 'opsdeck_schedules_enabled');
    const start = await enabled();
    expect(start).toBeTypeOf('number');
    const t = await server().app.inject({
      method: 'POST',
      url: '/api/v1/jobs/templates',
      headers: api.headers,
      payload: { name: `echo ${dialect}`, type: 'local_command', params: { command: 'echo', args: ['x'] } },
    });
    expect(t.statusCode, t.body).toBe(201);
    const s = await server().app.inject({
      method: 'POST',
      url: '/api/v1/schedules',
      headers: api.headers,
      payload: { name: `hourly ${dialect}`, template_id: t.json().id, kind: 'interval', interval_seconds: 3600 },
    });
    expect(s.statusCode, s.body).toBe(201);
    expect(await enabled()).toBe(start! + 1);
    const off = await server().app.inject({ method: 'PATCH', url: `/api/v1/schedules/${s.json().id}`, headers: api.headers, payload: { enabled: false } });
    expect(off.statusCode, off.body).toBe(200);
    expect(await enabled()).toBe(start);
  });

  it('counts cache hits and misses per namespace, every lookup once (identity looks principals up through the cache)', async () => {
    const api = await adminClient(server());
    for (let i = 0; i < 3; i++) expect((await server().app.inject({ method: 'GET', url: '/api/v1/jobs/runs', headers: api.headers })).statusCode).toBe(200);
    const body = await scrape();
    const sum = (re: RegExp) => [...body.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
    const identity =
      (sample(body, 'opsdeck_cache_hits_total{namespace="identity"}') ?? 0) + (sample(body, 'opsdeck_cache_misses_total{namespace="identity"}') ?? 0);
    expect(identity).toBeGreaterThan(0);
    expect(sum(/^opsdeck_cache_hits_total\{namespace="[a-z][a-z0-9_-]*"\} (\d+)$/gm)).toBe(sum(/^opsdeck_cache_requests_total\{result="l[12]_hit"\} (\d+)$/gm));
    expect(sum(/^opsdeck_cache_misses_total\{namespace="[a-z][a-z0-9_-]*"\} (\d+)$/gm)).toBe(sum(/^opsdeck_cache_requests_total\{result="miss"\} (\d+)$/gm));
  });
});

describe('cacheNamespace', () => {
  it('is the key up to its first colon, or "other" for keys that do not name one', () => {
    expect(cacheNamespace('identity:principal:123')).toBe('identity');
    expect(cacheNamespace('parsers:libraries')).toBe('parsers');
    expect(cacheNamespace('no-colon')).toBe('other');
    expect(cacheNamespace(':leading')).toBe('other');
    expect(cacheNamespace(`${'x'.repeat(40)}:long`)).toBe('other');
    expect(cacheNamespace('Upper:x')).toBe('other');
  });
});
