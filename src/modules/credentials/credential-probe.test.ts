import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'ssh2';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { startSshd, freeTcpPort, type SshdPeer } from '../../../test/peers/sshd.js';
import { startSnmpd, type SnmpdPeer } from '../../../test/peers/snmpd.js';
import { forms } from '../../../test/helpers/raw-storage.js';
import { CredentialRejectedError, type ResolvedCredential } from './index.js';

const KEY_PASSPHRASE = 'Key-Passphrase-5150';
const WRONG = { password: 'Wrong-Ssh-Pw-0000', community: 'wrong-community-x', authKey: 'wrong-auth-key-123' };

let sshd: SshdPeer;
let snmpd: SnmpdPeer;
beforeAll(async () => {
  [sshd, snmpd] = await Promise.all([startSshd({ passphrase: KEY_PASSPHRASE }), startSnmpd()]);
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), snmpd?.stop()]);
});

/** An ssh2 login as an executor would do it, for tryInOrder. */
function sshAttempt(port: number) {
  return (c: ResolvedCredential) =>
    new Promise<string>((resolve, reject) => {
      const client = new Client();
      client.on('ready', () => {
        client.end();
        resolve('ok');
      });
      client.on('error', (err: Error & { level?: string }) => reject(err.level === 'client-authentication' ? new CredentialRejectedError() : err));
      client.connect({ host: '127.0.0.1', port, username: c.attributes.username ?? '', password: c.secrets.password ?? '', readyTimeout: 10_000 });
    });
}

