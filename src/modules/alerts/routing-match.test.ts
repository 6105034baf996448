import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { startReceiver } from '../../../test/helpers/notification-peers.js';
import { useTestServer } from '../../../test/helpers/server.js';

// Routing rules matching on inventory device, location (with its ancestors) and team, through the HTTP API.
describe.each(DIALECTS)('routing on device, location and team on %s', (dialect) => {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx.close();
  });
  const server = useTestServer(dialect, {
    resolve: async (host) => {
      if (host === 'hooks.test') return ['127.0.0.1'];
      throw Object.assign(new Error(`unknown host ${host}`), { code: 'ENOTFOUND' });
    },
    env: { OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32', OPSDECK_EVENTS_POLL_MS: '100' },
  });
  const call = async (method: 'GET' | 'POST', url: string, token: string, payload?: object) => {
    const res = await server().app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const created = async (url: string, token: string, payload: object) => {
    const r = await call('POST', url, token, payload);
    if (r.status !== 201) throw new Error(`${url}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  };

  it('routes by device id or name, by location through its ancestry, and by team label; refuses unknown ids', async () => {
    const admin = await adminToken(server());
    const u = `${dialect}-${Date.now()}`;
    const parent = await created('/api/v1/locations', admin, { name: `region-${u}`, location_type: 'region' });
    const child = await created('/api/v1/locations', admin, { name: `site-${u}`, location_type: 'site', parent });
    const other = await created('/api/v1/locations', admin, { name: `elsewhere-${u}`, location_type: 'site' });
    const device = await created('/api/v1/devices', admin, { name: `r1-${u}`, status: 'active', location: child });
    const team = await created('/api/v1/teams', admin, { name: `noc-${u}` });
    const source = `inv-${u}`;
    // One channel per rule (a channel is named once per change), so every matching rule shows in the rows.
    const byRule = new Map<string, string>();
    const rule = async (name: string, match: object) => {
      const channel = await created('/api/v1/notifications/channels', admin, {
        name: `ch-${name}-${u}`,
        type: 'webhook',
        settings: { url: `${rx.base}/${name}` },
      });
      const id = await created('/api/v1/notifications/rules', admin, { name: `${name}-${u}`, match: { sources: [source], ...match }, channel_ids: [channel] });
      byRule.set(id, name);
      return { id, channel };
    };
    await rule('parent', { location_ids: [parent] });
    await rule('device', { device_ids: [device] });
    const byTeam = await rule('team', { team_ids: [team] });
    await rule('elsewhere', { location_ids: [other] });

    const names = async (labels: Record<string, string>, title: string) => {
      const a = await call('POST', '/api/v1/alerts', admin, { source, title, severity: 'major', labels });
      expect(a.status).toBe(201);
      const id = (a.body.alert as { id: string }).id;
      const items = (await call('GET', `/api/v1/notifications/deliveries?alert_id=${id}&limit=100`, admin)).body.items as { rule_id: string }[];
      return items.map((n) => byRule.get(n.rule_id)).sort();
    };
    expect(await names({ device_id: device }, 'by device id')).toEqual(['device', 'parent']);
    expect(await names({ device: `r1-${u}` }, 'by device name')).toEqual(['device', 'parent']);
    expect(await names({ device: `r1-${u}`, team_id: team }, 'with team')).toEqual(['device', 'parent', 'team']);
    expect(await names({ team_id: team }, 'team only')).toEqual(['team']);
    expect(await names({ device: 'no-such-device', device_id: 'not-a-uuid' }, 'unknown device')).toEqual([]);

    const bad = await call('POST', '/api/v1/notifications/rules', admin, {
      name: `bad-${u}`,
      match: { device_ids: [device, other], location_ids: [device], team_ids: [parent] },
      channel_ids: [byTeam.channel],
    });
    expect(bad.status).toBe(422);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'body.match.device_ids.1',
      'body.match.location_ids.0',
      'body.match.team_ids.0',
    ]);
    const patched = await server().app.inject({
      method: 'PATCH',
      url: `/api/v1/notifications/rules/${byTeam.id}`,
      headers: bearer(admin),
      payload: { match: { team_ids: [device] } },
    });
    expect(patched.statusCode).toBe(422);
    expect(patched.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['body.match.team_ids.0']);
  });
});
