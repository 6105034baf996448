import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminToken, bearer, loginAs } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { freeTcpPort } from '../peers/ports.js';
import { startSshd, type SshdPeer } from '../peers/sshd.js';
import { hostnameFor, startIosEmulator, type IosEmulator } from '../peers/ios-emulator.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer } from './helpers.js';

const LIBRARY = '/work/shared/data/ntc-templates/templates';
const ADDRESSES = ['127.0.21.1', '127.0.21.2', '127.0.21.3'];

let sshd: SshdPeer;
let ios: IosEmulator;

beforeAll(async () => {
  sshd = await startSshd();
  ios = await startIosEmulator({ addresses: ADDRESSES, port: await freeTcpPort(ADDRESSES[0]!) });
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), ios?.stop()]);
});

interface TargetItem {
  index: number;
  host: string;
  device_id: string | null;
  device_name: string | null;
  network_driver: string | null;
  selector: string | null;
  status: string;
  error: string | null;
  credential_id: string | null;
  credential_profile_id: string | null;
  credential_source: string | null;
}

describe.each(JOB_MODES)('jobs on the inventory on $name', (mode) => {
  let server: TestServer;
  let api: ReturnType<typeof jobsClient>;
  let token: string;
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, auth = token) =>
    server.app.inject({ method, url: `/api/v1${url}`, headers: bearer(auth), ...(payload ? { payload } : {}) });
  const create = async (url: string, payload: object): Promise<Record<string, any>> => {
    const res = await call('POST', url, payload);
    if (res.statusCode !== 201) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const targetsOf = async (runId: string): Promise<{ resolved: boolean; items: TargetItem[] }> => {
    const res = await call('GET', `/jobs/runs/${runId}/targets`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const runCount = async () => (await call('GET', '/jobs/runs?limit=1000')).json().items.length as number;

  beforeAll(async () => {
    server = await startJobsServer(mode, { env: { OPSDECK_TEXTFSM_LIBRARY_DIRS: LIBRARY } });
    token = await adminToken(server);
    api = jobsClient(server, token);
    ids.device = await createCredential(server, token, { type: 'ssh', username: ios.username, password: ios.password });
    ids.wrong = await createCredential(server, token, { type: 'ssh', username: ios.username, password: 'Not-the-Pa55word' });
    ids.server = await createCredential(server, token, { type: 'ssh', username: sshd.username, password: sshd.password });
    ids.profile = (await create('/credential-profiles', { name: 'dc logins', credential_ids: [ids.wrong, ids.device] })).id;
    await create('/platforms', { name: 'IOS', network_driver: 'cisco_ios' });
    await create('/platforms', { name: 'Linux', network_driver: 'linux' });
    await create('/device-roles', { name: 'core' });
    await create('/device-roles', { name: 'edge' });
    await create('/tags', { name: 'pci' });
    await create('/tags', { name: 'unused' });
    await create('/locations', { name: 'dc1', location_type: 'site', credential_profile_id: ids.profile });
    await create('/locations', { name: 'dc1-room-a', location_type: 'room', parent: 'dc1' });
    await create('/locations', { name: 'lab', location_type: 'site' });
    ids.r1 = (
      await create('/devices', {
        name: 'r1',
        platform: 'IOS',
        role: 'core',
        location: 'dc1',
        primary_ip4: ADDRESSES[0],
        credential_id: ids.device,
        tags: ['pci'],
      })
    ).id;
    // No credential of its own: the location tree's profile (dc1, parent of its room) serves it.
    ids.r2 = (await create('/devices', { name: 'r2', platform: 'IOS', role: 'edge', location: 'dc1-room-a', primary_ip4: ADDRESSES[1] })).id;
    ids.srv = (
      await create('/devices', { name: 'srv1', platform: 'Linux', role: 'edge', location: 'lab', primary_ip4: '127.0.0.1', credential_id: ids.server })
    ).id;
    ids.noaddr = (await create('/devices', { name: 'lab-noaddr', platform: 'IOS', location: 'lab' })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses selectors that name nothing, naming the field, and stores nothing', async () => {
    const before = await runCount();
    const res = await api.create({
      type: 'ssh_command',
      targets: [{ group: 'no-such-group' }, { location: 'atlantis' }, { filter: { colour: ['red'] } }, { device: 'r1' }],
      params: { commands: ['show version'] },
    });
    expect(res.statusCode, res.body).toBe(422);
    const paths = (res.json().errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['body.targets.0.group', 'body.targets.1.location', 'body.targets.2.filter.colour']);
    const bad = await call('POST', '/jobs/templates', {
      name: 'bad selector',
      type: 'ssh_command',
      targets: [{ role: 'spine' }],
      params: { commands: ['show version'] },
    });
    expect(bad.statusCode, bad.body).toBe(422);
    expect(bad.json().errors[0].path).toBe('body.targets.0.role');
    // A host-only run still needs a credential; a profile is accepted as the run's credential.
    expect((await api.create({ type: 'ssh_command', targets: ['127.0.0.1'], params: { commands: ['id'] } })).json().code).toBe('JOB_CREDENTIAL_REQUIRED');
    // An empty filter would silently mean every device: refused.
    const empty = await api.create({ type: 'noop', targets: [{ filter: {} }] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors.map((e: { path: string }) => e.path)).toContain('body.targets.0.filter');
    const two = await api.create({ type: 'noop', targets: ['10.0.0.1', { rack: 'r1' }] });
    expect(two.statusCode).toBe(400);
    expect(two.json().errors.map((e: { path: string }) => e.path)).toContain('body.targets.1.rack');
    const facts = await api.create({ type: 'ssh_command', targets: [{ device: 'r1' }], params: { commands: ['show version'], update_facts: true } });
    expect(facts.statusCode).toBe(422);
    expect(facts.json().errors[0].path).toBe('body.params.update_facts');
    // Privileged work names its mode even when the platform would pick the device CLI.
    const enable = await api.create({ type: 'ssh_command', targets: [{ device: 'r1' }], params: { commands: ['show run'], enable: true } });
    expect(enable.statusCode).toBe(422);
    expect(enable.json().errors[0].path).toBe('body.params.mode');
    expect(await runCount()).toBe(before);
  });

  it('resolves selectors when the run executes, not when it is created, and records each device with the credential that served it', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: [{ role: 'core' }, { location: 'dc1' }],
      params: { port: ios.port, commands: ['show version'] },
      not_before: new Date(Date.now() + 1500).toISOString(),
    });
    expect(await targetsOf(run.id)).toEqual({ run_id: run.id, resolved: false, items: [] });
    // Added after creation, before execution: the run must see it.
    ids.r3 = (
      await create('/devices', { name: 'r3', platform: 'IOS', role: 'core', location: 'lab', primary_ip4: ADDRESSES[2], credential_profile_id: ids.profile })
    ).id;
    const done = await api.finished(run.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const { resolved, items } = await targetsOf(run.id);
    expect(resolved).toBe(true);
    expect(
      items.map((t) => [t.device_name, t.host, t.selector, t.network_driver, t.credential_source, t.credential_id, t.credential_profile_id, t.status]),
    ).toEqual([
      ['r1', ADDRESSES[0], 'role:core', 'cisco_ios', 'device', ids.device, null, 'succeeded'],
      ['r3', ADDRESSES[2], 'role:core', 'cisco_ios', 'device_profile', ids.device, ids.profile, 'succeeded'],
      ['r2', ADDRESSES[1], 'location:dc1', 'cisco_ios', 'location_profile', ids.device, ids.profile, 'succeeded'],
    ]);
    // Platform awareness: no mode given, cisco_ios means the interactive CLI (prompt, paging off).
    expect(ios.commands.get(ADDRESSES[1]!)).toEqual(expect.arrayContaining(['terminal length 0', 'show version']));
    const out = await api.output(run.id);
    expect(out.targets[0]!.output).toContain('Version 15.2(4)M7');
    const text = JSON.stringify(out) + JSON.stringify(await api.logs(run.id)) + JSON.stringify(items);
    expect(text).not.toContain(ios.password);
    expect(text).not.toContain('Not-the-Pa55word');
  });

  it('runs on groups, tags and filters, uses the run credential over the device one, and fails devices without an address', async () => {
    await create('/device-groups', { name: 'edge boxes', kind: 'dynamic', filter: { role: ['edge'], platform: ['IOS'] } });
    const run = await api.start({
      type: 'ssh_command',
      targets: [{ group: 'edge boxes' }, { tag: 'pci' }, { filter: { name: ['lab-noaddr'] } }],
      credential_id: ids.device,
      params: { port: ios.port, commands: ['show ip interface brief'] },
    });
    const done = await api.finished(run.id);
    expect(done.status, done.reason ?? '').toBe('partially_failed');
    const { items } = await targetsOf(run.id);
    expect(items.map((t) => [t.device_name, t.selector, t.credential_source, t.status])).toEqual([
      ['r2', 'group:edge boxes', 'run', 'succeeded'],
      ['r1', 'tag:pci', 'run', 'succeeded'],
      ['lab-noaddr', 'filter:{"name":["lab-noaddr"]}', 'run', 'failed'],
    ]);
    expect(items[2]!.error).toContain('no primary IP address');
  });

  it('does not retry a run whose only failures are devices without an address (a retry cannot give them one)', async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: [{ device: 'lab-noaddr' }],
      credential_id: ids.device,
      max_attempts: 3,
      params: { port: ios.port, commands: ['show version'] },
    });
    const done = await api.finished(run.id);
    expect([done.status, done.attempt]).toEqual(['failed', 1]);
    expect(done.reason).toMatch(/^not retried: no address: lab-noaddr: the device has no primary IP address/);
  });

  it('tries a profile in order and remembers the one that worked; a run may name a profile as its credential', async () => {
    const profile = (await create('/credential-profiles', { name: 'wrong first', credential_ids: [ids.wrong, ids.device] })).id as string;
    const triedWrong = async (runId: string) => {
      const res = await call('GET', `/credentials/${ids.wrong}/access-log?limit=1000`);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().items as { job_run_id: string | null }[]).some((e) => e.job_run_id === runId);
    };
    const first = await api.start({
      type: 'ssh_command',
      targets: [{ device: 'r2' }],
      credential_id: profile,
      params: { port: ios.port, commands: ['show version'] },
    });
    expect((await api.finished(first.id)).status).toBe('succeeded');
    const [t] = (await targetsOf(first.id)).items;
    expect([t!.credential_source, t!.credential_id, t!.credential_profile_id]).toEqual(['run_profile', ids.device, profile]);
    expect(await triedWrong(first.id)).toBe(true);
    const second = await api.start({
      type: 'ssh_command',
      targets: [{ device: 'r2' }],
      credential_id: profile,
      params: { port: ios.port, commands: ['show version'] },
    });
    expect((await api.finished(second.id)).status).toBe('succeeded');
    expect(await triedWrong(second.id)).toBe(false);
  });

  it("falls back to the selecting group's profile, and refuses an unknown profile on inventory objects", async () => {
    const unknown = '0192f0a0-9999-7000-8000-000000000000';
    for (const [url, body] of [
      ['/devices', { name: 'bad-profile', credential_profile_id: unknown }],
      ['/locations', { name: 'bad-profile', credential_profile_id: unknown }],
      ['/device-groups', { name: 'bad-profile', credential_profile_id: unknown }],
    ] as const) {
      const res = await call('POST', url, body);
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(['body.credential_profile_id']);
    }
    await create('/devices', { name: 'r4', platform: 'IOS', location: 'lab', primary_ip4: ADDRESSES[2] });
    const group = await create('/device-groups', { name: 'ops group', devices: ['r4'], credential_profile_id: ids.profile });
    expect(group.credential_profile_id).toBe(ids.profile);
    const run = await api.start({ type: 'ssh_command', targets: [{ group: 'ops group' }], params: { port: ios.port, commands: ['show version'] } });
    const done = await api.finished(run.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const [t] = (await targetsOf(run.id)).items;
    expect([t!.device_name, t!.credential_source, t!.credential_id, t!.credential_profile_id]).toEqual(['r4', 'group_profile', ids.device, ids.profile]);
  });

  it('ends a run whose selectors match nothing as failed with the reason, without hanging', async () => {
    const run = await api.start({ type: 'ssh_command', targets: [{ tag: 'unused' }], credential_id: ids.device, params: { commands: ['show version'] } });
    const done = await api.finished(run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toContain('matched no devices');
    expect((await targetsOf(run.id)).items).toEqual([]);
  });

  it("parses with the platform's ntc-template (parse: true) and keeps plain exec for linux devices", async () => {
    const run = await api.start({
      type: 'ssh_command',
      targets: [{ device_id: ids.r1! }, { device: ids.srv! }],
      params: { port: ios.port, commands: ['show version'], parse: true, update_facts: true },
    });
    const done = await api.finished(run.id);
    const out = await api.output(run.id);
    const r1 = out.targets[0]!.parsed as { commands: { parsed: Record<string, unknown>[] }[] };
    expect(r1.commands[0]!.parsed[0]).toMatchObject({ version: '15.2(4)M7', hostname: hostnameFor(ADDRESSES[0]!), serial: ['9KLIE1234'] });
    expect(out.targets[0]!.parsed).toMatchObject({ facts_updated: expect.arrayContaining(['os_version', 'serial']) });
    const r1Device = (await call('GET', `/devices/${ids.r1}`)).json();
    expect([r1Device.os_version, r1Device.serial]).toEqual(['15.2(4)M7', '9KLIE1234']);
    // srv1 is reached on the ios port too (wrong port for sshd): it fails, but in exec mode, not the CLI.
    expect(done.status).toBe('partially_failed');
    const srvRun = await api.start({ type: 'ssh_command', targets: [{ platform: 'Linux' }], params: { port: sshd.port, commands: ['echo exec-mode-ok'] } });
    const srvDone = await api.finished(srvRun.id);
    expect(srvDone.status, srvDone.reason ?? '').toBe('succeeded');
    expect((await targetsOf(srvRun.id)).items.map((t) => [t.device_name, t.selector, t.network_driver, t.credential_id])).toEqual([
      ['srv1', 'platform:Linux', 'linux', ids.server],
    ]);
    expect((await api.output(srvRun.id)).targets[0]!.output).toContain('exec-mode-ok');
  });

  it('facts updates os_version, serial and hostname through the inventory, audited as the initiator', async () => {
    const operator = await loginAs(server, 'operator', token);
    const ops = jobsClient(server, operator.token);
    const run = await ops.start({ type: 'facts', targets: [{ device: 'r2' }], params: { port: ios.port } });
    const done = await ops.finished(run.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const device = (await call('GET', `/devices/${ids.r2}`)).json();
    expect([device.os_version, device.serial, device.hostname]).toEqual(['15.2(4)M7', '9KLIE1234', hostnameFor(ADDRESSES[1]!)]);
    expect((await api.output(run.id)).targets[0]!.parsed).toMatchObject({ updated: ['hostname', 'os_version', 'serial'] });
    const audit = (await call('GET', '/audit?limit=200')).json().items as {
      action: string;
      resource_id: string | null;
      actor: { id: string | null } | string | null;
      actor_id?: string;
    }[];
    const entry = audit.find((a) => a.action === 'device.updated' && a.resource_id === ids.r2);
    expect(entry, JSON.stringify(audit.slice(0, 3))).toBeDefined();
    expect(JSON.stringify(entry)).toContain(operator.userId);
    // A second run finds nothing to change.
    const again = await ops.start({ type: 'facts', targets: [{ device: 'r2' }], params: { port: ios.port } });
    await ops.finished(again.id);
    expect((await api.output(again.id)).targets[0]!.parsed).toMatchObject({ updated: [] });
  });

  it('re-checks the initiator when the run executes: a user who lost jobs:run gets a refused run', async () => {
    const user = await loginAs(server, 'operator', token);
    const run = await jobsClient(server, user.token).start({
      type: 'ssh_command',
      targets: [{ device: 'r1' }],
      params: { port: ios.port, commands: ['show version'] },
      not_before: new Date(Date.now() + 1500).toISOString(),
    });
    const res = await call('PATCH', `/users/${user.userId}`, { roles: ['viewer'] });
    expect(res.statusCode, res.body).toBe(200);
    const done = await api.finished(run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toContain('may no longer run jobs');
    expect(done.attempt).toBe(1);
    expect((await targetsOf(run.id)).items).toEqual([]);
    // Someone still allowed retries it: the selectors are resolved afresh, for them.
    const retry = await call('POST', `/jobs/runs/${run.id}/retry`, {});
    expect(retry.statusCode, retry.body).toBe(202);
    const retried = await api.finished(retry.json().id);
    expect(retried.status, retried.reason ?? '').toBe('succeeded');
    expect((await targetsOf(retried.id)).items.map((t) => [t.device_name, t.credential_source])).toEqual([['r1', 'device']]);
    // A viewer cannot start one either.
    expect((await jobsClient(server, user.token).create({ type: 'noop', targets: [{ device: 'r1' }] })).statusCode).toBe(403);
  });

  it("resolves with the initiator's inventory rights: without devices:read no selector is accepted", async () => {
    const role = await call('POST', '/roles', { name: `runner-${mode.dialect}`, permissions: ['jobs:run', 'jobs:read'] });
    expect(role.statusCode, role.body).toBe(201);
    const runner = await loginAs(server, `runner-${mode.dialect}`, token);
    const res = await jobsClient(server, runner.token).create({ type: 'noop', targets: [{ device: 'r1' }] });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().detail).toContain('devices:read');
  });

  it('a run whose group is deleted before it executes fails with the reason; a template naming it no longer starts', async () => {
    const group = await create('/device-groups', { name: 'short lived', devices: ['r1'] });
    const t = await create('/jobs/templates', { name: 'short lived run', type: 'noop', targets: [{ group: 'short lived' }] });
    const run = await api.start({ type: 'noop', targets: [{ group: 'short lived' }], max_attempts: 3, not_before: new Date(Date.now() + 1500).toISOString() });
    expect((await call('DELETE', `/device-groups/${group.id}`)).statusCode).toBe(204);
    const done = await api.finished(run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toContain("no device group 'short lived'");
    expect(done.attempt).toBe(1);
    const stored = await call('POST', `/jobs/templates/${t.id}/run`, {});
    expect(stored.statusCode, stored.body).toBe(422);
    expect(stored.json().errors[0].path).toBe('body.targets.0.group');
  });

  it('a schedule runs its template on what the selectors match when it fires', async () => {
    await create('/tags', { name: 'nightly' });
    const t = await create('/jobs/templates', { name: 'nightly noop', type: 'noop', targets: [{ tag: 'nightly' }] });
    const schedule = await create('/schedules', { name: 'nightly once', template_id: t.id, kind: 'once', at: new Date(Date.now() + 1500).toISOString() });
    // Tagged after the schedule was saved: the fired run still finds it.
    await create('/devices', { name: 'r-nightly', tags: ['nightly'], primary_ip4: '192.0.2.10' });
    let runId: string | null = null;
    await vi.waitFor(
      async () => {
        const fires = (await call('GET', `/schedules/${schedule.id}/runs`)).json().items as { run_id: string | null }[];
        runId = fires[0]?.run_id ?? null;
        expect(runId).not.toBeNull();
      },
      { timeout: 20_000, interval: 100 },
    );
    const done = await api.finished(runId!);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect((await targetsOf(runId!)).items.map((i) => [i.device_name, i.selector])).toEqual([['r-nightly', 'tag:nightly']]);
  });

  it('templates store selectors, not device lists', async () => {
    const t = await create('/jobs/templates', {
      name: 'core show version',
      type: 'ssh_command',
      targets: [{ role: 'core' }],
      params: { port: ios.port, commands: ['show version'] },
    });
    expect(t.targets).toEqual([{ role: 'core' }]);
    const res = await call('POST', `/jobs/templates/${t.id}/run`, {});
    expect(res.statusCode, res.body).toBe(202);
    const done = await api.finished(res.json().id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const core = (await call('GET', '/devices?role=core&sort=name')).json().items.map((d: { name: string }) => d.name);
    expect(core).toContain('r1');
    expect((await targetsOf(done.id)).items.map((i) => i.device_name)).toEqual(core);
  });
});
