import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer, type TestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { forms, rawStorage } from '../../../test/helpers/raw-storage.js';

const sshKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const certKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfakeButPublicCertificateBody0123456789\n-----END CERTIFICATE-----';

/** Every plaintext secret this file sends; none may reach storage, a response or a log line. */
const S = {
  sshPassword: 'Ssh-Pa55-alpha-7781',
  sshPasswordNew: 'Ssh-Pa55-rotated-9902',
  enable: 'Enable-Secret-3391',
  community: 'Comm-Unity-5523',
  v3auth: 'V3-Auth-Key-6671',
  v3priv: 'V3-Priv-Key-1180',
  token: 'tok_live_Q9x8c7v6b5n4m3',
  basic: 'Basic-Pw-2208',
  winrm: 'WinRM-Pw-4417',
  secretValue: 'netbox-token-0c8f1e2d',
  secretValueNew: 'netbox-token-rotated-77aa',
  sshKeyBody: sshKey.split('\n')[1]!,
  certKeyBody: certKey.split('\n')[1]!,
};

const bodies = {
  ssh: { type: 'ssh', username: 'netops', password: S.sshPassword, enable_secret: S.enable },
  ssh_key: { type: 'ssh', username: 'netops', private_key: sshKey },
  snmp_v2c: { type: 'snmp_v2c', community: S.community },
  snmp_v3: {
    type: 'snmp_v3',
    username: 'v3user',
    security_level: 'authPriv',
    auth_protocol: 'sha256',
    auth_key: S.v3auth,
    priv_protocol: 'aes128',
    priv_key: S.v3priv,
  },
  api_token: { type: 'api_token', token: S.token, header_name: 'X-Auth-Token' },
  basic: { type: 'basic', username: 'svc', password: S.basic },
  certificate: { type: 'certificate', certificate: CERT, private_key: certKey },
  winrm: { type: 'winrm', username: 'Administrator', password: S.winrm, transport: 'ntlm' },
} as const;

