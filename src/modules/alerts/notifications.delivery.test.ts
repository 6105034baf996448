import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { startReceiver, startSmtp } from '../../../test/helpers/notification-peers.js';
import { useDeliveryServer } from '../../../test/helpers/delivery-server.js';
import { verifySignature } from '../events/index.js';
import { newId } from '../../platform/ids.js';
import { createNotificationsRepository } from './notifications.repository.js';

const HMAC = `hmac-${randomBytes(12).toString('hex')}`;
const AUTH = `Bearer tok-${randomBytes(12).toString('hex')}`;
const ROUTING_KEY = `rk-${randomBytes(8).toString('hex')}`;

describe.each(DIALECTS)('notification delivery on %s', (dialect) => {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => {
    rx = await startReceiver();
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await rx.close();
    await smtp.close();
  });
  const { server, call } = useDeliveryServer(dialect, ['hooks.test', 'mail.test']);
  const channel = async (token: string, body: Record<string, unknown>) => {
    const r = await call('POST', '/api/v1/notifications/channels', token, body);
    if (r.status !== 201) throw new Error(`channel: ${r.status} ${r.raw}`);
    return r.body.id as string;
  };
  const rule = async (token: string, body: Record<string, unknown>) => {
    const r = await call('POST', '/api/v1/notifications/rules', token, body);
    if (r.status !== 201) throw new Error(`rule: ${r.status} ${r.raw}`);
    return r.body.id as string;
  };
  const raise = async (token: string, source: string, extra: Record<string, unknown> = {}) => {
    const r = await call('POST', '/api/v1/alerts', token, { source, title: `${source} alert`, severity: 'critical', labels: { team: 'net' }, ...extra });
    return (r.body.alert as { id: string }).id;
  };
  const deliveries = async (token: string, q: string) =>
    (await call('GET', `/api/v1/notifications/deliveries?${q}`, token)).body.items as {
      id: string;
      status: string;
      kind: string;
      action: string;
      attempts: number;
    }[];
  const waitStatus = async (token: string, id: string, status: string) => {
    const until = Date.now() + 15_000;
    for (;;) {
      const d = await call('GET', `/api/v1/notifications/deliveries/${id}`, token);
      if (d.body.status === status) {
        return d.body as { status: string; log: { attempt: number; status_code: number | null; error: string | null }[]; last_error: string | null };
      }
      if (Date.now() > until) throw new Error(`delivery ${id} is ${String(d.body.status)}, not ${status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('signs webhook deliveries, retries a receiver that fails first, and logs every attempt with secrets masked', async () => {
    const admin = await adminToken(server());
    const path = `/wh-${dialect}`;
    const ch = await channel(admin, {
      name: `webhook-${dialect}`,
      type: 'webhook',
      settings: { url: `${rx.base}${path}`, headers: { 'X-Team': 'net' } },
      secrets: { hmac_secret: HMAC, authorization: AUTH },
      template: { body: '{"text": "{{ alert.title }} is {{ alert.state }}", "sev": "{{ alert.severity }}", "labels": {{ alert.labels | tojson }}}' },
    });
    // Secrets are write-only: the response says which are set, never their values.
    const got = await call('GET', `/api/v1/notifications/channels/${ch}`, admin);
    expect(got.body.secrets).toEqual({ hmac_secret: { set: true }, authorization: { set: true } });
    expect(got.raw).not.toContain(HMAC);
    expect(got.raw).not.toContain(AUTH);
    await rule(admin, { name: `wh-${dialect}`, match: { sources: ['wh'], severities: ['critical'], labels: { team: 'net' } }, channel_ids: [ch] });
    rx.fail(503, 503);
    const alertId = await raise(admin, 'wh');
    const hits = await rx.waitFor((r) => r.url === path, 3);
    const last = hits[2]!;
    expect(JSON.parse(last.body)).toEqual({ text: 'wh alert is open', sev: 'critical', labels: { team: 'net' } });
    expect(last.headers['x-team']).toBe('net');
    expect(last.headers.authorization).toBe(AUTH);
    expect(verifySignature(HMAC, last.body, String(last.headers['x-opsdeck-signature']), Math.floor(Date.now() / 1000))).toBe(true);
    const [n] = await deliveries(admin, `alert_id=${alertId}`);
    const done = await waitStatus(admin, n!.id, 'delivered');
    expect(done.log.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    expect(done.log[0]!.error).toContain('***');
    expect(JSON.stringify(done)).not.toContain(AUTH.slice(7));
    expect(server().logs.text()).not.toContain(AUTH.slice(7));
  });

  it('dead-letters after the last attempt, and a replay delivers it', async () => {
    const admin = await adminToken(server());
    const path = `/dead-${dialect}`;
    const ch = await channel(admin, { name: `dead-${dialect}`, type: 'webhook', settings: { url: `${rx.base}${path}` } });
    await rule(admin, { name: `dead-${dialect}`, match: { sources: ['dead'] }, channel_ids: [ch] });
    rx.fail(500, 500, 500);
    const alertId = await raise(admin, 'dead');
    const [n] = await deliveries(admin, `alert_id=${alertId}`);
    const dead = await waitStatus(admin, n!.id, 'dead');
    expect(dead.log).toHaveLength(3);
    expect((await deliveries(admin, 'status=dead')).map((d) => d.id)).toContain(n!.id);
    const replayed = await call('POST', `/api/v1/notifications/deliveries/${n!.id}/replay`, admin);
    expect(replayed.status).toBe(200);
    await waitStatus(admin, n!.id, 'delivered');
    expect((await call('POST', `/api/v1/notifications/deliveries/${n!.id}/replay`, admin)).status).toBe(409);
  });

  it('maps alert states to PagerDuty trigger/acknowledge/resolve and formats Slack and Teams messages', async () => {
    const admin = await adminToken(server());
    const pd = await channel(admin, {
      name: `pd-${dialect}`,
      type: 'pagerduty',
      settings: { events_url: `${rx.base}/pd-${dialect}` },
      secrets: { routing_key: ROUTING_KEY },
    });
    const slack = await channel(admin, { name: `slack-${dialect}`, type: 'slack', secrets: { webhook_url: `${rx.base}/slack-${dialect}/T000/B000/XXXX` } });
    const teams = await channel(admin, { name: `teams-${dialect}`, type: 'teams', secrets: { webhook_url: `${rx.base}/teams-${dialect}` } });
    await rule(admin, { name: `chat-${dialect}`, match: { sources: ['chat'] }, channel_ids: [pd, slack, teams] });
    const id = await raise(admin, 'chat', { description: 'BGP peer 10.0.0.1 down' });
    await call('POST', `/api/v1/alerts/${id}/acknowledge`, admin, {});
    await call('POST', `/api/v1/alerts/${id}/resolve`, admin, {});
    const pdHits = await rx.waitFor((r) => r.url === `/pd-${dialect}`, 3);
    const bodies = pdHits.map(
      (h) => JSON.parse(h.body) as { routing_key: string; event_action: string; dedup_key: string; payload?: { severity: string; summary: string } },
    );
    expect(bodies.map((b) => b.event_action).sort()).toEqual(['acknowledge', 'resolve', 'trigger']);
    expect(new Set(bodies.map((b) => b.dedup_key)).size).toBe(1);
    expect(bodies.every((b) => b.routing_key === ROUTING_KEY)).toBe(true);
    expect(bodies.find((b) => b.event_action === 'trigger')!.payload).toMatchObject({ severity: 'critical', summary: 'chat alert' });
    const [slackMsg] = await rx.waitFor(
      (r) => r.url.startsWith(`/slack-${dialect}`) && r.body.includes('[CRITICAL]') && !r.body.includes('[ACK]') && !r.body.includes('RESOLVED'),
    );
    expect(JSON.parse(slackMsg!.body)).toMatchObject({
      text: '[CRITICAL] chat alert',
      attachments: [{ text: expect.stringContaining('BGP peer 10.0.0.1 down') }],
    });
    const teamsMsgs = await rx.waitFor((r) => r.url === `/teams-${dialect}`, 3);
    expect(teamsMsgs.map((m) => (JSON.parse(m.body) as { '@type': string; title: string }).title)).toEqual(
      expect.arrayContaining(['[RESOLVED] [CRITICAL] chat alert']),
    );
  });

  it('sends e-mail through a real SMTP server with the password from the vault, and test-sends', async () => {
    const admin = await adminToken(server());
    const ch = await channel(admin, {
      name: `mail-${dialect}`,
      type: 'email',
      settings: { host: 'mail.test', port: smtp.port, tls: 'none', from: 'opsdeck@example.com', to: ['noc@example.com'], username: 'alerts' },
      secrets: { password: 'smtp-pass-123' },
    });
    const test = await call('POST', `/api/v1/notifications/channels/${ch}/test`, admin);
    expect(test.body).toMatchObject({ status: 'delivered', kind: 'test', attempts: 1 });
    expect(smtp.mails.at(-1)).toMatchObject({ from: 'opsdeck@example.com', to: ['noc@example.com'], user: 'alerts' });
    expect(smtp.mails.at(-1)!.data).toContain('Subject: [INFO] Test notification from Opsdeck');
    await call('PATCH', `/api/v1/notifications/channels/${ch}`, admin, { secrets: { password: 'wrong-password' } });
    const failed = await call('POST', `/api/v1/notifications/channels/${ch}/test`, admin);
    expect(failed.body.status).toBe('dead');
    expect(String(failed.body.last_error)).not.toContain('wrong-password');
  });

  it('redelivers a notification whose worker died mid-delivery once its lease runs out', async () => {
    const admin = await adminToken(server());
    const path = `/lease-${dialect}`;
    const ch = await channel(admin, { name: `lease-${dialect}`, type: 'webhook', settings: { url: `${rx.base}${path}` } });
    const alertId = await raise(admin, 'lease');
    const repo = createNotificationsRepository(server().modules.database.db);
    // What a worker that claimed the row and died leaves behind: running, its lease run out.
    const id = newId();
    const past = new Date(Date.now() - 1000).toISOString();
    await repo.enqueue([
      {
        id,
        alertId,
        channelId: ch,
        ruleId: null,
        kind: 'alert',
        action: 'trigger',
        payload: JSON.stringify({
          id: alertId,
          source: 'lease',
          title: 'lease alert',
          description: '',
          severity: 'critical',
          state: 'open',
          labels: {},
          count: 1,
          dedup_key: 'lease',
        }),
        status: 'running',
        attempts: 1,
        nextAttemptAt: past,
        lastStatusCode: null,
        lastError: null,
        deliveredAt: null,
        groupKey: null,
        createdAt: past,
        updatedAt: past,
      },
    ]);
    await server().modules.alerts.worker.drain();
    const done = await waitStatus(admin, id, 'delivered');
    expect(done.log.map((a) => a.attempt)).toEqual([2]);
    expect(rx.received.filter((r) => r.url === path)).toHaveLength(1);
  });

  it('escalates an alert nobody acknowledged, and drops the escalation of an acknowledged one', async () => {
    const admin = await adminToken(server());
    const first = await channel(admin, { name: `first-${dialect}`, type: 'webhook', settings: { url: `${rx.base}/first-${dialect}` } });
    const boss = await channel(admin, { name: `boss-${dialect}`, type: 'webhook', settings: { url: `${rx.base}/boss-${dialect}` } });
    await rule(admin, {
      name: `esc-${dialect}`,
      match: { sources: ['esc'] },
      channel_ids: [first],
      escalate_after_minutes: 15,
      escalation_channel_ids: [boss],
    });
    const ignored = await raise(admin, 'esc', { dedup_key: 'esc-1' });
    const handled = await raise(admin, 'esc', { dedup_key: 'esc-2' });
    await call('POST', `/api/v1/alerts/${handled}/acknowledge`, admin, {});
    const repo = createNotificationsRepository(server().modules.database.db);
    const escalation = async (alertId: string) => (await deliveries(admin, `alert_id=${alertId}`)).find((d) => d.kind === 'escalation')!;
    const e1 = (await repo.findNotification((await escalation(ignored)).id))!;
    const e2 = (await repo.findNotification((await escalation(handled)).id))!;
    // Not due for 15 minutes: the worker leaves them alone until then; run them as the worker would at that time.
    expect(e1.status).toBe('pending');
    expect(Date.parse(e1.nextAttemptAt!) - Date.parse(e1.createdAt)).toBe(15 * 60_000);
    await server().modules.alerts.worker.run(e1);
    await server().modules.alerts.worker.run(e2);
    expect((await repo.findNotification(e1.id))!.status).toBe('delivered');
    expect((await repo.findNotification(e2.id))!.status).toBe('cancelled');
    expect(rx.received.filter((r) => r.url === `/boss-${dialect}`)).toHaveLength(1);
  });

  it('refuses channel targets the egress policy denies and unknown secret fields, naming the field', async () => {
    const admin = await adminToken(server());
    const denied = await call('POST', '/api/v1/notifications/channels', admin, {
      name: 'meta',
      type: 'webhook',
      settings: { url: 'http://169.254.169.254/latest' },
    });
    expect(denied.status).toBe(422);
    expect(JSON.stringify(denied.body.errors)).toContain('body.settings.url');
    const wrongSecret = await call('POST', '/api/v1/notifications/channels', admin, {
      name: 'x',
      type: 'slack',
      secrets: { webhook_url: `${rx.base}/s`, routing_key: 'k' },
    });
    expect(wrongSecret.status).toBe(422);
    expect(JSON.stringify(wrongSecret.body.errors)).toContain('body.secrets.routing_key');
    const missing = await call('POST', '/api/v1/notifications/channels', admin, { name: 'y', type: 'pagerduty' });
    expect(JSON.stringify(missing.body.errors)).toContain('body.secrets.routing_key');
    const badRule = await call('POST', '/api/v1/notifications/rules', admin, {
      name: 'r',
      channel_ids: ['0190a0b0-0000-7000-8000-0000000000ff'],
      quiet_hours: { start: '22:00', end: '07:00', timezone: 'Mars/Olympus' },
    });
    expect(badRule.status).toBe(422);
    expect(JSON.stringify(badRule.body.errors)).toContain('body.channel_ids.0');
    expect(JSON.stringify(badRule.body.errors)).toContain('body.quiet_hours');
  });
});
