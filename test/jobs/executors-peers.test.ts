import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { freeTcpPort } from '../peers/ports.js';
import { startSshd, type SshdPeer } from '../peers/sshd.js';
import { startSnmpd, type SnmpdPeer } from '../peers/snmpd.js';
import { hostnameFor, startIosEmulator, type IosEmulator } from '../peers/ios-emulator.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer } from './helpers.js';

const IP_BRIEF_TEMPLATE = `Value INTERFACE (\\S+)
Value IP_ADDRESS (\\S+)
Value STATUS (up|down|administratively down)

Start
  ^${'$'}{INTERFACE}\\s+${'$'}{IP_ADDRESS}\\s+\\w+\\s+\\w+\\s+${'$'}{STATUS}\\s+\\S+\\s*$$ -> Record
`;

let sshd: SshdPeer;
let snmpd: SnmpdPeer;
let ios: IosEmulator;
let web: http.Server;
let webUrl: string;

beforeAll(async () => {
  [sshd, snmpd] = await Promise.all([startSshd(), startSnmpd()]);
  ios = await startIosEmulator({ addresses: ['127.0.20.1', '127.0.20.2'], port: await freeTcpPort('127.0.20.1') });
  // Echoes the request headers back: a server that leaks what it was sent.
  web = http.createServer((req, res) =>
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ headers: req.headers })),
  );
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
afterAll(async () => {
  web?.closeAllConnections();
  await Promise.all([sshd?.stop(), snmpd?.stop(), ios?.stop(), web ? new Promise((r) => web.close(r)) : undefined]);
});