describe.each(DIALECTS)('credential vault over HTTP on %s', (dialect) => {
  const server = useTestServer(dialect);
  let admin: Record<string, string>;
  let viewer: Record<string, string>;
  let operator: Record<string, string>;
  const ids: Record<string, string> = {};
  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: unknown) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const reveal = async (id: string, headers = admin) => (await inject('POST', `/credentials/${id}/reveal`, headers, { reason: 'test check' })).json().secrets;
  /** Creates one credential of every type, named `<prefix>-<type>` and tagged `<prefix>`; returns their ids. */
  const createAll = async (prefix: string): Promise<Record<keyof typeof bodies, string>> => {
    const created: Record<string, string> = {};
    for (const [name, body] of Object.entries(bodies)) {
      const res = await inject('POST', '/credentials', admin, { name: `${prefix}-${name}`, tags: [prefix], ...body });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ name: `${prefix}-${name}`, type: body.type, tags: [prefix], expired: false, created_by: 'admin', last_used_at: null });
      for (const secret of Object.values(S)) expect(res.body).not.toContain(secret);
      created[name] = res.json().id;
    }
    return created as Record<keyof typeof bodies, string>;
  };

  // Tests run in any order: `ids` (the `cred-*` set) is only read; a test that changes a credential creates its own.
  beforeAll(async () => {
    const s: Pick<TestServer, 'app'> = server();
    const token = await adminToken(s);
    admin = bearer(token);
    viewer = bearer((await loginAs(s, 'viewer', token)).token);
    operator = bearer((await loginAs(s, 'operator', token)).token);
    Object.assign(ids, await createAll('cred'));
  });

  // The file's log lines are complete only after every test ran.
  afterAll(() => {
    const logs = server().logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of Object.values(S)) for (const f of forms(secret)) expect(logs.includes(f), `log contains ${secret.slice(0, 4)}…`).toBe(false);
  });

  it('creates every type, answering metadata with { set } and never a value', async () => {
    const created = await createAll('new');
    const ssh = (await inject('GET', `/credentials/${created.ssh}`, viewer)).json();
    expect(ssh.secrets).toEqual({ password: { set: true }, private_key: { set: false }, passphrase: { set: false }, enable_secret: { set: true } });
    expect(ssh.username).toBe('netops');
    const v3 = (await inject('GET', `/credentials/${created.snmp_v3}`, viewer)).json();
    expect(v3).toMatchObject({
      security_level: 'authPriv',
      auth_protocol: 'sha256',
      priv_protocol: 'aes128',
      secrets: { auth_key: { set: true }, priv_key: { set: true } },
    });
    const list = await inject('GET', '/credentials?limit=1000&tag=new', viewer);
    expect(
      list
        .json()
        .items.map((c: { id: string }) => c.id)
        .sort(),
    ).toEqual(Object.values(created).sort());
    for (const secret of Object.values(S)) expect(list.body).not.toContain(secret);
  });

  it.each([
    [{ type: 'snmp_v2c', community: 'c0mm', username: 'x' }, 'body.username', /not a field of a snmp_v2c/],
    [{ type: 'ssh', username: 'u' }, 'body.password', /password or a private_key/],
    [{ type: 'ssh', username: 'u', private_key: 'not a key' }, 'body.private_key', /not a PEM/],
    [
      { type: 'snmp_v3', username: 'u', security_level: 'authPriv', auth_protocol: 'sha', auth_key: 'longenough1' },
      'body.priv_protocol',
      /required with security_level authPriv/,
    ],
    [{ type: 'snmp_v3', username: 'u', security_level: 'authNoPriv', auth_protocol: 'sha', auth_key: 'short' }, 'body.auth_key', /at least 8/],
    [{ type: 'basic', username: 'u', password: 'p', extra: 1 }, 'body.extra', /not an allowed field/],
    [{ type: 'telnet', username: 'u' }, 'body.type', /./],
    [{ type: 'basic', username: 'u', password: 'p', expires_at: 'tomorrow' }, 'body.expires_at', /./],
  ])('rejects bad input %# with a 400 naming the field and writes nothing', async (body, field, message) => {
    const before = (await inject('GET', '/credentials?limit=1000', admin)).json().items.length;
    const res = await inject('POST', '/credentials', admin, { name: 'bad-one', ...body });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    const errors: { path: string; message: string }[] = res.json().errors;
    expect(errors.find((e) => e.path === field)?.message ?? '', JSON.stringify(errors)).toMatch(message);
    expect((await inject('GET', '/credentials?limit=1000', admin)).json().items.length).toBe(before);
  });

  it('refuses a duplicate name (case-insensitive) with 409', async () => {
    const res = await inject('POST', '/credentials', admin, { name: 'CRED-SSH', ...bodies.basic });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'CREDENTIAL_NAME_TAKEN', errors: [{ path: 'body.name' }] });
  });

  it('lets only credentials:reveal holders reveal; viewer and operator get 403 and nothing leaks', async () => {
    for (const who of [viewer, operator]) {
      const res = await inject('POST', `/credentials/${ids.ssh}/reveal`, who, { reason: 'curious' });
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain(S.sshPassword);
    }
    const res = await inject('POST', `/credentials/${ids.ssh}/reveal`, admin, { reason: 'migrating the router' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      id: ids.ssh,
      name: 'cred-ssh',
      type: 'ssh',
      attributes: { username: 'netops' },
      secrets: { password: S.sshPassword, enable_secret: S.enable },
    });
    expect(await reveal(ids.ssh_key!)).toEqual({ private_key: sshKey });
  });

  it('requires a reason to reveal', async () => {
    const res = await inject('POST', `/credentials/${ids.ssh}/reveal`, admin, {});
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ path: 'body.reason', message: 'is required' }]);
  });

  it('audits every reveal with its reason, and records it in the access log', async () => {
    expect((await inject('POST', `/credentials/${ids.ssh}/reveal`, admin, { reason: 'migrating the router' })).statusCode).toBe(200);
    const audit = (await inject('GET', `/audit?action=credential.revealed&resource_id=${ids.ssh}&limit=100`, admin)).json().items;
    expect(audit.some((a: { outcome: string; changes: { purpose?: string } }) => a.outcome === 'success' && a.changes.purpose === 'migrating the router')).toBe(
      true,
    );
    const log = (await inject('GET', `/credentials/${ids.ssh}/access-log`, viewer)).json().items;
    expect(log[0]).toMatchObject({ action: 'reveal', actor_name: 'admin', purpose: expect.any(String), outcome: 'success', job_run_id: null });
  });

  it('asks a user with 2FA for a fresh code before revealing', async () => {
    const s = server();
    const other = await loginAs(s, 'admin', admin.authorization!.slice(7));
    const headers = bearer(other.token);
    const enrol = (await inject('POST', '/auth/2fa/enrol', headers)).json();
    const now = Date.now();
    const confirm = await inject('POST', '/auth/2fa/confirm', headers, { code: await generate({ secret: enrol.secret, epoch: Math.floor(now / 1000) }) });
    expect(confirm.statusCode, confirm.body).toBe(200);
    const missing = await inject('POST', `/credentials/${ids.basic}/reveal`, headers, { reason: 'with 2fa' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().code).toBe('STEP_UP_REQUIRED');
    const wrong = await inject('POST', `/credentials/${ids.basic}/reveal`, headers, { reason: 'with 2fa', totp: '000000' });
    expect(wrong.statusCode).toBe(403);
    for (const r of [missing, wrong]) expect(r.body).not.toContain(S.basic);
    // The confirm consumed this time step; the next one is within the accepted drift.
    const next = await generate({ secret: enrol.secret, epoch: Math.floor(now / 1000) + 30 });
    const ok = await inject('POST', `/credentials/${ids.basic}/reveal`, headers, { reason: 'with 2fa', totp: next });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().secrets).toEqual({ password: S.basic });
    const denied = (await inject('GET', `/credentials/${ids.basic}/access-log`, admin)).json().items.filter((e: { outcome: string }) => e.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(2);
  });

  it('updates metadata and secrets, leaving omitted secrets untouched and removing null ones', async () => {
    const { ssh } = await createAll('upd');
    const res = await inject('PATCH', `/credentials/${ssh}`, admin, { description: 'core routers', password: S.sshPasswordNew });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ description: 'core routers', secrets: { password: { set: true }, enable_secret: { set: true } }, updated_by: 'admin' });
    expect(await reveal(ssh)).toEqual({ password: S.sshPasswordNew, enable_secret: S.enable });
    const removed = await inject('PATCH', `/credentials/${ssh}`, admin, { enable_secret: null });
    expect(removed.json().secrets.enable_secret).toEqual({ set: false });
    expect(await reveal(ssh)).toEqual({ password: S.sshPasswordNew });
    const cannot = await inject('PATCH', `/credentials/${ssh}`, admin, { password: null });
    expect(cannot.statusCode).toBe(400);
    expect(cannot.json().errors[0]).toMatchObject({ path: 'body.password' });
    const type = await inject('PATCH', `/credentials/${ssh}`, admin, { type: 'basic' });
    expect(type.statusCode).toBe(400);
    expect(type.json().errors).toEqual([{ path: 'body.type', message: 'is not an allowed field' }]);
    expect(await reveal(ssh)).toEqual({ password: S.sshPasswordNew });
  });

  it('keeps viewers and operators from writing', async () => {
    for (const who of [viewer, operator]) {
      expect((await inject('POST', '/credentials', who, { name: 'nope', ...bodies.basic })).statusCode).toBe(403);
      expect((await inject('PATCH', `/credentials/${ids.basic}`, who, { description: 'x' })).statusCode).toBe(403);
      expect((await inject('DELETE', `/credentials/${ids.basic}`, who)).statusCode).toBe(403);
    }
  });

  it('resolves for executors only through resolve(), recording access and audit', async () => {
    const runId = '0190a0a0-0000-7000-8000-0000000000aa';
    const plain = await server().modules.credentials.resolve(ids.snmp_v3!, 'job:snmp_get', runId);
    expect(plain.secrets).toEqual({ auth_key: S.v3auth, priv_key: S.v3priv });
    const log = (await inject('GET', `/credentials/${ids.snmp_v3}/access-log`, viewer)).json().items;
    expect(log[0]).toMatchObject({ action: 'resolve', actor_kind: 'system', purpose: 'job:snmp_get', job_run_id: runId, outcome: 'success' });
    const audit = (await inject('GET', `/audit?action=credential.resolved&resource_id=${ids.snmp_v3}`, admin)).json().items;
    expect(audit).toHaveLength(1);
    const meta = (await inject('GET', `/credentials/${ids.snmp_v3}`, viewer)).json();
    expect(meta).toMatchObject({ last_used_by: 'system', last_used_at: expect.any(String) });
    const jobs = await server().modules.credentials.resolver.resolve(ids.snmp_v3!, 'job:snmp_get', runId);
    expect(jobs.snmpV3).toEqual({ user: 'v3user', level: 'authPriv', authProtocol: 'sha256', authKey: S.v3auth, privProtocol: 'aes', privKey: S.v3priv });
    expect(await server().modules.credentials.resolver.exists('not-a-uuid')).toBe(false);
  });

  it('filters by expiry with an ISO 8601 duration and validates it', async () => {
    const { basic, winrm } = await createAll('exp');
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const later = new Date(Date.now() + 60 * 86_400_000).toISOString();
    await inject('PATCH', `/credentials/${basic}`, admin, { expires_at: soon });
    await inject('PATCH', `/credentials/${winrm}`, admin, { expires_at: later });
    const within = (await inject('GET', '/credentials?expiring_within=P14D', viewer)).json().items.map((c: { id: string }) => c.id);
    expect(within).toEqual([basic]);
    const wider = (await inject('GET', '/credentials?expiring_within=P90D&sort=expires_at', viewer)).json().items.map((c: { id: string }) => c.id);
    expect(wider).toEqual([basic, winrm]);
    for (const bad of ['14 days', 'P-1D', 'PT0S', 'P99Y']) {
      const res = await inject('GET', `/credentials?expiring_within=${encodeURIComponent(bad)}`, viewer);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().errors[0].path).toBe('query.expiring_within');
    }
  });

  it('stores secrets (plain key/value) masked, and resolves them audited', async () => {
    const created = await inject('POST', '/secrets', admin, { key: 'NETBOX_TOKEN', value: S.secretValue, description: 'NetBox API' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ key: 'NETBOX_TOKEN', value: '********' });
    expect((await inject('POST', '/secrets', admin, { key: 'NETBOX_TOKEN', value: 'x' })).statusCode).toBe(409);
    expect((await inject('POST', '/secrets', admin, { key: 'bad key!', value: 'x' })).json().errors[0].path).toBe('body.key');
    expect((await inject('POST', '/secrets', viewer, { key: 'V', value: 'x' })).statusCode).toBe(403);
    const list = await inject('GET', '/secrets', viewer);
    expect(list.json().items).toContainEqual(expect.objectContaining({ key: 'NETBOX_TOKEN', value: '********' }));
    for (const item of list.json().items) expect(item.value).toBe('********');
    expect(list.body).not.toContain(S.secretValue);
    expect(await server().modules.credentials.resolveSecret('NETBOX_TOKEN', 'workflow:sync', null)).toBe(S.secretValue);
    await inject('PATCH', '/secrets/NETBOX_TOKEN', admin, { value: S.secretValueNew });
    expect(await server().modules.credentials.resolveSecret('NETBOX_TOKEN', 'workflow:sync', null)).toBe(S.secretValueNew);
    // Only this test resolves plain secrets.
    const audit = (await inject('GET', '/audit?action=secret.resolved', admin)).json().items;
    expect(audit).toHaveLength(2);
  });

  it('never writes a plaintext secret to the database', async () => {
    // Every value of S, written here: each type, a rotated password and a rotated plain secret.
    const { ssh } = await createAll('raw');
    expect((await inject('PATCH', `/credentials/${ssh}`, admin, { password: S.sshPasswordNew })).statusCode).toBe(200);
    expect((await inject('POST', '/secrets', admin, { key: 'RAW_CHECK', value: S.secretValue })).statusCode).toBe(201);
    expect((await inject('PATCH', '/secrets/RAW_CHECK', admin, { value: S.secretValueNew })).statusCode).toBe(200);
    const raw = await rawStorage(server().db);
    expect(raw).toContain('raw-ssh');
    for (const secret of Object.values(S)) for (const f of forms(secret)) expect(raw.includes(f), `storage contains ${secret.slice(0, 4)}…`).toBe(false);
  });

  describe('tampering and record swaps', () => {
    let client: { exec(sql: string, params: unknown[]): Promise<unknown[]>; close(): Promise<void> };
    let mine: Record<keyof typeof bodies, string>;
    beforeAll(async () => {
      mine = await createAll('tamper');
      const db = server().db;
      if (db.dialect === 'postgres') {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        client = {
          exec: async (sql, params) =>
            (
              await c.query(
                sql.replace(
                  /\?/g,
                  (() => {
                    let i = 0;
                    return () => `$${++i}`;
                  })(),
                ),
                params,
              )
            ).rows,
          close: () => c.end(),
        };
      } else {
        const c = new SQLite(path.join(db.dataDir, 'opsdeck.db'));
        c.pragma('busy_timeout = 5000');
        client = {
          exec: async (sql, params) => (/^\s*select/i.test(sql) ? c.prepare(sql).all(...params) : (c.prepare(sql).run(...params), [])),
          close: async () => void c.close(),
        };
      }
    });
    afterAll(async () => client?.close());
    const row = async (id: string) =>
      (await client.exec('select ciphertext, wrapped_key, key_id from credentials where id = ?', [id]))[0] as {
        ciphertext: string;
        wrapped_key: string;
        key_id: string;
      };

    it('answers a tampered ciphertext with a clear error, never garbage', async () => {
      const r = await row(mine.basic!);
      const sealed = JSON.parse(r.ciphertext) as Record<string, string>;
      const parts = sealed.password!.split('.');
      parts[2] = `${parts[2]!.slice(0, -2)}${parts[2]!.endsWith('AA') ? 'BB' : 'AA'}`;
      await client.exec('update credentials set ciphertext = ? where id = ?', [JSON.stringify({ password: parts.join('.') }), mine.basic]);
      const res = await inject('POST', `/credentials/${mine.basic}/reveal`, admin, { reason: 'tamper check' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ code: 'SECRET_DECRYPTION_FAILED' });
      expect(res.json()).not.toHaveProperty('secrets');
      await expect(server().modules.credentials.resolve(mine.basic!, 'job:x', null)).rejects.toMatchObject({ code: 'SECRET_DECRYPTION_FAILED' });
      const log = (await inject('GET', `/credentials/${mine.basic}/access-log`, admin)).json().items;
      expect(log[0]).toMatchObject({ action: 'resolve', outcome: 'failure' });
      await client.exec('update credentials set ciphertext = ? where id = ?', [r.ciphertext, mine.basic]);
    });

    it('refuses ciphertext and data key copied onto another record of the same type', async () => {
      const from = await row(mine.winrm!);
      const to = await row(mine.basic!);
      // winrm and basic both hold `password`; the copy is bound to the winrm record.
      await client.exec('update credentials set ciphertext = ?, wrapped_key = ?, key_id = ? where id = ?', [
        from.ciphertext,
        from.wrapped_key,
        from.key_id,
        mine.basic,
      ]);
      await expect(server().modules.credentials.resolve(mine.basic!, 'job:x', null)).rejects.toMatchObject({ code: 'SECRET_DECRYPTION_FAILED' });
      await client.exec('update credentials set ciphertext = ? where id = ?', [from.ciphertext, mine.basic]);
      await client.exec('update credentials set wrapped_key = ?, key_id = ? where id = ?', [to.wrapped_key, to.key_id, mine.basic]);
      await expect(server().modules.credentials.resolve(mine.basic!, 'job:x', null)).rejects.toMatchObject({ code: 'SECRET_DECRYPTION_FAILED' });
      await client.exec('update credentials set ciphertext = ? where id = ?', [to.ciphertext, mine.basic]);
      expect((await server().modules.credentials.resolve(mine.basic!, 'job:x', null)).secrets).toEqual({ password: S.basic });
    });
  });

  it('deletes a credential', async () => {
    const { api_token } = await createAll('del');
    expect((await inject('DELETE', `/credentials/${api_token}`, admin)).statusCode).toBe(204);
    expect((await inject('GET', `/credentials/${api_token}`, admin)).statusCode).toBe(404);
    expect((await inject('DELETE', `/credentials/${api_token}`, admin)).statusCode).toBe(404);
  });
});
