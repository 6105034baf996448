import { describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';

interface AlertBody {
  id: string;
  state: string;
  count: number;
  severity: string;
  labels: Record<string, string>;
  notes: { text: string }[];
  last_seen_at: string;
  first_seen_at: string;
}

describe.each(DIALECTS)('/api/v1/alerts on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_EVENTS_POLL_MS: '100' } });
  const call = async (method: string, url: string, token: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await server().app.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer(token), ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : {} };
  };

  it('deduplicates repeats of an open alert, then opens a new one after it is resolved', async () => {
    const admin = await adminToken(server());
    const first = await call('POST', '/api/v1/alerts', admin, {
      source: 'test',
      title: 'disk full',
      severity: 'major',
      labels: { host: 'db1' },
      dedup_key: 'disk:db1',
    });
    expect(first.status).toBe(201);
    expect(first.body.outcome).toBe('created');
    const id = (first.body.alert as AlertBody).id;
    const again = await call('POST', '/api/v1/alerts', admin, { source: 'test', title: 'disk full (95%)', severity: 'critical', dedup_key: 'disk:db1' });
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('deduplicated');
    const repeated = again.body.alert as AlertBody & { title: string };
    expect(repeated).toMatchObject({ id, count: 2, severity: 'critical', title: 'disk full (95%)', state: 'open' });
    expect(repeated.last_seen_at >= repeated.first_seen_at).toBe(true);

    const ack = await call('POST', `/api/v1/alerts/${id}/acknowledge`, admin, { note: 'looking' });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledged_by: 'user:admin' });
    expect((ack.body.notes as { text: string }[]).map((n) => n.text)).toEqual(['looking']);
    expect((await call('POST', `/api/v1/alerts/${id}/acknowledge`, admin, {})).status).toBe(409);
    expect((await call('POST', `/api/v1/alerts/${id}/resolve`, admin, {})).body).toMatchObject({ state: 'resolved' });
    expect((await call('POST', `/api/v1/alerts/${id}/resolve`, admin, {})).status).toBe(409);

    const reopened = await call('POST', '/api/v1/alerts', admin, { source: 'test', title: 'disk full', severity: 'major', dedup_key: 'disk:db1' });
    expect(reopened.body.outcome).toBe('created');
    expect((reopened.body.alert as AlertBody).id).not.toBe(id);
  });

  it('filters by state, severity and labels, pages with a cursor, and assigns and annotates', async () => {
    const admin = await adminToken(server());
    for (let i = 0; i < 5; i++) {
      await call('POST', '/api/v1/alerts', admin, {
        source: 'filters',
        title: `link ${i} down`,
        severity: i % 2 ? 'minor' : 'warning',
        labels: { site: i < 3 ? 'par' : 'lon' },
      });
    }
    const minor = await call('GET', '/api/v1/alerts?source=filters&severity=minor', admin);
    expect((minor.body.items as AlertBody[]).map((a) => a.severity)).toEqual(['minor', 'minor']);
    const par = await call('GET', '/api/v1/alerts?source=filters&label=site%3Dpar', admin);
    expect((par.body.items as AlertBody[]).every((a) => a.labels.site === 'par')).toBe(true);
    expect(par.body.items).toHaveLength(3);
    const page1 = await call('GET', '/api/v1/alerts?source=filters&limit=2&sort=title', admin);
    const page2 = await call('GET', `/api/v1/alerts?source=filters&limit=2&sort=title&cursor=${page1.body.next_cursor as string}`, admin);
    expect([...(page1.body.items as { title: string }[]), ...(page2.body.items as { title: string }[])].map((a) => a.title)).toEqual([
      'link 0 down',
      'link 1 down',
      'link 2 down',
      'link 3 down',
    ]);
    expect((await call('GET', '/api/v1/alerts?label=nokey', admin)).status).toBe(422);

    const target = (par.body.items as AlertBody[])[0]!;
    const me = (await call('GET', '/api/v1/auth/me', admin)).body as { id?: string; user?: { id: string } };
    const userId = me.id ?? me.user?.id ?? '00000000-0000-7000-8000-000000000001';
    const patched = await call('PATCH', `/api/v1/alerts/${target.id}`, admin, { assignee_id: userId, note: 'ticket OPS-1' });
    expect(patched.body).toMatchObject({ assignee_id: userId });
    expect((patched.body.notes as { text: string }[]).map((n) => n.text)).toEqual(['ticket OPS-1']);
    expect((await call('GET', `/api/v1/alerts?assignee_id=${userId}`, admin)).body.items).toHaveLength(1);
  });

  it('lets a viewer read alerts but not change them', async () => {
    const admin = await adminToken(server());
    const viewer = await loginAs(server(), 'viewer', admin);
    const created = await call('POST', '/api/v1/alerts', admin, { source: 'perm', title: 'x', severity: 'info' });
    const id = (created.body.alert as AlertBody).id;
    expect((await call('GET', `/api/v1/alerts/${id}`, viewer.token)).status).toBe(200);
    expect((await call('POST', `/api/v1/alerts/${id}/acknowledge`, viewer.token, {})).status).toBe(403);
    expect((await call('POST', '/api/v1/alerts', viewer.token, { source: 'perm', title: 'y', severity: 'info' })).status).toBe(403);
    expect((await call('GET', '/api/v1/notifications/channels', viewer.token)).status).toBe(200);
    expect(
      (await call('POST', '/api/v1/notifications/channels', viewer.token, { name: 'v', type: 'slack', secrets: { webhook_url: 'http://127.0.0.1:1/x' } }))
        .status,
    ).toBe(403);
  });

  it('ingests Alertmanager v4 payloads with a hashed token: firing opens (fingerprint dedups), resolved resolves', async () => {
    const admin = await adminToken(server());
    const created = await call('POST', '/api/v1/alert-ingest-tokens', admin, { name: 'prometheus', source: 'prometheus' });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect((await call('GET', '/api/v1/alert-ingest-tokens', admin)).body.items).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
    const firing = {
      version: '4',
      groupKey: '{}:{alertname="HostDown"}',
      status: 'firing',
      receiver: 'opsdeck',
      groupLabels: { alertname: 'HostDown' },
      commonLabels: { alertname: 'HostDown', severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'http://am:9093',
      truncatedAlerts: 0,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HostDown', instance: 'r1:9100', severity: 'critical' },
          annotations: { summary: 'r1 is down' },
          startsAt: '2026-12-07T10:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prom/graph',
          fingerprint: 'abc123',
        },
      ],
    };
    const noToken = await server().app.inject({ method: 'POST', url: '/api/v1/alerts/ingest/alertmanager', payload: firing });
    expect(noToken.statusCode).toBe(401);
    expect(
      (await server().app.inject({ method: 'POST', url: '/api/v1/alerts/ingest/alertmanager', headers: bearer('odin_wrong'), payload: firing })).statusCode,
    ).toBe(401);
    const send = (body: unknown) =>
      server().app.inject({ method: 'POST', url: '/api/v1/alerts/ingest/alertmanager', headers: bearer(token), payload: body as object });
    const r1 = await send(firing);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toMatchObject({ received: 1, outcomes: [{ outcome: 'created' }] });
    const alertId = (r1.json() as { outcomes: { alert_id: string }[] }).outcomes[0]!.alert_id;
    expect((await send(firing)).json()).toMatchObject({ outcomes: [{ outcome: 'deduplicated', alert_id: alertId }] });
    const alert = (await call('GET', `/api/v1/alerts/${alertId}`, admin)).body;
    expect(alert).toMatchObject({
      source: 'prometheus',
      title: 'r1 is down',
      severity: 'critical',
      count: 2,
      dedup_key: 'alertmanager:abc123',
      labels: { instance: 'r1:9100' },
    });
    const resolved = { ...firing, status: 'resolved', alerts: [{ ...firing.alerts[0]!, status: 'resolved' }] };
    expect((await send(resolved)).json()).toMatchObject({ outcomes: [{ outcome: 'resolved', alert_id: alertId }] });
    expect((await call('GET', `/api/v1/alerts/${alertId}`, admin)).body).toMatchObject({ state: 'resolved', resolved_by: 'token:prometheus' });
    expect((await send({ alerts: [{ status: 'firing' }] })).statusCode).toBe(400);

    const generic = await server().app.inject({
      method: 'POST',
      url: '/api/v1/alerts/ingest/generic',
      headers: bearer(token),
      payload: { title: 'backup late', severity: 'warning', dedup_key: 'backup' },
    });
    expect(generic.json()).toMatchObject({ outcome: 'created' });
    const tokens = (await call('GET', '/api/v1/alert-ingest-tokens', admin)).body.items as { id: string; last_used_at: string | null }[];
    expect(tokens[0]!.last_used_at).not.toBeNull();
    expect((await call('DELETE', `/api/v1/alert-ingest-tokens/${tokens[0]!.id}`, admin)).status).toBe(204);
    expect((await send(firing)).statusCode).toBe(401);
  });

  it('raises alerts from domain events (run failures, non-compliance) and resolves a template failure on its next success', async () => {
    const admin = await adminToken(server());
    const m = server().modules;
    const record = async (name: string, payload: unknown) => {
      await m.events.record(m.database.db, name, payload);
      await m.events.relay();
    };
    const templateId = '0190a0b0-0000-7000-8000-00000000abcd';
    await record('run.failed', { run_id: '0190a0b0-0000-7000-8000-000000000001', type: 'command', status: 'failed', template_id: templateId });
    await record('run.failed', { run_id: '0190a0b0-0000-7000-8000-000000000002', type: 'command', status: 'failed', template_id: templateId });
    await record('config.noncompliant', {
      device_id: 'd1',
      device: 'edge1',
      rule_id: 'r1',
      rule: 'ntp',
      severity: 'critical',
      commit: 'abc',
      missing_count: 1,
      extra_count: 0,
    });
    const find = async (q: string) => (await call('GET', `/api/v1/alerts?${q}`, admin)).body.items as AlertBody[];
    const until = Date.now() + 10_000;
    while ((await find('source=jobs')).length === 0 || (await find('source=configs')).length === 0) {
      if (Date.now() > until) throw new Error('no alert from the domain events');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await find('source=jobs')).toEqual([expect.objectContaining({ count: 2, severity: 'major', state: 'open' })]);
    expect(await find('source=configs')).toEqual([
      expect.objectContaining({ severity: 'critical', labels: expect.objectContaining({ device: 'edge1', rule: 'ntp' }) }),
    ]);
    await record('run.succeeded', { run_id: '0190a0b0-0000-7000-8000-000000000003', type: 'command', status: 'succeeded', template_id: templateId });
    const until2 = Date.now() + 10_000;
    while ((await find('source=jobs'))[0]!.state !== 'resolved') {
      if (Date.now() > until2) throw new Error('the success did not resolve the alert');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Alert changes are on the event stream for readers with alerts:read.
    const names = async () =>
      ((await call('GET', '/api/v1/events/history?events=alert.*&limit=1000', admin)).body.items as { name: string }[]).map((e) => e.name);
    const until3 = Date.now() + 10_000;
    while (!(await names()).includes('alert.resolved') && Date.now() < until3) await new Promise((r) => setTimeout(r, 50));
    expect(await names()).toEqual(expect.arrayContaining(['alert.opened', 'alert.repeated', 'alert.resolved']));
  });

  it('answers bad input with 4xx naming the field and changes nothing', async () => {
    const admin = await adminToken(server());
    const bad = await call('POST', '/api/v1/alerts', admin, { source: 'x', title: 'y', severity: 'apocalyptic' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('severity');
    expect((await call('GET', '/api/v1/alerts/0190a0b0-0000-7000-8000-0000000000ff', admin)).status).toBe(404);
    expect((await call('GET', '/api/v1/alerts?sort=nope', admin)).status).toBe(400);
    expect((await call('GET', '/api/v1/alerts?cursor=garbage', admin)).status).toBe(400);
  });
});
