import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { createJobsScheduleRunner } from './index.js';

describe.each(DIALECTS)('/api/v1/schedules on %s', (dialect) => {
  // The scheduler loop is off here: these tests drive the API, scheduler.test.ts drives ticks.
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker' } });
  let auth: Record<string, string>;
  let templateId: string;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
    const res = await api('POST', '/jobs/templates', {
      name: 'loopback scan',
      type: 'tcp_port_scan',
      targets: ['127.0.0.1'],
      params: { ports: [1], timeout_ms: 200 },
    });
    expect(res.statusCode, res.body).toBe(201);
    templateId = res.json().id;
  });

  it('creates a cron schedule with defaults and serves it back', async () => {
    const res = await api('POST', '/schedules', {
      name: 'nightly backup',
      template_id: templateId,
      kind: 'cron',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
    });
    expect(res.statusCode, res.body).toBe(201);
    const s = res.json();
    expect(s).toMatchObject({
      name: 'nightly backup',
      kind: 'cron',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      enabled: true,
      overlap: 'skip',
      misfire: 'run_once',
      jitter_seconds: 0,
      overrides: {},
    });
    expect(Date.parse(s.next_fire_at)).toBeGreaterThan(Date.now());
    expect((await api('GET', `/schedules/${s.id}`)).json()).toEqual(s);
    const list = (await api('GET', '/schedules?kind=cron&q=nightly')).json();
    expect(list.items.map((x: { id: string }) => x.id)).toContain(s.id);
  });

  it('accepts interval (seconds or ISO 8601) and once schedules', async () => {
    const a = await api('POST', '/schedules', { name: 'hourly', template_id: templateId, kind: 'interval', interval_seconds: 3600 });
    expect(a.statusCode, a.body).toBe(201);
    expect(a.json()).toMatchObject({ interval_seconds: 3600, interval: 'PT1H' });
    const b = await api('POST', '/schedules', {
      name: 'quarter',
      template_id: templateId,
      kind: 'interval',
      interval: 'PT15M',
      anchor_at: '2026-01-01T00:05:00Z',
    });
    expect(b.statusCode, b.body).toBe(201);
    expect(b.json()).toMatchObject({ interval_seconds: 900, anchor_at: '2026-01-01T00:05:00.000Z' });
    expect(b.json().next_fire_at.slice(14)).toMatch(/^(05|20|35|50):00\.000Z$/);
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const c = await api('POST', '/schedules', { name: 'one-off', template_id: templateId, kind: 'once', at });
    expect(c.statusCode, c.body).toBe(201);
    expect(c.json().next_fire_at).toBe(at);
  });

  it.each([
    [{ kind: 'cron', cron: '61 * * * *' }, 422, 'body.cron', /invalid cron expression/],
    [{ kind: 'cron', cron: '* * * *' }, 422, 'body.cron', /expected 5 fields/],
    [{ kind: 'cron' }, 422, 'body.cron', /required/],
    [{ kind: 'cron', cron: '0 * * * *', timezone: 'Mars/Olympus' }, 422, 'body.timezone', /IANA/],
    [{ kind: 'interval', interval_seconds: 0 }, 400, 'body.interval_seconds', /.+/],
    [{ kind: 'interval', interval: 'P1M' }, 422, 'body.interval', /cron/],
    [{ kind: 'interval', interval_seconds: 60, cron: '* * * * *' }, 422, 'body.cron', /only applies to kind 'cron'/],
    [{ kind: 'once', at: '2020-01-01T00:00:00Z' }, 422, 'body.at', /past/],
    [{ kind: 'interval', interval_seconds: 60, jitter_seconds: 60 }, 422, 'body.jitter_seconds', /shorter/],
    [{ kind: 'interval', interval_seconds: 60, start_at: '2027-01-02T00:00:00Z', end_at: '2027-01-01T00:00:00Z' }, 422, 'body.end_at', /after/],
    [{ kind: 'weekly' }, 400, 'body.kind', /.+/],
    [{ kind: 'interval', interval_seconds: 60, overlap: 'sometimes' }, 400, 'body.overlap', /.+/],
    [{ kind: 'interval', interval_seconds: 60, surprise: 1 }, 400, 'body.surprise', /not an allowed field/],
  ])('refuses %j with %i naming %s, writing nothing', async (extra, status, path, message) => {
    const before = (await api('GET', '/schedules?limit=1000')).json().items.length;
    const res = await api('POST', '/schedules', { name: `bad-${Math.random()}`, template_id: templateId, ...extra });
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const err = res.json().errors.find((e: { path: string }) => e.path === path);
    expect(err, res.body).toBeDefined();
    expect(err.message).toMatch(message);
    expect((await api('GET', '/schedules?limit=1000')).json().items.length).toBe(before);
  });

  it('refuses an unknown template (422) and a duplicate name (409)', async () => {
    const missing = await api('POST', '/schedules', {
      name: 'orphan',
      template_id: '01900000-0000-7000-8000-000000000000',
      kind: 'interval',
      interval_seconds: 60,
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors[0].path).toBe('body.template_id');
    await api('POST', '/schedules', { name: 'twin', template_id: templateId, kind: 'interval', interval_seconds: 60 });
    const dup = await api('POST', '/schedules', { name: 'twin', template_id: templateId, kind: 'interval', interval_seconds: 60 });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('SCHEDULE_NAME_TAKEN');
  });

  it('PATCH changes only what it is given; switching kind clears the old kind’s fields', async () => {
    const s = (
      await api('POST', '/schedules', { name: 'patchable', template_id: templateId, kind: 'interval', interval_seconds: 600, overrides: { ports: [2] } })
    ).json();
    const renamed = await api('PATCH', `/schedules/${s.id}`, { name: 'patched' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'patched', interval_seconds: 600, overrides: { ports: [2] }, next_fire_at: s.next_fire_at });
    const toCron = await api('PATCH', `/schedules/${s.id}`, { kind: 'cron', cron: '0 6 * * 1-5', timezone: 'America/New_York' });
    expect(toCron.statusCode, toCron.body).toBe(200);
    expect(toCron.json()).toMatchObject({ kind: 'cron', cron: '0 6 * * 1-5', interval_seconds: null, anchor_at: null });
    const bad = await api('PATCH', `/schedules/${s.id}`, { cron: 'every day' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('body.cron');
    expect((await api('GET', `/schedules/${s.id}`)).json().cron).toBe('0 6 * * 1-5');
    expect((await api('PATCH', `/schedules/${s.id}`, {})).statusCode).toBe(400);
  });

  it('disable clears the next tick, enable restores it', async () => {
    const s = (await api('POST', '/schedules', { name: 'toggle', template_id: templateId, kind: 'interval', interval_seconds: 60 })).json();
    const off = await api('POST', `/schedules/${s.id}/disable`);
    expect(off.json()).toMatchObject({ enabled: false, next_fire_at: null });
    const on = await api('POST', `/schedules/${s.id}/enable`);
    expect(on.json().enabled).toBe(true);
    expect(on.json().next_fire_at).not.toBeNull();
  });

  it('previews the next fire times, DST-correct, bounded by count', async () => {
    const s = (
      await api('POST', '/schedules', {
        name: 'preview',
        template_id: templateId,
        kind: 'cron',
        cron: '30 2 * * *',
        timezone: 'Europe/Berlin',
        start_at: '2027-03-27T00:00:00Z',
      })
    ).json();
    const res = await api('GET', `/schedules/${s.id}/preview?count=3`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items.map((i: { local_time: string }) => i.local_time)).toEqual([
      '2027-03-27T02:30:00+01:00',
      '2027-03-28T03:30:00+02:00',
      '2027-03-29T02:30:00+02:00',
    ]);
    expect((await api('GET', `/schedules/${s.id}/preview`)).json().items).toHaveLength(10);
    expect((await api('GET', `/schedules/${s.id}/preview?count=1000`)).statusCode).toBe(400);
  });

  it('trigger runs the template now with trigger schedule and the schedule id; history shows the run and its outcome', async () => {
    const s = (
      await api('POST', '/schedules', {
        name: 'manual',
        template_id: templateId,
        kind: 'interval',
        interval_seconds: 86400,
        overrides: { ports: [1, 2], timeout_ms: 300 },
      })
    ).json();
    expect(s.overrides).toEqual({ ports: [1, 2], timeout_ms: 300 });
    const res = await api('POST', `/schedules/${s.id}/trigger`);
    expect(res.statusCode, res.body).toBe(202);
    const fire = res.json();
    expect(fire).toMatchObject({ schedule_id: s.id, trigger: 'manual', outcome: 'enqueued' });
    const run = (await api('GET', `/jobs/runs/${fire.run_id}`)).json();
    expect(run).toMatchObject({ template_id: templateId, trigger: { kind: 'schedule', id: s.id } });
    expect(run.params).toMatchObject({ ports: [1, 2], timeout_ms: 300 });
    expect((await api('GET', `/schedules/${s.id}`)).json().overrides).toEqual({ ports: [1, 2], timeout_ms: 300 });
    await expect.poll(async () => (await api('GET', `/schedules/${s.id}/runs`)).json().items[0].run_finished_at, { timeout: 20_000 }).not.toBeNull();
    const history = (await api('GET', `/schedules/${s.id}/runs`)).json();
    expect(history.items).toHaveLength(1);
    expect(history.items[0]).toMatchObject({ id: fire.id, run_id: fire.run_id });
    expect(['succeeded', 'failed', 'partially_failed']).toContain(history.items[0].run_status);
  });

  it('delete removes the schedule and its history', async () => {
    const s = (await api('POST', '/schedules', { name: 'doomed', template_id: templateId, kind: 'interval', interval_seconds: 60 })).json();
    expect((await api('DELETE', `/schedules/${s.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/schedules/${s.id}`)).statusCode).toBe(404);
    expect((await api('DELETE', `/schedules/${s.id}`)).statusCode).toBe(404);
    expect((await api('GET', `/schedules/${s.id}/runs`)).json().code).toBe('SCHEDULE_NOT_FOUND');
  });

  it('needs authentication, schedules:read to read and schedules:write to change', async () => {
    expect((await api('GET', '/schedules', undefined, {})).statusCode).toBe(401);
    const viewer = bearer((await loginAs(server(), 'viewer')).token);
    expect((await api('GET', '/schedules', undefined, viewer)).statusCode).toBe(200);
    const denied = await api('POST', '/schedules', { name: 'nope', template_id: templateId, kind: 'interval', interval_seconds: 60 }, viewer);
    expect(denied.statusCode).toBe(403);
    expect((await api('GET', '/schedules?limit=1000')).json().items.some((x: { name: string }) => x.name === 'nope')).toBe(false);
  });

  it('audits every change', async () => {
    const s = (await api('POST', '/schedules', { name: 'audited', template_id: templateId, kind: 'interval', interval_seconds: 60 })).json();
    await api('PATCH', `/schedules/${s.id}`, { jitter_seconds: 5 });
    await api('DELETE', `/schedules/${s.id}`);
    const audit = (await api('GET', `/audit?resource_id=${s.id}&sort=time`)).json();
    expect(audit.items.map((a: { action: string }) => a.action)).toEqual(['schedule.created', 'schedule.updated', 'schedule.deleted']);
  });
});

describe.each(DIALECTS)('the jobs adapter of the scheduler on %s', (dialect) => {
  // No worker role: runs stay queued, so "active" is deterministic.
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api' } });

  it('counts a schedule’s active runs, reads their statuses and checks templates', async () => {
    const auth = bearer(await adminToken(server()));
    const post = async (url: string, payload?: object) =>
      (await server().app.inject({ method: 'POST', url: `/api/v1${url}`, headers: auth, ...(payload ? { payload } : {}) })).json();
    const template = await post('/jobs/templates', { name: 'queued only', type: 'tcp_port_scan', targets: ['127.0.0.1'], params: { ports: [1] } });
    const a = await post('/schedules', { name: 'a', template_id: template.id, kind: 'interval', interval_seconds: 3600 });
    const b = await post('/schedules', { name: 'b', template_id: template.id, kind: 'interval', interval_seconds: 3600 });
    const runner = createJobsScheduleRunner(server().modules.jobs);
    const first = await post(`/schedules/${a.id}/trigger`);
    await post(`/schedules/${a.id}/trigger`);
    expect(await runner.activeRunsOfSchedule(a.id)).toBe(2);
    expect(await runner.activeRunsOfSchedule(b.id)).toBe(0);
    expect((await runner.runStatuses([first.run_id])).get(first.run_id)?.status).toBe('queued');
    expect(await runner.templateExists(SYSTEM_ACTOR, template.id)).toBe(true);
    expect(await runner.templateExists(SYSTEM_ACTOR, a.id)).toBe(false);
    // the same idempotency key never makes a second run
    const options = { overrides: {}, scheduleId: b.id, idempotencyKey: `schedule:${b.id}:2026-01-01T00:00:00.000Z` };
    const once = await runner.runTemplate(SYSTEM_ACTOR, template.id, options);
    expect(await runner.runTemplate(SYSTEM_ACTOR, template.id, options)).toEqual(once);
    expect(await runner.activeRunsOfSchedule(b.id)).toBe(1);
  });
});
