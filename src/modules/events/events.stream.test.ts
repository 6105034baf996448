import http from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { makeDevice, makeJobTemplate, type Caller } from '../../../test/factories/index.js';
import { isolatedRedisUrl } from '../../../test/helpers/events.js';
import { useTestServer } from '../../../test/helpers/server.js';

interface Ev {
  id: string;
  name: string;
  cursor: string;
  payload: { id?: string; name?: string };
}

/** A real SSE reader over a socket: collects events, resolves waits on them. */
function openSse(base: string, token: string, headers: Record<string, string> = {}, query = '') {
  const events: Ev[] = [];
  let buffer = '';
  let onChange = () => {};
  let req: http.ClientRequest;
  const opened = new Promise<void>((resolve, reject) => {
    req = http.get(`${base}/api/v1/events${query}`, { headers: { ...bearer(token), ...headers } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        if (buffer.includes(': stream start')) resolve();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          const id = block.split('\n').find((l) => l.startsWith('id: '));
          if (data) {
            const ev = JSON.parse(data.slice(6)) as Ev;
            expect(id?.slice(4)).toBe(ev.cursor);
            events.push(ev);
            onChange();
          }
        }
      });
    });
    req.on('error', reject);
  });
  return {
    events,
    opened,
    until(pred: (e: Ev) => boolean, ms = 15_000): Promise<Ev> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event; got ${events.map((e) => e.name).join(', ')}`)), ms);
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          }
        };
        onChange = check;
        check();
      });
    },
    close: () => req.destroy(),
  };
}

/** A WebSocket subscribed to a channel; collects `event` frames. */
async function openWs(base: string, token: string, channel: string, after?: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws`, { headers: bearer(token) });
  const frames: { type: string; event?: Ev; code?: string }[] = [];
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as (typeof frames)[number]));
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => (JSON.parse(d.toString('utf8')) as { type: string }).type === 'ready' && resolve());
    ws.on('error', reject);
  });
  ws.send(JSON.stringify({ type: 'subscribe', channel, ...(after ? { after } : {}) }));
  const waitFor = async (pred: (f: (typeof frames)[number]) => boolean, ms = 15_000) => {
    const until = Date.now() + ms;
    while (!frames.some(pred)) {
      if (Date.now() > until) throw new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return frames.find(pred)!;
  };
  await waitFor((f) => f.type === 'subscribed' || f.type === 'error');
  return { ws, frames, waitFor };
}

