import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminToken, bearer, loginAs } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { freeTcpPort } from '../peers/ports.js';
import { startSnmpd, type SnmpdPeer } from '../peers/snmpd.js';
import { startIosEmulator, type IosEmulator } from '../peers/ios-emulator.js';
import { createCredential, JOB_MODES, startJobsServer } from '../jobs/helpers.js';

const LIBRARY = '/work/shared/data/ntc-templates/templates';
// Two emulated IOS routers, LLDP neighbours of each other; snmpd on 127.0.0.1; nothing on 127.77.0.3-7.
const R1 = '127.77.0.1';
const R2 = '127.77.0.2';

let ios: IosEmulator;
let snmpd: SnmpdPeer;

beforeAll(async () => {
  snmpd = await startSnmpd();
  ios = await startIosEmulator({
    addresses: [R1, R2],
    port: await freeTcpPort(R1),
    ident: 'Cisco-1.25',
    lldp: {
      [R1]: [{ localPort: 'GigabitEthernet0/1', name: 'R0-2', port: 'GigabitEthernet0/2', address: R2 }],
      [R2]: [{ localPort: 'GigabitEthernet0/2', name: 'R0-1', port: 'GigabitEthernet0/1', address: R1 }],
    },
  });
});
afterAll(async () => {
  await Promise.all([ios?.stop(), snmpd?.stop()]);
});

interface Host {
  address: string;
  alive: boolean;
  open_ports: number[];
  ssh_banner: string | null;
  snmp: { sys_name: string | null; sys_object_id: string | null } | null;
  facts: Record<string, string>;
  interfaces: { name: string; address: string | null }[];
  neighbours: { protocol: string; local_interface: string; name: string; port: string }[];
  platform: string | null;
  confidence: number;
  evidence: { source: string; platform: string }[];
  ssh_credential_id: string | null;
  snmp_credential_id: string | null;
  state: string;
  changes: { field: string; inventory: string | null; discovered: string | null }[];
  device_id: string | null;
  decision: string;
  previous: string | null;
}

