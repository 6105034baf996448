import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { makeDevice } from '../factories/index.js';
import { startSshd, type SshdPeer } from '../peers/sshd.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer } from './helpers.js';

// SSH host keys were accepted unless pinned per run: now the first key seen is pinned per device
// (and per ad-hoc host:port), a changed key fails the target, and an API accepts a new one.
describe.each(JOB_MODES)('SSH host keys: trust on first use ($name)', (mode) => {
  let server: TestServer;
  let sshd: SshdPeer;
  let token: string;
  let credentialId: string;

  beforeAll(async () => {
    sshd = await startSshd();
    server = await startJobsServer(mode);
    token = await adminToken(server);
    credentialId = await createCredential(server, token, { type: 'ssh', username: sshd.username, password: sshd.password });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await sshd?.stop();
  });

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    server.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  /** A new sshd on a new port: no ad-hoc pin from another test applies (tests run in any order). */
  async function freshSshd(): Promise<void> {
    await sshd.stop();
    sshd = await startSshd();
  }

  /** Replaces the sshd with one on the same port presenting a different host key. */
  async function swapSshd(): Promise<void> {
    const port = sshd.port;
    await sshd.stop();
    sshd = await startSshd({ port });
  }

  it('pins a device key at the first run, refuses a changed key naming both fingerprints, and runs again once the new key is accepted', async () => {
    const jobs = jobsClient(server, token);
    const deviceId = (await makeDevice({ server, headers: bearer(token) }, { primary_ip4: '127.0.0.1' })).id;
    const run = () =>
      jobs.start({
        type: 'ssh_command',
        targets: [{ device_id: deviceId }],
        credential_id: credentialId,
        params: { port: sshd.port, commands: ['echo tofu-ok'] },
      });
    const finished = (id: string) => jobs.waitFor(id, (r) => ['succeeded', 'failed'].includes(r.status), 30_000);

    expect((await api('GET', `/devices/${deviceId}/ssh-host-key`)).statusCode).toBe(404);
    expect((await finished((await run()).id)).status).toBe('succeeded');
    const pinned = await api('GET', `/devices/${deviceId}/ssh-host-key`);
    expect(pinned.statusCode, pinned.body).toBe(200);
    const first = sshd.hostKeyFingerprint;
    expect(pinned.json()).toMatchObject({ device_id: deviceId, host: '127.0.0.1', port: sshd.port, fingerprint: first });

    await swapSshd();
    expect(sshd.hostKeyFingerprint).not.toBe(first);
    const refused = await finished((await run()).id);
    expect(refused.status).toBe('failed');
    const targets = (await api('GET', `/jobs/runs/${refused.id}/output`)).json() as { targets: { error: string | null }[] };
    const error = targets.targets[0]?.error ?? JSON.stringify(refused);
    expect(error).toContain('SSH_HOST_KEY_CHANGED');
    expect(error).toContain(`expected ${first}`);
    expect(error).toContain(`got ${sshd.hostKeyFingerprint}`);
    expect((await api('GET', `/devices/${deviceId}/ssh-host-key`)).json().fingerprint).toBe(first);

    expect((await api('DELETE', `/devices/${deviceId}/ssh-host-key`)).statusCode).toBe(204);
    expect((await finished((await run()).id)).status).toBe('succeeded');
    expect((await api('GET', `/devices/${deviceId}/ssh-host-key`)).json().fingerprint).toBe(sshd.hostKeyFingerprint);
  }, 120_000);

  it('holds the facts executor to the same pins: the key seen first is pinned for the device, a changed key fails the target', async () => {
    await freshSshd();
    const jobs = jobsClient(server, token);
    const platform = await api('POST', '/platforms', { name: `tofu-linux-${mode.dialect}`, network_driver: 'linux' });
    expect(platform.statusCode, platform.body).toBe(201);
    const deviceId = (await makeDevice({ server, headers: bearer(token) }, { primary_ip4: '127.0.0.1', platform: platform.json().name })).id;
    // What the command prints does not matter here (facts found or not): the host key is checked at connection.
    const run = () =>
      jobs.start({
        type: 'facts',
        targets: [{ device_id: deviceId }],
        credential_id: credentialId,
        params: { port: sshd.port, command: 'uname -a', update_inventory: false },
      });
    const finished = (id: string) => jobs.waitFor(id, (r) => ['succeeded', 'failed'].includes(r.status), 30_000);

    const first = await finished((await run()).id);
    expect(JSON.stringify((await api('GET', `/jobs/runs/${first.id}/output`)).json())).not.toContain('SSH_HOST_KEY_CHANGED');
    const pinned = await api('GET', `/devices/${deviceId}/ssh-host-key`);
    expect(pinned.statusCode, pinned.body).toBe(200);
    expect(pinned.json()).toMatchObject({ device_id: deviceId, port: sshd.port, fingerprint: sshd.hostKeyFingerprint });

    await swapSshd();
    const refused = await finished((await run()).id);
    expect(refused.status).toBe('failed');
    const error = ((await api('GET', `/jobs/runs/${refused.id}/output`)).json() as { targets: { error: string | null }[] }).targets[0]?.error ?? '';
    expect(error).toContain('SSH_HOST_KEY_CHANGED');
    expect(error).toContain(`got ${sshd.hostKeyFingerprint}`);
  }, 120_000);

  it('pins an ad-hoc host:port the same way; accepting is DELETE /jobs/ssh-host-keys/{id}', async () => {
    await freshSshd();
    const jobs = jobsClient(server, token);
    const run = () => jobs.start({ type: 'ssh_command', targets: ['127.0.0.1'], credential_id: credentialId, params: { port: sshd.port, commands: ['true'] } });
    const finished = (id: string) => jobs.waitFor(id, (r) => ['succeeded', 'failed'].includes(r.status), 30_000);
    expect((await finished((await run()).id)).status).toBe('succeeded');
    const list = (await api('GET', '/jobs/ssh-host-keys?host=127.0.0.1')).json() as { items: { id: string; port: number; fingerprint: string }[] };
    const pin = list.items.find((k) => k.port === sshd.port)!;
    expect(pin.fingerprint).toBe(sshd.hostKeyFingerprint);

    await swapSshd();
    const refused = await finished((await run()).id);
    expect(refused.status).toBe('failed');
    expect(JSON.stringify((await api('GET', `/jobs/runs/${refused.id}/output`)).json())).toContain('SSH_HOST_KEY_CHANGED');
    expect((await api('DELETE', `/jobs/ssh-host-keys/${pin.id}`)).statusCode).toBe(204);
    expect((await finished((await run()).id)).status).toBe('succeeded');
  }, 120_000);

  it('makes the credential test (POST /credentials/{id}/test) refuse a changed key before sending the password', async () => {
    await freshSshd();
    const probe = async () =>
      (await api('POST', `/credentials/${credentialId}/test`, { host: '127.0.0.1', port: sshd.port, timeout_ms: 10_000 })).json() as {
        ok: boolean;
        message: string;
      };
    expect(await probe()).toMatchObject({ ok: true });
    const pin = ((await api('GET', '/jobs/ssh-host-keys?host=127.0.0.1')).json() as { items: { id: string; port: number }[] }).items.find(
      (k) => k.port === sshd.port,
    )!;
    await swapSshd();
    const refused = await probe();
    expect(refused.ok).toBe(false);
    expect(refused.message).toContain('SSH_HOST_KEY_CHANGED');
    expect(refused.message).toContain(`got ${sshd.hostKeyFingerprint}`);
    expect((await api('DELETE', `/jobs/ssh-host-keys/${pin.id}`)).statusCode).toBe(204);
    expect(await probe()).toMatchObject({ ok: true });
  }, 120_000);

  it('answers 404 for the key of a device that does not exist', async () => {
    const res = await api('GET', '/devices/01900000-0000-7000-8000-000000000000/ssh-host-key');
    expect(res.statusCode).toBe(404);
    expect((await api('DELETE', '/devices/01900000-0000-7000-8000-000000000000/ssh-host-key')).statusCode).toBe(404);
  });
});
