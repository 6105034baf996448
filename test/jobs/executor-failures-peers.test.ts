/**
 * Target failures no retry can fix end the run at once, against real peers on both deployments:
 * a wrong SSH password, a host key that does not match the pinned one, an HTTP 404. A failure
 * that may pass later (HTTP 503) still spends its attempts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { startIosEmulator, type IosEmulator } from '../peers/ios-emulator.js';
import { freeTcpPort } from '../peers/ports.js';
import { startSshd, type SshdPeer } from '../peers/sshd.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer } from './helpers.js';

let sshd: SshdPeer;
let ios: IosEmulator;
let web: http.Server;
let webUrl: string;

beforeAll(async () => {
  sshd = await startSshd();
  ios = await startIosEmulator({ addresses: ['127.0.21.1'], port: await freeTcpPort('127.0.21.1') });
  web = http.createServer((req, res) => res.writeHead(req.url === '/missing' ? 404 : 503).end());
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
afterAll(async () => {
  web?.closeAllConnections();
  await Promise.all([sshd?.stop(), ios?.stop(), web ? new Promise((r) => web.close(r)) : undefined]);
});

describe.each(JOB_MODES)('failures no retry can fix, against real peers on $name', (mode) => {
  let server: TestServer;
  let api: ReturnType<typeof jobsClient>;
  let wrongPassword: string;
  let goodKey: string;
  let device: string;
  beforeAll(async () => {
    server = await startJobsServer(mode, { env: { OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32' } });
    const token = await adminToken(server);
    api = jobsClient(server, token);
    wrongPassword = await createCredential(server, token, { type: 'ssh', username: sshd.username, password: 'Not-the-Password-42' });
    goodKey = await createCredential(server, token, { type: 'ssh', username: sshd.username, private_key: sshd.privateKey });
    device = await createCredential(server, token, { type: 'ssh', username: ios.username, password: ios.password, enable_secret: ios.enableSecret });
  });
  afterAll(async () => {
    await server?.close();
  });

  const attempts = { max_attempts: 3, backoff_ms: 10 };

  it('a wrong SSH password fails the run on its first attempt, saying it is an authentication failure', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: ['127.0.0.1'],
      credential_id: wrongPassword,
      params: { port: sshd.port, commands: ['true'] },
      ...attempts,
    });
    const done = await api.finished(run.id, 60_000);
    expect([done.status, done.attempt]).toEqual(['failed', 1]);
    expect(done.reason).toMatch(/^not retried: auth: /);
    expect(done.reason).not.toContain('Not-the-Password-42');
  });

  it('a host key that does not match the pinned one fails the run on its first attempt', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: ['127.0.0.1'],
      credential_id: goodKey,
      params: { port: sshd.port, commands: ['true'], host_key_sha256: `SHA256:${'A'.repeat(43)}` },
      ...attempts,
    });
    const done = await api.finished(run.id, 60_000);
    expect([done.status, done.attempt]).toEqual(['failed', 1]);
    expect(done.reason).toMatch(/^not retried: host_key: /);
  });

  it('a command the device rejects (invalid input) fails the run on its first attempt', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: ios.addresses,
      credential_id: device,
      params: { mode: 'device', port: ios.port, commands: ['show no-such-thing'] },
      ...attempts,
    });
    const done = await api.finished(run.id, 60_000);
    expect([done.status, done.attempt]).toEqual(['failed', 1]);
    expect(done.reason).toMatch(/^not retried: the device rejected a command/);
  });

  it('an HTTP 404 is not retried, an HTTP 503 is', async () => {
    const missing = await api.start({ type: 'http_request', targets: ['127.0.0.1'], params: { url: `${webUrl}/missing` }, ...attempts });
    const notFound = await api.finished(missing.id);
    expect([notFound.status, notFound.attempt]).toEqual(['failed', 1]);
    expect(notFound.reason).toMatch(/^not retried: unexpected status 404/);
    const busy = await api.start({ type: 'http_request', targets: ['127.0.0.1'], params: { url: `${webUrl}/busy` }, ...attempts });
    const unavailable = await api.finished(busy.id, 30_000);
    expect([unavailable.status, unavailable.attempt]).toEqual(['failed', 3]);
  });
});
