import { describe, expect, it, beforeAll } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { bearer, loginAs } from '../../../test/helpers/auth.js';
import { countRows, useInventoryApi } from '../../../test/helpers/inventory.js';

const names = (res: { json(): { items: { name: string }[] } }) => res.json().items.map((d) => d.name);

describe.each(DIALECTS)('inventory lists, rules and bulk on %s', (dialect) => {
  const api = useInventoryApi(dialect);
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await api.create('/platforms', { name: 'eos', network_driver: 'arista_eos' });
    await api.create('/platforms', { name: 'junos', network_driver: 'juniper_junos' });
    await api.create('/tags', { name: 'core' });
    await api.create('/custom-fields', { object_type: 'device', name: 'rack_units', type: 'integer', validation: { min: 1, max: 60 } });
    await api.create('/custom-fields', { object_type: 'device', name: 'tier', type: 'select', default: 'gold', validation: { choices: ['gold', 'silver'] } });
    const items = Array.from({ length: 12 }, (_, i) => ({
      name: `sw-${String(i).padStart(2, '0')}`,
      platform: i % 2 ? 'eos' : 'junos',
      status: i % 3 ? 'active' : 'planned',
      ...(i % 4 === 0 ? { tags: ['core'] } : {}),
      ...(i < 6 ? { primary_ip4: `192.0.2.${i + 1}` } : {}),
      custom_fields: { rack_units: i + 1 },
    }));
    const res = await api.post('/devices/bulk', { items });
    expect(res.statusCode, res.body).toBe(201);
    for (const d of res.json().items) ids[d.name] = d.id;
    const eth = await api.create('/interfaces', { device: 'sw-00', name: 'Ethernet1', mac_address: '00-11-22-AA-BB-CC' });
    await api.create('/ip-addresses', { address: '198.51.100.1/24', interface: eth.id });
  });
  // Tests run in any order: they only read the sw-* devices above (sw-00's custom fields aside),
  // and a test that adds or removes devices or interfaces does so on its own.

  it.each<[string, string[]]>([
    ['name__ic=SW-0', ['sw-00', 'sw-01', 'sw-02', 'sw-03', 'sw-04', 'sw-05', 'sw-06', 'sw-07', 'sw-08', 'sw-09']],
    ['platform=eos&status=planned', ['sw-03', 'sw-09']],
    ['name=sw-01&name=sw-02', ['sw-01', 'sw-02']],
    ['status__n=active&platform__n=eos', ['sw-00', 'sw-06']],
    ['tag=core', ['sw-00', 'sw-04', 'sw-08']],
    ['tag__n=core&name__isw=sw-0', ['sw-01', 'sw-02', 'sw-03', 'sw-05', 'sw-06', 'sw-07', 'sw-09']],
    ['primary_ip4__isnull=true', ['sw-06', 'sw-07', 'sw-08', 'sw-09', 'sw-10', 'sw-11']],
    ['cf_rack_units=12', ['sw-11']],
    ['cf_tier=gold&name__iew=1', ['sw-01', 'sw-11']],
    ['q=192.0.2.3', ['sw-02']],
    ['network_driver=arista_eos&name__n=sw-01', ['sw-03', 'sw-05', 'sw-07', 'sw-09', 'sw-11']],
  ])('filters ?%s', async (query, expected) => {
    const res = await api.get(`/devices?${query}&limit=100`);
    expect(res.statusCode, res.body).toBe(200);
    expect(names(res)).toEqual(expected);
  });

  it('walks every device once with a cursor, in the requested order', async () => {
    const seen: string[] = [];
    let url = '/devices?limit=5&sort=-name';
    for (let i = 0; i < 10; i++) {
      const page = (await api.get(url)).json();
      seen.push(...page.items.map((d: { name: string }) => d.name));
      if (!page.next_cursor) break;
      url = `/devices?limit=5&sort=-name&cursor=${page.next_cursor}`;
    }
    expect(seen).toEqual(Object.keys(ids).sort().reverse());
  });

  it('selects fields and embeds interfaces and addresses per page', async () => {
    const res = await api.get('/devices?name=sw-00&name=sw-01&fields=name,tags&include=interfaces,ip_addresses');
    expect(res.statusCode, res.body).toBe(200);
    const [a, b] = res.json().items;
    expect(Object.keys(a).sort()).toEqual(['id', 'interfaces', 'ip_addresses', 'name', 'tags']);
    expect(a.interfaces).toMatchObject([{ name: 'Ethernet1', mac_address: '00:11:22:aa:bb:cc' }]);
    expect(a.ip_addresses).toMatchObject([{ address: '198.51.100.1/24', interface: { name: 'Ethernet1', device: { name: 'sw-00' } } }]);
    expect(b.interfaces).toEqual([]);
    expect(a.tags).toEqual(['core']);
  });

  it.each([
    ['/devices?fields=name,secret', 'query.fields'],
    ['/devices?include=configs', 'query.include'],
    ['/devices?sort=colour', 'query.sort'],
    ['/devices?frobnicate=1', 'query.frobnicate'],
    ['/devices?created_at__gte=yesterday', 'query.created_at__gte'],
    ['/devices?cursor=garbage', 'query.cursor'],
  ])('rejects %s with 400 naming %s', async (url, path) => {
    const res = await api.get(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('validates custom fields by type and applies defaults', async () => {
    const bad = await api.post('/devices', { name: 'cf-bad', custom_fields: { rack_units: 'two', tier: 'bronze', nope: 1 } });
    expect(bad.statusCode).toBe(422);
    expect(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['body.custom_fields.nope', 'body.custom_fields.rack_units', 'body.custom_fields.tier']);
    const range = await api.patch(`/devices/${ids['sw-00']}`, { custom_fields: { rack_units: 99 } });
    expect(range.statusCode).toBe(422);
    expect(range.json().errors[0].path).toBe('body.custom_fields.rack_units');
    expect((await api.get(`/devices/${ids['sw-00']}`)).json().custom_fields).toEqual({ rack_units: 1, tier: 'gold' });
    const ok = await api.patch(`/devices/${ids['sw-00']}`, { custom_fields: { tier: 'silver' } });
    expect(ok.json().custom_fields).toEqual({ rack_units: 1, tier: 'silver' });
    const def = await api.post('/custom-fields', { object_type: 'device', name: 'bad_default', type: 'integer', default: 'x' });
    expect(def.statusCode).toBe(422);
    expect(def.json().errors[0].path).toBe('body.default');
  });

  it('checks user-written validation regexes in linear time, and refuses what RE2 cannot run', async () => {
    await api.create('/custom-fields', { object_type: 'device', name: 'asset_code', type: 'string', validation: { regex: '^(a+)+$' } });
    // A backtracking engine takes exponential time here (2.8 s at 30 characters, ×4 per two more): 60 would never end.
    const evil = await api.patch(`/devices/${ids['sw-01']}`, { custom_fields: { asset_code: `${'a'.repeat(60)}!` } });
    expect(evil.statusCode).toBe(422);
    expect(evil.json().errors[0].path).toBe('body.custom_fields.asset_code');
    expect((await api.patch(`/devices/${ids['sw-01']}`, { custom_fields: { asset_code: 'aaaa' } })).statusCode).toBe(200);
    for (const regex of ['(a)\\1', '(?=a)b', '(?<!x)y']) {
      const bad = await api.post('/custom-fields', { object_type: 'device', name: `re2_${regex.length}`, type: 'string', validation: { regex } });
      expect(bad.statusCode, regex).toBe(422);
      expect(bad.json().errors[0].path).toBe('body.validation.regex');
    }
  });

  it('refuses location cycles and deleting locations in use', async () => {
    const region = await api.create('/locations', { name: 'AMER', location_type: 'region' });
    const site = await api.create('/locations', { name: 'NYC1', parent: 'AMER' });
    const room = await api.create('/locations', { name: 'NYC1-R1', location_type: 'room', parent: site.id });
    for (const parent of [room.id, region.id]) {
      const res = await api.patch(`/locations/${region.id}`, { parent });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors[0].path).toBe('body.parent');
    }
    expect((await api.get(`/locations/${region.id}`)).json().parent).toBeNull();
    expect((await api.del(`/locations/${site.id}`)).statusCode).toBe(409);
    expect((await api.get('/locations?parent=NYC1')).json().items.map((l: { name: string }) => l.name)).toEqual(['NYC1-R1']);
  });

  it('keeps addresses unique per namespace and reports who uses one', async () => {
    const bad = await api.post('/ip-addresses', { address: '10.1.1.1/33' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('body.address');
    await api.create('/ip-addresses', { address: '10.20.0.1/24' });
    const dup = await api.post('/ip-addresses', { address: '10.20.0.1/16' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].path).toBe('body.address');
    expect((await api.post('/ip-addresses', { address: '10.20.0.1/24', namespace: 'vrf-blue' })).statusCode).toBe(201);
    const used = (await api.post('/ip-addresses/check', { address: '198.51.100.1' })).json();
    expect(used).toMatchObject({ in_use: true, used_by: [{ kind: 'ip_address', device: { name: 'sw-00' }, interface: { name: 'Ethernet1' } }] });
    const primary = (await api.post('/ip-addresses/check', { address: '192.0.2.2' })).json();
    expect(primary).toMatchObject({ in_use: true, used_by: [{ kind: 'primary_ip', device: { name: 'sw-01' } }] });
    expect((await api.post('/ip-addresses/check', { address: '203.0.113.9' })).json()).toEqual({ address: '203.0.113.9', in_use: false, used_by: [] });
    expect((await api.post('/ip-addresses/check', { address: 'not-an-ip' })).statusCode).toBe(400);
  });

  it('enforces interface rules: unique per device, LAG of type lag on the same device', async () => {
    expect((await api.post('/interfaces', { device: 'sw-00', name: 'Ethernet1' })).statusCode).toBe(409);
    const po = await api.create('/interfaces', { device: 'sw-05', name: 'Po1', type: 'lag' });
    const eth = await api.create('/interfaces', { device: 'sw-05', name: 'Ethernet2' });
    const wrongDevice = await api.post('/interfaces', { device: 'sw-06', name: 'Ethernet1', lag: po.id });
    expect(wrongDevice.json().errors[0].path).toBe('body.lag');
    const notLag = await api.post('/interfaces', { device: 'sw-05', name: 'Ethernet3', lag: eth.id });
    expect(notLag.json().errors[0].path).toBe('body.lag');
    expect((await api.patch(`/interfaces/${eth.id}`, { lag: po.id })).json().lag).toEqual({ id: po.id, name: 'Po1' });
  });

  it('applies bulk changes all or nothing, naming the failing rows', async () => {
    const before = await countRows(api.server(), 'devices');
    const res = await api.post('/devices/bulk', { items: [{ name: 'b-1' }, { name: 'b-2', primary_ip4: 'x' }, { name: 'b-1' }] });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['body.items.1.primary_ip4', 'body.items.2.name']);
    expect(await countRows(api.server(), 'devices')).toBe(before);
    const created = await api.post('/devices/bulk', { items: [{ name: 'bulk-10' }, { name: 'bulk-11' }] });
    expect(created.statusCode, created.body).toBe(201);
    const [ten, eleven] = created.json().items.map((d: { id: string }) => d.id);
    const upd = await api.patch('/devices/bulk', {
      items: [
        { id: ten, serial: 'S10' },
        { id: eleven, status: 'nope' },
      ],
    });
    expect(upd.statusCode).toBe(422);
    expect((await api.get(`/devices/${ten}`)).json().serial).toBeNull();
    const ok = await api.patch('/devices/bulk', {
      items: [
        { id: ten, serial: 'S10' },
        { id: eleven, serial: 'S11' },
      ],
    });
    expect(ok.json().items.map((d: { serial: string }) => d.serial)).toEqual(['S10', 'S11']);
    expect((await api.del('/devices/bulk', { ids: [ten, eleven] })).statusCode).toBe(204);
    expect(await countRows(api.server(), 'devices')).toBe(before);
  });

  it('lets a viewer read but not write', async () => {
    const viewer = await loginAs(api.server(), 'viewer');
    const app = api.server().app;
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices', headers: bearer(viewer.token) })).statusCode).toBe(200);
    const res = await app.inject({ method: 'POST', url: '/api/v1/devices', headers: bearer(viewer.token), payload: { name: 'nope' } });
    expect(res.statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices' })).statusCode).toBe(401);
  });
});