describe.each(DIALECTS)('testing credentials against real sshd and snmpd on %s', (dialect) => {
  const server = useTestServer(dialect);
  let admin: Record<string, string>;
  const ids: Record<string, string> = {};
  const create = async (name: string, body: object) => {
    const res = await server().app.inject({ method: 'POST', url: '/api/v1/credentials', headers: admin, payload: { name, ...body } });
    expect(res.statusCode, res.body).toBe(201);
    ids[name] = res.json().id;
  };
  const test = async (name: string, body: object, headers = admin) =>
    server().app.inject({ method: 'POST', url: `/api/v1/credentials/${ids[name]}/test`, headers, payload: body });

  beforeAll(async () => {
    admin = bearer(await adminToken(server()));
    await create('ssh-pw', { type: 'ssh', username: sshd.username, password: sshd.password });
    await create('ssh-wrong', { type: 'ssh', username: sshd.username, password: WRONG.password });
    await create('ssh-key', { type: 'ssh', username: sshd.username, private_key: sshd.privateKey, passphrase: KEY_PASSPHRASE });
    await create('ssh-key-bad-pass', { type: 'ssh', username: sshd.username, private_key: sshd.privateKey, passphrase: 'not-the-passphrase' });
    await create('v2c', { type: 'snmp_v2c', community: snmpd.community });
    await create('v2c-wrong', { type: 'snmp_v2c', community: WRONG.community });
    const p = snmpd.v3.authPriv;
    await create('v3-priv', {
      type: 'snmp_v3',
      username: p.user,
      security_level: 'authPriv',
      auth_protocol: 'sha',
      auth_key: p.authKey,
      priv_protocol: 'aes128',
      priv_key: p.privKey,
    });
    const a = snmpd.v3.authNoPriv;
    await create('v3-auth', { type: 'snmp_v3', username: a.user, security_level: 'authNoPriv', auth_protocol: 'sha', auth_key: a.authKey });
    await create('v3-wrong', { type: 'snmp_v3', username: a.user, security_level: 'authNoPriv', auth_protocol: 'sha', auth_key: WRONG.authKey });
    await create('token', { type: 'api_token', token: 'tok-not-testable-1' });
  });

  it.each([
    ['ssh-pw', 'success', true],
    ['ssh-key', 'success', true],
    ['ssh-wrong', 'auth_failed', false],
  ])('SSH login with %s → %s', async (name, outcome, ok) => {
    const res = await test(name, { host: sshd.host, port: sshd.port, timeout_ms: 10_000 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ok, outcome, protocol: 'ssh', host: '127.0.0.1', port: sshd.port, duration_ms: expect.any(Number) });
  });

  it('reports an unusable private key and an unreachable host without a 5xx', async () => {
    const bad = await test('ssh-key-bad-pass', { host: sshd.host, port: sshd.port });
    expect(bad.json()).toMatchObject({ ok: false, outcome: 'error', message: expect.stringMatching(/private key/) });
    const closed = await test('ssh-pw', { host: '127.0.0.1', port: await freeTcpPort(), timeout_ms: 2000 });
    expect(closed.json()).toMatchObject({ ok: false, outcome: 'unreachable' });
  });

  it.each([
    ['v2c', 'success'],
    ['v3-priv', 'success'],
    ['v3-auth', 'success'],
    ['v3-wrong', 'auth_failed'],
  ])('SNMP get of sysName with %s → %s', async (name, outcome) => {
    const res = await test(name, { host: snmpd.host, port: snmpd.port, timeout_ms: 3000 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome, protocol: 'snmp', ok: outcome === 'success' });
    if (outcome === 'success') expect(res.json().sys_name).toBe(snmpd.sysName);
  });

  it('reports a wrong v2c community as no answer', async () => {
    const res = await test('v2c-wrong', { host: snmpd.host, port: snmpd.port, timeout_ms: 1000 });
    expect(res.json()).toMatchObject({ ok: false, outcome: 'timeout', message: expect.stringMatching(/wrong community/) });
  });

  it('refuses types that have no test, and bad hosts, with 4xx', async () => {
    const res = await test('token', { host: '127.0.0.1' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('CREDENTIAL_TEST_UNSUPPORTED');
    const bad = await test('ssh-pw', { host: 'bad host; rm -rf /' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('body.host');
  });

  it('lets an operator test (credentials:use) but records it in the access log', async () => {
    const op = await loginAs(server(), 'operator', admin.authorization!.slice(7));
    const res = await test('v2c', { host: snmpd.host, port: snmpd.port }, bearer(op.token));
    expect(res.json()).toMatchObject({ ok: true });
    const log = await server().app.inject({ method: 'GET', url: `/api/v1/credentials/${ids['v2c']}/access-log`, headers: admin });
    expect(log.json().items[0]).toMatchObject({ action: 'test', actor_name: op.username, purpose: `test against 127.0.0.1:${snmpd.port}` });
  });

  it('falls back through a profile against the real sshd and remembers the winner', async () => {
    const vault = server().modules.credentials;
    const profile = await vault.profiles.create(
      { kind: 'system', id: '00000000-0000-0000-0000-000000000000', name: 'system', permissions: '*', teamIds: [] },
      { name: 'lab', credential_ids: [ids['ssh-wrong']!, ids['ssh-pw']!] },
    );
    const first = await vault.tryInOrder(profile.id, `ssh:${sshd.port}`, sshAttempt(sshd.port), { purpose: 'job:ssh', jobRunId: null });
    expect(first).toMatchObject({ credentialId: ids['ssh-pw'], rejected: ['ssh-wrong'] });
    const second = await vault.tryInOrder(profile.id, `ssh:${sshd.port}`, sshAttempt(sshd.port), { purpose: 'job:ssh', jobRunId: null });
    expect(second.rejected).toEqual([]);
  });

  it('logged none of the secrets used', () => {
    const logs = server().logs.text();
    for (const s of [
      sshd.password,
      KEY_PASSPHRASE,
      snmpd.community,
      snmpd.v3.authPriv.authKey,
      snmpd.v3.authPriv.privKey!,
      snmpd.v3.authNoPriv.authKey,
      ...Object.values(WRONG),
    ]) {
      for (const f of forms(s)) expect(logs.includes(f)).toBe(false);
    }
    expect(logs.includes(sshd.privateKey.split('\n')[1]!)).toBe(false);
  });
});
