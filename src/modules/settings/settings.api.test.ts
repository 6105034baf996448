import net from 'node:net';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { useTestServer } from '../../../test/helpers/server.js';

/** A loopback TCP server that answers every connection with `greeting`. */
function greeter(greeting: string): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.end(greeting);
  });
  const close = async () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, connections: () => accepted, close })),
  );
}

describe.each(DIALECTS)('settings API on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_LOCKOUT_THRESHOLD: '7' } });
  let token = '';
  beforeAll(async () => {
    token = await adminToken(server());
  });
  const inject = (method: 'GET' | 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = bearer(token)) =>
    server().app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  it('resolves each key database → environment → default and says which (?explain=true)', async () => {
    const before = (await inject('GET', '/api/v1/settings/security?explain=true')).json();
    expect(before.explain.password_min_length).toEqual({ value: 12, source: 'default', env: 'OPSDECK_PASSWORD_MIN_LENGTH' });
    expect(before.explain.lockout_threshold).toEqual({ value: 7, source: 'environment', env: 'OPSDECK_LOCKOUT_THRESHOLD' });

    const changed = await inject('PATCH', '/api/v1/settings/security', { lockout_threshold: 3, version: before.version });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ version: before.version + 1, updated_by: 'admin', values: { lockout_threshold: 3 } });
    expect((await inject('GET', '/api/v1/settings/security?explain=true')).json().explain.lockout_threshold).toMatchObject({ value: 3, source: 'database' });

    const reset = await inject('DELETE', '/api/v1/settings/security/lockout_threshold');
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json().values.lockout_threshold).toBe(7);
    expect((await inject('GET', '/api/v1/settings/security?explain=true')).json().explain.lockout_threshold.source).toBe('environment');
    expect((await inject('GET', '/api/v1/settings/general')).json()).not.toHaveProperty('explain');
  });

  it('applies a security change at once: the password policy of the next request', async () => {
    const user = (password: string) => ({
      username: `p-${Math.random().toString(36).slice(2, 8)}`,
      email: `p${Math.random().toString(36).slice(2, 8)}@example.com`,
      password,
      roles: ['viewer'],
    });
    expect((await inject('POST', '/api/v1/users', user('Vq7!-thirteen'))).statusCode).toBe(201);
    expect((await inject('PATCH', '/api/v1/settings/security', { password_min_length: 20 })).statusCode).toBe(200);
    const refused = await inject('POST', '/api/v1/users', user('Vq7!-thirteen'));
    expect(refused.statusCode).toBe(422);
    expect((await inject('PATCH', '/api/v1/settings/security', { password_min_length: null })).statusCode).toBe(200);
    expect((await inject('POST', '/api/v1/users', user('Vq7!-thirteen'))).statusCode).toBe(201);
  });

  it('refuses a change based on an old version (body or If-Match) with 409', async () => {
    const v = (await inject('GET', '/api/v1/settings/general')).json().version as number;
    expect((await inject('PATCH', '/api/v1/settings/general', { instance_name: 'Lab', version: v })).statusCode).toBe(200);
    const stale = await inject('PATCH', '/api/v1/settings/general', { instance_name: 'Prod', version: v });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('SETTINGS_VERSION_CONFLICT');
    expect((await inject('PATCH', '/api/v1/settings/general', { instance_name: 'Prod' }, { ...bearer(token), 'if-match': `"${v}"` })).statusCode).toBe(409);
    expect((await inject('GET', '/api/v1/settings/general')).json().values.instance_name).toBe('Lab');
  });

  it('names the failing key: schema errors and rules the schema cannot say', async () => {
    const bad = await inject('PATCH', '/api/v1/settings/egress', { allow: ['not a host!'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([{ path: 'body.allow', message: expect.stringContaining('not a host!') }]);
    const typed = await inject('PATCH', '/api/v1/settings/security', { password_min_length: 3 });
    expect(typed.statusCode).toBe(400);
    expect(typed.json().errors[0].path).toBe('body.password_min_length');
    expect((await inject('PATCH', '/api/v1/settings/general', { nope: 1 })).statusCode).toBe(400);
  });

  it('lets viewers read and only settings:write change, audited with before and after', async () => {
    const viewer = await loginAs(server(), 'viewer', token);
    expect((await inject('GET', '/api/v1/settings', undefined, bearer(viewer.token))).json().items.map((s: { section: string }) => s.section)).toContain(
      'security',
    );
    expect((await inject('PATCH', '/api/v1/settings/general', { instance_name: 'x' }, bearer(viewer.token))).statusCode).toBe(403);
    const operator = await loginAs(server(), 'operator', token);
    expect((await inject('DELETE', '/api/v1/settings/general/instance_name', undefined, bearer(operator.token))).statusCode).toBe(403);

    expect((await inject('PATCH', '/api/v1/settings/cache', { refresh_interval_seconds: 60 })).statusCode).toBe(200);
    const audit = (await inject('GET', '/api/v1/audit?action=settings.updated&resource_id=cache')).json();
    expect(audit.items[0]).toMatchObject({ resource_type: 'setting_section', outcome: 'success' });
    expect(audit.items[0].changes.diff).toEqual(['refresh_interval_seconds: 300 → 60 (database)']);
  });

  it('keeps secrets write-only: sealed in the row, never answered, masked in explain and audit', async () => {
    const secret = 'smtp-Secret-Value-4711';
    const res = await inject('PATCH', '/api/v1/settings/notifications', { smtp_host: '127.0.0.1', smtp_password: secret });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().secrets).toEqual({ smtp_password: { set: true } });
    const explained = await inject('GET', '/api/v1/settings/notifications?explain=true');
    expect(explained.json().explain.smtp_password).toMatchObject({ value: '********', source: 'database' });
    expect(explained.body).not.toContain(secret);
    const row = await sql<{ value: unknown }>`select value from settings where key = 'notifications'`.execute(server().modules.database.db);
    expect(JSON.stringify(row.rows[0]!.value)).not.toContain(secret);
    expect(server().modules.settingsStore.current('notifications').smtp_password).toBe(secret);
    expect((await inject('GET', '/api/v1/audit?resource_id=notifications')).body).not.toContain(secret);
    expect(server().logs.text()).not.toContain(secret);
  });

  it('tests an SMTP server before saving: greeting read, a non-SMTP answer refused, nothing stored', async () => {
    const good = await greeter('220 mail.test ESMTP ready\r\n');
    const bad = await greeter('SSH-2.0-OpenSSH_9.6\r\n');
    try {
      const before = (await inject('GET', '/api/v1/settings/notifications')).json().version;
      // The SMTP server is an outbound target: the egress policy refuses loopback until it is allowed.
      const refused = await inject('POST', '/api/v1/settings/notifications/test', { smtp_host: '127.0.0.1', smtp_port: good.port });
      expect(refused.json()).toMatchObject({ ok: false, message: expect.stringMatching(/loopback/) });
      expect(good.connections()).toBe(0);
      expect((await inject('PATCH', '/api/v1/settings/egress', { allow_internal: ['127.0.0.1/32'] })).statusCode).toBe(200);
      const ok = await inject('POST', '/api/v1/settings/notifications/test', { smtp_host: '127.0.0.1', smtp_port: good.port });
      expect(ok.json()).toMatchObject({ ok: true, message: expect.stringContaining('220 mail.test') });
      const no = await inject('POST', '/api/v1/settings/notifications/test', { smtp_host: '127.0.0.1', smtp_port: bad.port });
      expect(no.json()).toMatchObject({ ok: false, latency_ms: null, message: expect.stringContaining('not an SMTP server') });
      expect((await inject('GET', '/api/v1/settings/notifications')).json().version).toBe(before);
    } finally {
      await inject('DELETE', '/api/v1/settings/egress/allow_internal');
      await good.close();
      await bad.close();
    }
  });

  it('tests an egress policy before saving, and applies a saved one to the live policy', async () => {
    const target = 'http://127.0.0.1:9/';
    expect((await inject('POST', '/api/v1/settings/egress/test', { url: target })).json().ok).toBe(false);
    expect((await inject('POST', '/api/v1/settings/egress/test', { url: target, allow_internal: ['127.0.0.1/32'] })).json().ok).toBe(true);
    expect(server().modules.egress.checkLiteral(new URL(target))).toMatch(/loopback/);
    expect((await inject('PATCH', '/api/v1/settings/egress', { allow_internal: ['127.0.0.1/32'] })).statusCode).toBe(200);
    expect(server().modules.egress.checkLiteral(new URL(target))).toBeNull();
    expect((await inject('DELETE', '/api/v1/settings/egress/allow_internal')).statusCode).toBe(200);
    expect(server().modules.egress.checkLiteral(new URL(target))).toMatch(/loopback/);
  });

  it('writes one line per request at the configured level, and none when off (the default)', async () => {
    const lines = () => server().logs.lines.filter((l) => l.includes('"msg":"request"') && l.includes('/api/v1/settings/files'));
    await inject('GET', '/api/v1/settings/files');
    expect(lines()).toEqual([]);
    expect((await inject('PATCH', '/api/v1/settings/general', { request_log: 'info' })).statusCode).toBe(200);
    await inject('GET', '/api/v1/settings/files');
    expect(lines()).toHaveLength(1);
    expect(JSON.parse(lines()[0]!)).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/api/v1/settings/files',
      status: 200,
      request_id: expect.any(String),
      principal: expect.stringMatching(/^user:/),
    });
    expect((await inject('PATCH', '/api/v1/settings/general', { request_log: null })).statusCode).toBe(200);
    await inject('GET', '/api/v1/settings/files');
    expect(lines()).toHaveLength(1);
  });
});