describe.each(JOB_MODES)('discovery on $name', (mode) => {
  let server: TestServer;
  let token: string;
  const ids: Record<string, string> = {};
  const call = (method: 'GET' | 'POST', url: string, payload?: object, auth = token) =>
    server.app.inject({ method, url: `/api/v1${url}`, headers: bearer(auth), ...(payload ? { payload } : {}) });
  const scanBody = () => ({
    targets: ['127.77.0.0/29', '127.0.0.1'],
    exclude: ['127.77.0.0'],
    ports: [ios.port],
    ssh_port: ios.port,
    snmp_port: snmpd.port,
    ssh_profile_ids: [ids.sshProfile],
    snmp_profile_ids: [ids.snmpProfile],
    timeout_ms: 300,
    concurrency: 8,
  });
  const finished = async (scanId: string) => {
    let scan: Record<string, any> = {};
    await vi.waitFor(
      async () => {
        scan = (await call('GET', `/discovery/scans/${scanId}`)).json();
        expect(['queued', 'running'], JSON.stringify(scan)).not.toContain(scan.status);
      },
      { timeout: 60_000, interval: 100 },
    );
    return scan;
  };
  const hostsOf = async (scanId: string): Promise<Map<string, Host>> => {
    const res = await call('GET', `/discovery/scans/${scanId}/hosts`);
    expect(res.statusCode, res.body).toBe(200);
    return new Map((res.json().items as Host[]).map((h) => [h.address, h]));
  };

  beforeAll(async () => {
    server = await startJobsServer(mode, {
      env: { OPSDECK_TEXTFSM_LIBRARY_DIRS: LIBRARY, OPSDECK_EGRESS_ALLOW_INTERNAL: '127.77.0.0/29,127.0.0.1/32' },
    });
    token = await adminToken(server);
    const wrong = await createCredential(server, token, { type: 'ssh', username: ios.username, password: 'Not-the-Pa55word' });
    const device = await createCredential(server, token, { type: 'ssh', username: ios.username, password: ios.password });
    const badCommunity = await createCredential(server, token, { type: 'snmp_v2c', community: 'not-the-community' });
    const community = await createCredential(server, token, { type: 'snmp_v2c', community: snmpd.community });
    ids.device = device;
    ids.community = community;
    const profile = async (name: string, credential_ids: string[]) =>
      (await call('POST', '/credential-profiles', { name, credential_ids })).json().id as string;
    ids.sshProfile = await profile('lab ssh', [wrong, device]);
    ids.snmpProfile = await profile('lab snmp', [badCommunity, community]);
    // R0-2 is known with a stale serial; 127.77.0.5 is known but answers nothing.
    const dev = async (body: object) => (await call('POST', '/devices', body)).json().id as string;
    ids.r2 = await dev({ name: 'R0-2', primary_ip4: R2, serial: 'OLD-SERIAL' });
    ids.gone = await dev({ name: 'gone-router', primary_ip4: '127.77.0.5' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses bad targets with 422 naming each field, and scans larger than the size limit (an IPv6 /64 by its size)', async () => {
    const scans = async () => (await call('GET', '/discovery/scans?limit=1000')).json().items.length as number;
    const before = await scans();
    const bad = await call('POST', '/discovery/scans', { targets: ['10.0.0.0/33', '10.1.1.1/24', 'nope', '10.0.0.9-10.0.0.1'], exclude: ['x'] });
    expect(bad.statusCode, bad.body).toBe(422);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'body.targets.0',
      'body.targets.1',
      'body.targets.2',
      'body.targets.3',
      'body.exclude.0',
    ]);
    const v6 = await call('POST', '/discovery/scans', { targets: ['2001:db8::/64'] });
    expect(v6.statusCode, v6.body).toBe(422);
    expect(v6.json().errors).toEqual([{ path: 'body.targets', message: expect.stringContaining('18446744073709551616 addresses') }]);
    const big = await call('POST', '/discovery/scans', { targets: ['10.0.0.0/16'] });
    expect(big.json().errors[0].message).toContain('at most 4096');
    const profile = await call('POST', '/discovery/scans', { targets: ['127.77.0.1'], ssh_profile_ids: ['01890000-0000-7000-8000-000000000000'] });
    expect(profile.json().errors).toEqual([{ path: 'body.ssh_profile_ids.0', message: expect.any(String) }]);
    expect(await scans()).toBe(before);
    // A list cursor that is not one this API gave out is a 400 naming it, never a database error.
    for (const cursor of ['%25', 'x', Buffer.from('["not-a-uuid"]').toString('base64url')]) {
      const res = await call('GET', `/discovery/scans?cursor=${cursor}`);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors).toEqual([{ path: 'query.cursor', message: expect.any(String) }]);
    }
  });

  it('needs the ad-hoc targets permission to scan: an operator may review but not start a scan', async () => {
    const operator = await loginAs(server, 'operator', token);
    const res = await call('POST', '/discovery/scans', { targets: ['127.77.0.1'] }, operator.token);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().code).toBe('JOB_ADHOC_FORBIDDEN');
  });

  it('scans the range: classifies the routers from banner and show version, reads snmpd, fills LLDP topology on onboarding', async () => {
    const res = await call('POST', '/discovery/scans', scanBody());
    expect(res.statusCode, res.body).toBe(202);
    const scanId = res.json().id as string;
    expect(res.json().progress.hosts).toBe(8);
    const scan = await finished(scanId);
    expect(scan.status).toBe('succeeded');
    expect(scan.progress).toEqual({ hosts: 8, probed: 8, alive: 3, identified: 3 });
    // The result reaches the alerts module from the run's end event (its executor summary): one info alert per scan.
    await vi.waitFor(
      async () => {
        const alerts = (await call('GET', '/alerts?source=discovery')).json().items as { title: string; severity: string; labels: Record<string, string> }[];
        expect(alerts.find((a) => a.labels.run_id === scan.run_id)).toMatchObject({ title: 'Discovery found 3 live host(s), 3 identified', severity: 'info' });
      },
      { timeout: 30_000, interval: 200 },
    );

    const hosts = await hostsOf(scanId);
    expect([...hosts.keys()].sort()).toEqual(['127.0.0.1', '127.77.0.1', '127.77.0.2', '127.77.0.3', '127.77.0.4', '127.77.0.5', '127.77.0.6', '127.77.0.7']);
    const r1 = hosts.get(R1)!;
    expect(r1).toMatchObject({
      alive: true,
      open_ports: [ios.port],
      ssh_banner: 'SSH-2.0-Cisco-1.25',
      platform: 'cisco_ios',
      state: 'new',
      ssh_credential_id: ids.device,
    });
    expect(r1.confidence).toBeGreaterThan(0.8);
    expect(r1.evidence.map((e) => e.source).sort()).toEqual(['command', 'ssh_banner']);
    expect(r1.facts).toEqual({ hostname: 'R0-1', os_version: '15.2(4)M7', serial: '9KLIE1234' });
    expect(r1.interfaces).toContainEqual({ name: 'GigabitEthernet0/1', address: '10.1.0.1' });
    expect(r1.neighbours).toEqual([{ protocol: 'lldp', local_interface: 'GigabitEthernet0/1', name: 'R0-2', port: 'GigabitEthernet0/2', address: R2 }]);
    const r2 = hosts.get(R2)!;
    expect(r2).toMatchObject({
      state: 'changed',
      device_id: ids.r2,
      changes: [
        { field: 'hostname', inventory: null, discovered: 'R0-2' },
        { field: 'serial', inventory: 'OLD-SERIAL', discovered: '9KLIE1234' },
        { field: 'os_version', inventory: null, discovered: '15.2(4)M7' },
      ],
    });
    const agent = hosts.get('127.0.0.1')!;
    expect(agent).toMatchObject({ alive: true, platform: 'linux', snmp_credential_id: ids.community, ssh_credential_id: null });
    expect(agent.snmp?.sys_name).toBe(snmpd.sysName);
    expect(agent.snmp?.sys_object_id).toMatch(/^1\.3\.6\.1\.4\.1\.8072\./);
    expect(hosts.get('127.77.0.5')).toMatchObject({ alive: false, state: 'missing', device_id: ids.gone });
    expect(hosts.get('127.77.0.3')).toMatchObject({ alive: false, state: 'absent', platform: null });
    // No secret of any credential tried reaches results, logs or the server log.
    const text = JSON.stringify([...hosts.values()]) + (await call('GET', `/jobs/runs/${scan.run_id}/logs?limit=1000`)).body + server.logs.text();
    for (const secret of [ios.password, 'Not-the-Pa55word', snmpd.community, 'not-the-community']) expect(text).not.toContain(secret);

    // Review: a dead host cannot be reviewed; the two routers accepted in bulk (one renamed), the agent rejected.
    const dead = await call('POST', `/discovery/scans/${scanId}/review`, { items: [{ address: '127.77.0.3', decision: 'accepted' }] });
    expect(dead.statusCode, dead.body).toBe(422);
    expect(dead.json().errors[0].path).toBe('body.items.0.address');
    const review = await call('POST', `/discovery/scans/${scanId}/review`, {
      items: [
        { address: R1, decision: 'accepted', edits: { name: 'edge-r1' } },
        { address: R2, decision: 'accepted' },
        { address: '127.0.0.1', decision: 'rejected' },
      ],
    });
    expect(review.json()).toEqual({ updated: 3 });
    const notAccepted = await call('POST', `/discovery/scans/${scanId}/onboard`, { addresses: ['127.0.0.1'] });
    expect(notAccepted.statusCode).toBe(422);

    const devicesBefore = (await call('GET', '/devices?limit=1000')).json().items.length as number;
    const dry = await call('POST', `/discovery/scans/${scanId}/onboard`, { dry_run: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json().devices.map((d: { address: string; action: string; name: string }) => [d.address, d.action, d.name])).toEqual([
      [R1, 'create', 'edge-r1'],
      [R2, 'update', 'R0-2'],
    ]);
    expect((await call('GET', '/devices?limit=1000')).json().items.length).toBe(devicesBefore);

    const done = await call('POST', `/discovery/scans/${scanId}/onboard`, {});
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ dry_run: false, links_created: 1 });
    const r1Id = done.json().devices[0].device_id as string;
    const created = (await call('GET', `/devices/${r1Id}?include=interfaces`)).json();
    expect(created).toMatchObject({ name: 'edge-r1', hostname: 'R0-1', primary_ip4: R1, serial: '9KLIE1234', os_version: '15.2(4)M7', source: 'discovery' });
    expect(created.interfaces.map((i: { name: string }) => i.name)).toContain('GigabitEthernet0/1');
    const updated = (await call('GET', `/devices/${ids.r2}`)).json();
    expect(updated).toMatchObject({ serial: '9KLIE1234', hostname: 'R0-2' });
    const links = (await call('GET', '/topology/links?limit=100')).json().items as { kind: string; a: any; b: any }[];
    expect(links).toHaveLength(1);
    expect(links[0]!.kind).toBe('lldp');
    // R0-2's neighbour R0-1 is now named edge-r1: the link comes from R0-1's side alone.
    expect([links[0]!.a.device.name, links[0]!.b.device.name].sort()).toEqual(['R0-2', 'edge-r1']);
    const after = await hostsOf(scanId);
    expect(after.get(R1)).toMatchObject({ decision: 'onboarded', device_id: r1Id, state: 'unchanged' });
    // One audit entry for the batch, and a device.discovered event per device.
    const audit = (await call('GET', '/audit?action=discovery_scan.onboarded&limit=10')).json();
    expect(audit.items).toHaveLength(1);
    await vi.waitFor(async () => {
      const events = (await call('GET', '/events/history?events=device.discovered&limit=1000')).json().items as {
        payload: { scan_id: string; device_id: string };
      }[];
      expect(
        events
          .filter((e) => e.payload.scan_id === scanId)
          .map((e) => e.payload.device_id)
          .sort(),
      ).toEqual([r1Id, ids.r2].sort());
    });

    // A second scan of the same range compares with the first.
    const again = (await call('POST', '/discovery/scans', { ...scanBody(), ssh_profile_ids: [], snmp_profile_ids: [] })).json().id as string;
    await finished(again);
    const second = await hostsOf(again);
    expect(second.get(R1)!.previous).toBe('same');
    expect(second.get('127.0.0.1')).toMatchObject({ alive: false, previous: 'disappeared' });
  });

  it('probes nothing the egress policy refuses: a loopback address outside allow_internal fails, not retried', async () => {
    const res = await call('POST', '/discovery/scans', { targets: ['127.66.0.1'], ports: [ios.port], timeout_ms: 300 });
    expect(res.statusCode, res.body).toBe(202);
    const scan = await finished(res.json().id);
    expect(scan.status).toBe('failed');
    const out = (await call('GET', `/jobs/runs/${scan.run_id}/output`)).json();
    expect(out.targets[0].error).toContain('egress policy');
    expect(scan.progress).toMatchObject({ probed: 1, alive: 0 });
  });

  it('cancels a running scan through its job run', async () => {
    const res = await call('POST', '/discovery/scans', { ...scanBody(), concurrency: 1, rate_per_second: 1 });
    const id = res.json().id as string;
    const cancelled = await call('POST', `/discovery/scans/${id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect((await finished(id)).status).toBe('cancelled');
  });
});
