import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { countRows, useInventoryApi } from '../../../test/helpers/inventory.js';

describe.each(DIALECTS)('groups, targets, topology, import/export and Ansible on %s', (dialect) => {
  const api = useInventoryApi(dialect);
  const dev: Record<string, string> = {};
  let credentialId = '';

  beforeAll(async () => {
    await api.create('/platforms', { name: 'ios', network_driver: 'cisco_ios' });
    await api.create('/platforms', { name: 'junos', network_driver: 'juniper_junos' });
    await api.create('/device-roles', { name: 'core' });
    await api.create('/device-roles', { name: 'access' });
    await api.create('/tags', { name: 'pci' });
    await api.create('/locations', { name: 'EMEA', location_type: 'region' });
    await api.create('/locations', { name: 'Paris-1', parent: 'EMEA' });
    await api.create('/locations', { name: 'Berlin-1', parent: 'EMEA' });
    await api.create('/custom-fields', { object_type: 'device', name: 'rack', type: 'string' });
    credentialId = (await api.create('/credentials', { name: 'par-core-login', type: 'ssh', username: 'netops', password: 'Par-core-1-secret' })).id as string;
    for (const [name, extra] of [
      [
        'par-core-1',
        {
          platform: 'ios',
          role: 'core',
          location: 'Paris-1',
          primary_ip4: '10.1.0.1',
          tags: ['pci'],
          credential_id: credentialId,
          custom_fields: { rack: 'R1' },
        },
      ],
      ['par-acc-1', { platform: 'junos', role: 'access', location: 'Paris-1', hostname: 'par-acc-1.example.net' }],
      ['ber-core-1', { platform: 'ios', role: 'core', location: 'Berlin-1', primary_ip6: '2001:db8::9' }],
      ['lab-1', {}],
    ] as const) {
      dev[name] = (await api.create('/devices', { name, ...extra })).id;
    }
  });
  // Tests run in any order: none changes the devices above; each adds its own groups, devices and locations.

  it('resolves static and dynamic groups, and job targets', async () => {
    const core = await api.create('/device-groups', { name: 'core routers', kind: 'dynamic', filter: { role: ['core'] } });
    const stat = await api.create('/device-groups', { name: 'maintenance', devices: ['lab-1', dev['par-acc-1']] });
    const bad = await api.post('/device-groups', { name: 'x', kind: 'dynamic', filter: { colour: ['red'] } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('body.filter.colour');
    const members = (id: string) => api.get(`/device-groups/${id}/devices`).then((r) => r.json().items.map((d: { name: string }) => d.name));
    expect(await members(core.id)).toEqual(['ber-core-1', 'par-core-1']);
    expect(await members(stat.id)).toEqual(['lab-1', 'par-acc-1']);

    const selectors = api.server().modules.inventory.targetSelectors;
    const targets = await selectors.resolve(SYSTEM_ACTOR, [
      { group: core.id },
      { device_id: dev['par-acc-1']! },
      { filter: { name: ['lab-1', 'par-core-1'] } },
    ]);
    const none = { credentialProfileId: null, locationProfileId: null, groupProfileId: null };
    expect(targets).toEqual([
      {
        deviceId: dev['ber-core-1'],
        name: 'ber-core-1',
        host: '2001:db8::9',
        platform: 'ios',
        networkDriver: 'cisco_ios',
        credentialId: null,
        ...none,
        selector: `group:${core.id}`,
      },
      {
        deviceId: dev['par-core-1'],
        name: 'par-core-1',
        host: '10.1.0.1',
        platform: 'ios',
        networkDriver: 'cisco_ios',
        credentialId,
        ...none,
        selector: `group:${core.id}`,
      },
      {
        deviceId: dev['par-acc-1'],
        name: 'par-acc-1',
        host: 'par-acc-1.example.net',
        platform: 'junos',
        networkDriver: 'juniper_junos',
        credentialId: null,
        ...none,
        selector: `device_id:${dev['par-acc-1']}`,
      },
      {
        deviceId: dev['lab-1'],
        name: 'lab-1',
        host: null,
        platform: null,
        networkDriver: null,
        credentialId: null,
        ...none,
        selector: 'filter:{"name":["lab-1","par-core-1"]}',
      },
    ]);
    expect((await selectors.resolve(SYSTEM_ACTOR, [{ group: 'maintenance' }])).map((t) => t.name)).toEqual(['lab-1', 'par-acc-1']);
    // Other tests may add devices under EMEA (the import test's location is in it): those of beforeAll are there, lab-1 (no location) is not.
    const emea = (await selectors.resolve(SYSTEM_ACTOR, [{ location: 'EMEA' }])).map((t) => t.name);
    expect(emea).toEqual(expect.arrayContaining(['ber-core-1', 'par-acc-1', 'par-core-1']));
    expect(emea).not.toContain('lab-1');
    expect(
      await selectors.check(
        SYSTEM_ACTOR,
        [
          { index: 0, selector: { device_id: '0192f0a0-9999-7000-8000-000000000000' } },
          { index: 1, selector: { tag: 'pci' } },
          { index: 2, selector: { filter: { colour: 'red' } } },
        ],
        'body.targets',
      ),
    ).toEqual([
      { path: 'body.targets.0.device_id', message: "no device '0192f0a0-9999-7000-8000-000000000000'" },
      { path: 'body.targets.2.filter.colour', message: 'is not a device filter' },
    ]);
    const noRights = { ...SYSTEM_ACTOR, kind: 'user' as const, permissions: new Set<string>() };
    await expect(selectors.resolve(noRights, [{ group: core.id }])).rejects.toMatchObject({ status: 403 });
  });

  it('builds the topology graph of a location subtree, neighbours marked external', async () => {
    const a = await api.create('/interfaces', { device: 'par-core-1', name: 'Gi0/1' });
    const b = await api.create('/interfaces', { device: 'ber-core-1', name: 'Gi0/2' });
    const c = await api.create('/interfaces', { device: 'par-acc-1', name: 'ge-0/0/0' });
    const d = await api.create('/interfaces', { device: 'par-core-1', name: 'Gi0/3' });
    const wan = await api.create('/topology/links', { a_interface: a.id, b_interface: b.id, kind: 'lldp' });
    await api.create('/topology/links', { a_interface: c.id, b_interface: d.id });
    expect((await api.post('/topology/links', { a_interface: b.id, b_interface: a.id })).statusCode).toBe(409);
    expect((await api.post('/topology/links', { a_interface: a.id, b_interface: a.id })).json().errors[0].path).toBe('body.b_interface');
    const g = (await api.get('/topology?location=Paris-1')).json();
    expect(g.nodes.map((n: { name: string; external: boolean }) => [n.name, n.external])).toEqual([
      ['ber-core-1', true],
      ['par-acc-1', false],
      ['par-core-1', false],
    ]);
    expect(g.edges).toHaveLength(2);
    const edge = g.edges.find((e: { id: string }) => e.id === wan.id);
    expect(new Set([edge.source, edge.target])).toEqual(new Set([dev['par-core-1'], dev['ber-core-1']]));
    expect((await api.get('/topology?location=EMEA')).json().nodes.every((n: { external: boolean }) => !n.external)).toBe(true);
    expect((await api.get('/topology?location=Nowhere')).statusCode).toBe(404);
  });

  it('imports CSV all or nothing with a dry-run report, and round-trips exports', async () => {
    await api.create('/locations', { name: 'Madrid-1', parent: 'EMEA' });
    await api.create('/device-roles', { name: 'imported' });
    await api.create('/tags', { name: 'migrated' });
    const old = await api.create('/devices', { name: 'imp-old', platform: 'ios', role: 'access', location: 'Madrid-1' });
    const csv = [
      'name,platform,role,location,tags,cf_rack,primary_ip4',
      'imp-1,ios,imported,Madrid-1,migrated,R9,10.5.0.1',
      'imp-old,ios,imported,Madrid-1,,R2,',
      'imp-2,ios,,,,,',
    ].join('\n');
    const csvHeaders = { 'content-type': 'text/csv' };
    const dry = await api.post('/devices/import?dry_run=true', csv, csvHeaders);
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dry_run: true, total: 3, created: 2, updated: 1, errors: [] });
    expect(dry.json().changes.map((c: { row: number; action: string }) => [c.row, c.action])).toEqual([
      [1, 'create'],
      [2, 'update'],
      [3, 'create'],
    ]);
    expect((await api.get('/devices?name=imp-1')).json().items).toEqual([]);

    const before = await countRows(api.server(), 'devices');
    const broken = `${csv}\nimp-3,nosuch,,,,,10.5.0.999\nimp-1,ios,,,,,`;
    const failed = await api.post('/devices/import', broken, csvHeaders);
    expect(failed.statusCode).toBe(422);
    expect(
      failed
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['rows.4.platform', 'rows.4.primary_ip4', 'rows.5.name']);
    expect(await countRows(api.server(), 'devices')).toBe(before);

    const real = await api.post('/devices/import', csv, csvHeaders);
    expect(real.json()).toMatchObject({ dry_run: false, created: 2, updated: 1 });
    expect((await api.get('/devices?name=imp-1')).json().items[0]).toMatchObject({
      role: { name: 'imported' },
      tags: ['migrated'],
      custom_fields: { rack: 'R9' },
      primary_ip4: '10.5.0.1',
    });
    expect((await api.get(`/devices/${old.id}`)).json()).toMatchObject({ role: { name: 'imported' }, custom_fields: { rack: 'R2' } });

    const exported = await api.get('/devices/export?format=csv&location=Madrid-1');
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toContain('text/csv');
    const lines = exported.body.trim().split('\n');
    expect(lines[0]).toBe(
      'id,name,hostname,primary_ip4,primary_ip6,platform,role,location,status,device_type,serial,asset_tag,os_version,credential_id,credential_profile_id,comments,tags,source,external_id,cf_rack',
    );
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['imp-1', 'imp-old']);
    // Re-importing an export changes nothing but updates in place.
    const again = await api.post('/devices/import?dry_run=true', exported.body, csvHeaders);
    expect(again.json()).toMatchObject({ created: 0, updated: 2, errors: [] });

    const json = await api.get('/devices/export?format=json&role=imported');
    expect(json.json().map((d: { name: string }) => d.name)).toEqual(['imp-1', 'imp-old']);
    const nd = await api.post('/locations/import', '{"name":"Lyon-1","parent":"EMEA"}\n{"name":"Lyon-1-R1","parent":"Lyon-1","location_type":"room"}\n', {
      'content-type': 'application/x-ndjson',
    });
    expect(nd.statusCode, nd.body).toBe(200);
    expect((await api.get('/locations?parent=Lyon-1')).json().items.map((l: { name: string }) => l.name)).toEqual(['Lyon-1-R1']);
    const arr = await api.post('/locations/import', [{ name: 'Rome-1', location_type: 'bad type!' }]);
    expect(arr.statusCode).toBe(422);
    expect(arr.json().errors[0].path).toBe('rows.1.location_type');
    expect((await api.post('/devices/import', 'name,colour\nx,red', csvHeaders)).json().errors[0].path).toBe('rows.1.colour');
  });

  it('serves an inventory the real ansible-inventory accepts', async () => {
    await api.create('/device-groups', { name: 'edge-pci', kind: 'dynamic', filter: { tag: ['pci'] } });
    await api.create('/device-groups', { name: 'lab-static', devices: ['lab-1', dev['par-acc-1']] });
    const res = await api.get('/inventory/ansible');
    expect(res.statusCode, res.body).toBe(200);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-ansible-'));
    try {
      fs.writeFileSync(path.join(dir, 'inventory.json'), res.body);
      const script = path.join(dir, 'opsdeck_inventory.py');
      // A dynamic inventory script, as users would point at the URL: here it prints what the API served.
      fs.writeFileSync(
        script,
        `#!/usr/bin/env python3\nimport sys\nif '--host' in sys.argv:\n    print('{}')\nelse:\n    print(open(${JSON.stringify(path.join(dir, 'inventory.json'))}).read())\n`,
        { mode: 0o755 },
      );
      const out = execFileSync('ansible-inventory', ['-i', script, '--list'], {
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_LOCAL_TEMP: dir, ANSIBLE_HOME: dir },
        timeout: 60_000,
      });
      const inv = JSON.parse(out) as Record<string, { hosts?: string[]; children?: string[] }> & {
        _meta: { hostvars: Record<string, Record<string, unknown>> };
      };
      expect(inv.role_core!.hosts!.sort()).toEqual(['ber-core-1', 'par-core-1']);
      expect(inv.platform_junos!.hosts).toEqual(['par-acc-1']);
      expect(inv.tag_pci!.hosts!.sort()).toEqual(['par-core-1']);
      expect(inv.group_edge_pci!.hosts).toEqual(['par-core-1']);
      // Lyon-1 and Madrid-1 exist when the import test ran first.
      expect(inv.location_emea!.children!.sort()).toEqual(
        ['location_berlin_1', 'location_lyon_1', 'location_madrid_1', 'location_paris_1'].filter((g) => inv[g]),
      );
      expect(inv.location_paris_1!.hosts!.sort()).toEqual(['par-acc-1', 'par-core-1']);
      expect(inv.all!.children).toEqual(expect.arrayContaining(['location_emea', 'role_core', 'group_lab_static']));
      // lab-1 has no location, role, platform or tag: only its static group holds it.
      expect(inv.group_lab_static!.hosts).toEqual(['lab-1', 'par-acc-1']);
      expect(inv._meta.hostvars['lab-1']).toMatchObject({ ansible_host: 'lab-1' });
      expect(inv._meta.hostvars['par-core-1']).toMatchObject({ ansible_host: '10.1.0.1', ansible_network_os: 'cisco.ios.ios', custom_fields: { rack: 'R1' } });
      expect(inv._meta.hostvars['par-acc-1']).toMatchObject({ ansible_host: 'par-acc-1.example.net', ansible_network_os: 'junipernetworks.junos.junos' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