describe.each(JOB_MODES)('executors against real peers on $name', (mode) => {
  let server: TestServer;
  let api: ReturnType<typeof jobsClient>;
  let token: string;
  const cred: Record<string, string> = {};
  beforeAll(async () => {
    // The web peer listens on loopback, which outbound HTTP refuses unless listed.
    server = await startJobsServer(mode, {
      env: { OPSDECK_JOBS_LOCAL_COMMANDS: 'echo', OPSDECK_JOBS_DEVICE_SESSIONS: '2', OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32' },
    });
    token = await adminToken(server);
    api = jobsClient(server, token);
    cred.sshPassword = await createCredential(server, token, { type: 'ssh', username: sshd.username, password: sshd.password });
    cred.sshKey = await createCredential(server, token, { type: 'ssh', username: sshd.username, private_key: sshd.privateKey });
    cred.device = await createCredential(server, token, { type: 'ssh', username: ios.username, password: ios.password, enable_secret: ios.enableSecret });
    cred.v2c = await createCredential(server, token, { type: 'snmp_v2c', community: snmpd.community });
    const v3 = snmpd.v3.authPriv;
    cred.v3 = await createCredential(server, token, {
      type: 'snmp_v3',
      username: v3.user,
      security_level: 'authPriv',
      auth_protocol: 'sha',
      auth_key: v3.authKey,
      priv_protocol: 'aes128',
      priv_key: v3.privKey,
    });
    cred.token = await createCredential(server, token, { type: 'api_token', token: 'tok-Very-Secret-123456' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ssh_command (exec, password) runs commands and scrubs the password in every encoding', async () => {
    const b64 = Buffer.from(`x${sshd.password}`).toString('base64');
    const run = await api.start({
      type: 'ssh_command',
      targets: ['127.0.0.1'],
      credential_id: cred.sshPassword,
      params: { port: sshd.port, commands: ['id -un', `echo "${sshd.password}"`, `echo ${b64}`, `echo '${encodeURIComponent(sshd.password)}'`] },
    });
    const done = await api.finished(run.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const out = await api.output(run.id);
    const text = JSON.stringify(out) + JSON.stringify(await api.logs(run.id)) + server.logs.text();
    expect(out.targets[0]!.output).toContain(sshd.username);
    expect(out.targets[0]!.output).toContain('********');
    expect(text).not.toContain(sshd.password);
    expect(text).not.toContain(Buffer.from(sshd.password).toString('base64').slice(2, 14));
    expect(text).not.toContain(encodeURIComponent(sshd.password));
  });

  it('ssh_command (exec, key) fails a target whose command exits non-zero', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: ['127.0.0.1'],
      credential_id: cred.sshKey,
      params: { port: sshd.port, commands: ['echo key-auth-ok', 'exit 3'] },
    });
    const done = await api.finished(run.id);
    expect(done.status).toBe('failed');
    const t = (await api.output(run.id)).targets[0]!;
    expect(t.output).toContain('key-auth-ok');
    expect(t.error).toContain('exited with 3');
  });

  it('ssh_command refuses a host whose key does not match the pinned fingerprint', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: ['127.0.0.1'],
      credential_id: cred.sshKey,
      params: { port: sshd.port, commands: ['true'], host_key_sha256: `SHA256:${'A'.repeat(43)}` },
    });
    expect((await api.finished(run.id)).status).toBe('failed');
    const ok = await api.start({
      type: 'ssh_command',
      targets: ['127.0.0.1'],
      credential_id: cred.sshKey,
      params: { port: sshd.port, commands: ['true'], host_key_sha256: sshd.hostKeyFingerprint },
    });
    expect((await api.finished(ok.id)).status).toBe('succeeded');
  });

  it('ssh_command device mode handles enable, paging and a TextFSM parser on the IOS emulator', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: ios.addresses,
      credential_id: cred.device,
      params: {
        mode: 'device',
        port: ios.port,
        enable: true,
        disable_paging: false,
        commands: ['show running-config', 'show ip interface brief'],
        textfsm_template: IP_BRIEF_TEMPLATE,
      },
    });
    const done = await api.finished(run.id);
    expect(done.status, JSON.stringify((await api.output(run.id)).targets.map((t) => t.error))).toBe('succeeded');
    expect(done.changes_devices).toBe(false);
    const out = await api.output(run.id);
    for (const [i, t] of out.targets.entries()) {
      const cmds = (t.parsed as { commands: { command: string; output: string; parsed: { interface: string; status: string }[] }[] }).commands;
      expect(cmds[0]!.output).toContain(`hostname ${hostnameFor(ios.addresses[i]!)}`);
      expect(cmds[0]!.output).toMatch(/\nend$/);
      expect(cmds[0]!.output).not.toContain('More');
      expect(cmds[1]!.parsed.map((r) => r.interface)).toEqual([
        'GigabitEthernet0/0',
        'GigabitEthernet0/1',
        'GigabitEthernet0/2',
        'GigabitEthernet0/3',
        'Loopback0',
      ]);
    }
    expect(JSON.stringify(out) + JSON.stringify(await api.logs(run.id))).not.toContain(ios.enableSecret);
  });

  it('ssh_command configure mode changes the device and is marked device-changing', async () => {
    const line = `ntp server 10.9.9.${mode.cluster ? 2 : 1}`;
    const run = await api.start({
      type: 'ssh_command',
      targets: [ios.addresses[0]],
      credential_id: cred.device,
      params: { mode: 'device', port: ios.port, configure: true, commands: [line] },
    });
    expect(run.changes_devices).toBe(true);
    expect((await api.finished(run.id)).status).toBe('succeeded');
    expect(ios.config.get(ios.addresses[0]!)).toContain(line);
  });

  it('snmp_get (v2c and v3) and snmp_walk read the agent', async () => {
    const v2 = await api.start({
      type: 'snmp_get',
      targets: ['127.0.0.1'],
      credential_id: cred.v2c,
      params: { port: snmpd.port, oids: ['sysName', '1.3.6.1.2.1.1.6.0'] },
    });
    const v3 = await api.start({
      type: 'snmp_get',
      targets: ['127.0.0.1'],
      credential_id: cred.v3,
      params: { version: '3', port: snmpd.port, oids: ['sysName'] },
    });
    const walk = await api.start({ type: 'snmp_walk', targets: ['127.0.0.1'], credential_id: cred.v2c, params: { port: snmpd.port, oid: 'system' } });
    for (const r of [v2, v3, walk]) expect((await api.finished(r.id)).status).toBe('succeeded');
    expect(((await api.output(v2.id)).targets[0]!.parsed as { values: Record<string, unknown> }).values).toEqual({
      sysName: snmpd.sysName,
      '1.3.6.1.2.1.1.6.0': 'opsdeck test lab',
    });
    expect(((await api.output(v3.id)).targets[0]!.parsed as { values: Record<string, unknown> }).values.sysName).toBe(snmpd.sysName);
    const rows = ((await api.output(walk.id)).targets[0]!.parsed as { varbinds: { oid: string; value: unknown }[] }).varbinds;
    expect(rows.find((r) => r.oid === '1.3.6.1.2.1.1.5.0')?.value).toBe(snmpd.sysName);
    expect(JSON.stringify(await api.logs(v2.id))).not.toContain(snmpd.community);
  });

  it('ping and tcp_port_scan reach loopback', async () => {
    const closed = await freeTcpPort();
    const ping = await api.start({ type: 'ping', targets: ['127.0.0.1'], params: { count: 2, interval_ms: 200, timeout_ms: 1000 } });
    const scan = await api.start({
      type: 'tcp_port_scan',
      targets: ['127.0.0.1'],
      params: { ports: [sshd.port, closed], timeout_ms: 500, rate_per_second: 100 },
    });
    expect((await api.finished(ping.id)).status).toBe('succeeded');
    expect((await api.output(ping.id)).targets[0]!.parsed).toMatchObject({ transmitted: 2, received: 2, reachable: true });
    expect((await api.finished(scan.id)).status).toBe('succeeded');
    expect((await api.output(scan.id)).targets[0]!.parsed).toMatchObject({
      open: [sshd.port],
      ports: [
        { port: sshd.port, state: 'open' },
        { port: closed, state: 'closed' },
      ],
    });
  });

  it('http_request sends the credential, scrubs it from the echoed output, and never reaches metadata addresses', async () => {
    const run = await api.start({ type: 'http_request', credential_id: cred.token, params: { url: `${webUrl}/echo`, headers: { 'x-trace': 'abc' } } });
    expect((await api.finished(run.id)).status).toBe('succeeded');
    const out = await api.output(run.id);
    expect(out.targets[0]!.output).toContain('Bearer ********');
    expect(JSON.stringify(out)).not.toContain('tok-Very-Secret-123456');
    const metaLiteral = await api.create({ type: 'http_request', params: { url: 'http://169.254.169.254/latest/meta-data/' } });
    expect(metaLiteral.statusCode).toBe(422);
    expect(metaLiteral.json().errors[0]).toMatchObject({ path: 'body.params.url', message: expect.stringMatching(/metadata/) });
    const meta = await api.start({ type: 'http_request', targets: ['169.254.169.254'], params: { url: 'http://{{target}}/latest/meta-data/' } });
    const metaDone = await api.finished(meta.id);
    expect(metaDone.status).toBe('failed');
    expect((await api.output(meta.id)).targets[0]!.error).toMatch(/egress refused/);
    const notFound = await api.start({ type: 'http_request', params: { url: `${webUrl}/missing`, expected_status: [404] } });
    expect((await api.finished(notFound.id)).status).toBe('succeeded');
  });

  it('http_request refuses secret headers in parameters (use a credential)', async () => {
    const res = await api.create({ type: 'http_request', params: { url: webUrl, headers: { Authorization: 'Bearer x' } } });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('body.params.headers.Authorization');
  });
});
