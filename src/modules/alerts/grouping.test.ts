import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { startReceiver, type Received } from '../../../test/helpers/notification-peers.js';
import { useTestServer } from '../../../test/helpers/server.js';
import type { AlertsTables } from './alerts.tables.js';

interface Delivered {
  notification_id: string;
  subject: string;
  alert: { count: number; title: string; description: string; severity: string; labels: Record<string, string>; dedup_key: string };
}

describe.each(DIALECTS)('grouping windows on %s', (dialect) => {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx.close();
  });
  // The alerts module's clock: windows close when the test moves it, never by sleeping.
  let t = Date.now();
  const server = useTestServer(dialect, {
    clock: () => t,
    resolve: async (host) => {
      if (host === 'hooks.test') return ['127.0.0.1'];
      throw Object.assign(new Error(`unknown host ${host}`), { code: 'ENOTFOUND' });
    },
    env: { OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32', OPSDECK_EVENTS_POLL_MS: '100' },
  });
  // Signed in once before the clock moves: tokens are checked against real time.
  let admin = '';
  beforeAll(async () => {
    admin = await adminToken(server());
  });
  const call = async (method: 'GET' | 'POST', url: string, token: string, payload?: object) => {
    const res = await server().app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const setup = async (name: string, rule: Record<string, unknown>) => {
    const ch = await call('POST', '/api/v1/notifications/channels', admin, { name, type: 'webhook', settings: { url: `${rx.base}/${name}` } });
    expect(ch.status).toBe(201);
    const r = await call('POST', '/api/v1/notifications/rules', admin, { name, match: { sources: [name] }, channel_ids: [ch.body.id], ...rule });
    expect(r.status).toBe(201);
    return { channelId: ch.body.id as string, rule: r.body };
  };
  const raise = async (source: string, key: string, labels: Record<string, string>, severity = 'warning') => {
    const r = await call('POST', '/api/v1/alerts', admin, { source, title: `${key} down`, severity, labels, dedup_key: key });
    expect([200, 201]).toContain(r.status);
    return (r.body.alert as { id: string }).id;
  };
  const rows = async (channelId: string) =>
    (await call('GET', `/api/v1/notifications/deliveries?channel_id=${channelId}&limit=200`, admin)).body.items as {
      id: string;
      kind: string;
      status: string;
      alert_id: string | null;
    }[];
  const bodies = (path: string) => rx.received.filter((r: Received) => r.url === path).map((r) => JSON.parse(r.body) as Delivered);
  const members = async (ids: readonly string[]) =>
    ids.length === 0
      ? []
      : server()
          .modules.database.db.withTables<AlertsTables>()
          .selectFrom('notificationGroupMembers')
          .select(['notificationId', 'alertId'])
          .where('notificationId', 'in', [...ids])
          .execute();

  it('sends the alerts a rule opens within the window, per group_by value, as one notification when it closes', async () => {
    const name = `grp-${dialect}`;
    const { channelId, rule } = await setup(name, { group_window_seconds: 120, group_by: ['site'] });
    expect(rule).toMatchObject({ group_window_seconds: 120, group_by: ['site'] });
    const a1 = await raise(name, `${name}-r1`, { site: 'ams', role: 'core' });
    t += 30_000;
    const a2 = await raise(name, `${name}-r2`, { site: 'ams', role: 'core' }, 'critical');
    const a3 = await raise(name, `${name}-r3`, { site: 'ams', role: 'edge' });
    const b1 = await raise(name, `${name}-r4`, { site: 'fra' });
    // A repeat is not a new member: it neither joins nor notifies on its own.
    await raise(name, `${name}-r1`, { site: 'ams', role: 'core' });
    const pending = await rows(channelId);
    expect(pending.map((r) => [r.kind, r.status, r.alert_id])).toEqual([
      ['group', 'pending', null],
      ['group', 'pending', null],
    ]);
    const m = await members(pending.map((r) => r.id));
    expect(m.map((x) => x.alertId).sort()).toEqual([a1, a2, a3, b1].sort());
    await server().modules.alerts.worker.drain();
    expect(bodies(`/${name}`)).toHaveLength(0);
    // A window runs from its group's first member: the ams group closes 120 s after a1, the fra
    // group 120 s after b1.
    t += 91_000;
    await server().modules.alerts.worker.drain();
    const [amsSent] = await rx.waitFor((r) => r.url === `/${name}`, 1);
    expect((JSON.parse(amsSent!.body) as Delivered).alert.count).toBe(3);
    t += 30_000;
    await server().modules.alerts.worker.drain();
    await rx.waitFor((r) => r.url === `/${name}`, 2);
    const sent = bodies(`/${name}`);
    expect(sent).toHaveLength(2);
    const ams = sent.find((b) => b.alert.count === 3)!;
    expect(ams.alert.severity).toBe('critical');
    expect(ams.alert.labels).toEqual({ site: 'ams' });
    expect(ams.alert.title).toBe(`3 alerts: ${name}-r1 down; ${name}-r2 down; ${name}-r3 down`);
    expect(ams.alert.description.split('\n')).toEqual([
      `- [WARNING] ${name}-r1 down (open, seen 2×)`,
      `- [CRITICAL] ${name}-r2 down (open, seen 1×)`,
      `- [WARNING] ${name}-r3 down (open, seen 1×)`,
    ]);
    expect(ams.subject).toBe(`[CRITICAL] 3 alerts: ${name}-r1 down; ${name}-r2 down; ${name}-r3 down`);
    expect(sent.find((b) => b.alert.count === 1)!.alert.title).toBe(`${name}-r4 down`);
    expect((await rows(channelId)).every((r) => r.status === 'delivered')).toBe(true);
    // The closed group takes no more members: the next alert opens a new one.
    await raise(name, `${name}-r5`, { site: 'ams' });
    const after = (await rows(channelId)).filter((r) => r.status === 'pending');
    expect(after).toHaveLength(1);
    expect(after[0]!.kind).toBe('group');
  });

  it('loses no member and sends no group twice when alerts open while the worker claims', async () => {
    const name = `race-${dialect}`;
    const { channelId } = await setup(name, { group_window_seconds: 1, group_by: [] });
    const N = 40;
    const ids: string[] = [];
    const ingests = Promise.all(Array.from({ length: N }, (_, i) => raise(name, `${name}-${i}`, { n: String(i) }).then((id) => void ids.push(id))));
    // Meanwhile windows keep closing and the worker keeps claiming groups (the started worker,
    // woken by each commit, claims too).
    let done = false;
    void ingests.finally(() => (done = true));
    while (!done) {
      t += 1_500;
      await server().modules.alerts.worker.drain();
      // better-sqlite3 answers synchronously: a drain that finds nothing settles in microtasks alone,
      // so without a turn of the event loop the ingests (and every timer, vitest's timeout too) starve.
      await new Promise((r) => setImmediate(r));
    }
    await ingests;
    t += 5_000;
    await server().modules.alerts.worker.drain();
    const groups = (await rows(channelId)).filter((r) => r.kind === 'group');
    expect(groups.every((g) => g.status === 'delivered')).toBe(true);
    // Every alert is in exactly one group…
    const m = await members(groups.map((g) => g.id));
    expect(m.map((x) => x.alertId).sort()).toEqual([...ids].sort());
    // …and every group went out exactly once, listing all its members.
    await rx.waitFor((r) => r.url === `/${name}`, groups.length);
    const sent = bodies(`/${name}`);
    expect(sent.map((b) => b.notification_id).sort()).toEqual(groups.map((g) => g.id).sort());
    expect(sent.reduce((n, b) => n + b.alert.count, 0)).toBe(N);
  });

  it("counts a group membership as the alert's last notification for the repeat interval", async () => {
    const name = `rep-${dialect}`;
    const { channelId } = await setup(name, { group_window_seconds: 60, repeat_interval_seconds: 300 });
    await raise(name, `${name}-1`, {});
    await raise(name, `${name}-1`, {});
    expect((await rows(channelId)).map((r) => r.kind)).toEqual(['group']);
    t += 301_000;
    await raise(name, `${name}-1`, {});
    expect((await rows(channelId)).map((r) => r.kind).sort()).toEqual(['alert', 'group']);
  });

  it('refuses a bad group_by name, naming the field', async () => {
    const ch = await call('POST', '/api/v1/notifications/channels', admin, { name: `bad-${dialect}`, type: 'webhook', settings: { url: `${rx.base}/bad` } });
    const r = await call('POST', '/api/v1/notifications/rules', admin, {
      name: `bad-${dialect}`,
      channel_ids: [ch.body.id],
      group_window_seconds: 60,
      group_by: ['site name'],
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('group_by');
    const neg = await call('POST', '/api/v1/notifications/rules', admin, { name: `neg-${dialect}`, channel_ids: [ch.body.id], group_window_seconds: -1 });
    expect(neg.status).toBe(400);
    expect(JSON.stringify(neg.body)).toContain('group_window_seconds');
  });
});