describe.each(DIALECTS)('live event stream on %s', (dialect) => {
  const server = useTestServer(dialect, {
    cluster: dialect === 'postgres',
    env: {
      OPSDECK_EVENTS_POLL_MS: '200',
      OPSDECK_JOBS_QUEUE: `evs-${randomBytes(4).toString('hex')}`,
      ...(dialect === 'postgres' ? { OPSDECK_REDIS_URL: isolatedRedisUrl(13) } : {}),
    },
  });
  let base: string;
  let admin: string;
  let jobsOnly: string;
  let viewer: string;

  const as = (): Caller => ({ server: server(), headers: bearer(admin) });
  const post = (url: string, payload: object) => server().app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(admin), payload });

  beforeAll(async () => {
    const address = await server().app.listen({ host: '127.0.0.1', port: 0 });
    base = address;
    admin = await adminToken(server());
    const role = await post('/roles', { name: 'events-jobs-only', permissions: ['events:read', 'jobs:read'] });
    expect(role.statusCode, role.body).toBe(201);
    jobsOnly = (await loginAs(server(), 'events-jobs-only', admin)).token;
    // The auditor reads everything, users included (a viewer does not see other users).
    viewer = (await loginAs(server(), 'auditor', admin)).token;
  });

  it('SSE: a reader without devices:read, schedules:read and users:read gets the job events but never a device, schedule or user event; Last-Event-ID resumes after the given event', async () => {
    const limited = openSse(base, jobsOnly);
    const full = openSse(base, viewer);
    await Promise.all([limited.opened, full.opened]);
    const device = await makeDevice(as());
    const template = await makeJobTemplate(as());

    const schedule = await post('/schedules', {
      name: `sse-sched-${randomBytes(3).toString('hex')}`,
      template_id: template.id,
      kind: 'interval',
      interval_seconds: 3600,
      enabled: false,
    });
    expect(schedule.statusCode, schedule.body).toBe(201);
    const uname = `sse-user-${randomBytes(3).toString('hex')}`;
    const user = await post('/users', {
      username: uname,
      email: `${uname}@example.com`,
      password: `Zq8!-${randomBytes(8).toString('hex')}-long`,
      roles: ['viewer'],
    });
    expect(user.statusCode, user.body).toBe(201);
    const marker = await makeJobTemplate(as());

    const seenByFull = await full.until((e) => e.name === 'job_template.created' && e.payload.id === template.id);
    const deviceEvent = full.events.find((e) => e.name === 'device.created' && e.payload.id === device.id);
    expect(deviceEvent).toBeDefined();
    await full.until((e) => e.name === 'schedule.created' && e.payload.id === schedule.json().id);
    await full.until((e) => e.name === 'user.created' && e.payload.id === user.json().id);
    await limited.until((e) => e.name === 'job_template.created' && e.payload.id === marker.id);
    expect(limited.events.some((e) => e.payload.id === template.id)).toBe(true);
    // Relay order: the device, schedule and user events came before the marker, so they would already be here had they been sent.
    expect(limited.events.filter((e) => ['device.', 'schedule.', 'user.'].some((p) => e.name.startsWith(p)))).toEqual([]);

    const resumed = openSse(base, viewer, { 'last-event-id': deviceEvent!.cursor });
    const first = await resumed.until(() => true);
    expect(first.id).not.toBe(deviceEvent!.id);
    await resumed.until((e) => e.id === seenByFull.id);
    expect(resumed.events.some((e) => e.id === deviceEvent!.id)).toBe(false);
    // `full` stays open: closing the server ends it (the next test file would otherwise hang in afterAll).
    for (const s of [limited, resumed]) s.close();
  });

  it('WebSocket `events` channel: filtered by the same permissions, resumable with after=<cursor>', async () => {
    const head = (await server().app.inject({ method: 'GET', url: '/api/v1/events/history?limit=1000', headers: bearer(admin) })).json() as { items: Ev[] };
    // The newest event's cursor, or the start of the outbox when it is empty.
    const after = head.items.at(-1)?.cursor ?? '0.00000000-0000-0000-0000-000000000000';
    const device = await makeDevice(as());
    const template = await makeJobTemplate(as());

    // Subscribing after the writes: the backlog from `after` carries them.
    const limited = await openWs(base, jobsOnly, 'events', after);
    const full = await openWs(base, viewer, 'events', after);
    await full.waitFor((f) => f.type === 'event' && f.event?.payload.id === template.id);
    expect(full.frames.some((f) => f.type === 'event' && f.event?.payload.id === device.id)).toBe(true);
    await limited.waitFor((f) => f.type === 'event' && f.event?.payload.id === template.id);
    expect(limited.frames.filter((f) => f.type === 'event' && f.event!.name.startsWith('device.'))).toEqual([]);

    // Live: a device change after subscribing reaches the viewer only.
    const later = await makeDevice(as());
    const marker = await makeJobTemplate(as());
    await full.waitFor((f) => f.type === 'event' && f.event?.payload.id === later.id);
    await limited.waitFor((f) => f.type === 'event' && f.event?.payload.id === marker.id);
    expect(limited.frames.filter((f) => f.type === 'event' && f.event!.name.startsWith('device.'))).toEqual([]);
    limited.ws.close();
    full.ws.close();
  });

  it('history lists what the reader may see; bad cursors and filters are 400s naming the field', async () => {
    await makeDevice(as());
    await makeJobTemplate(as());
    await server().modules.events.relay();
    const limitedHistory = await server().app.inject({ method: 'GET', url: '/api/v1/events/history?limit=1000', headers: bearer(jobsOnly) });
    expect(limitedHistory.statusCode).toBe(200);
    const names = (limitedHistory.json() as { items: Ev[] }).items.map((e) => e.name);
    expect(names).toContain('job_template.created');
    expect(names.filter((n) => n.startsWith('device.'))).toEqual([]);
    const filtered = (await server().app.inject({ method: 'GET', url: '/api/v1/events/history?events=device.*', headers: bearer(viewer) })).json() as {
      items: Ev[];
    };
    expect(filtered.items.length).toBeGreaterThan(0);
    expect(filtered.items.every((e) => e.name.startsWith('device.'))).toBe(true);

    const badCursor = await server().app.inject({ method: 'GET', url: '/api/v1/events/history?after=nope', headers: bearer(viewer) });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors[0].path).toBe('query.after');
    const badFilter = await server().app.inject({ method: 'GET', url: '/api/v1/events/history?events=DROP%20TABLE', headers: bearer(viewer) });
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json().errors[0].path).toBe('query.events');
    const badHeader = await server().app.inject({ method: 'GET', url: '/api/v1/events', headers: { ...bearer(viewer), 'last-event-id': 'x' } });
    expect(badHeader.statusCode).toBe(400);
    expect(badHeader.json().errors[0].path).toBe('headers.last-event-id');

    const nobody = await post('/roles', { name: 'no-events', permissions: ['jobs:read'] });
    expect(nobody.statusCode).toBe(201);
    const token = (await loginAs(server(), 'no-events', admin)).token;
    expect((await server().app.inject({ method: 'GET', url: '/api/v1/events/history', headers: bearer(token) })).statusCode).toBe(403);
  });
});
