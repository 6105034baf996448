import type { Kysely } from 'kysely';
import { describe, expect, it, beforeAll } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { countRows, useInventoryApi } from '../../../test/helpers/inventory.js';

describe.each(DIALECTS)('devices API on %s', (dialect) => {
  const api = useInventoryApi(dialect);
  let platformId = '';

  beforeAll(async () => {
    await api.create('/manufacturers', { name: 'Cisco' });
    platformId = (await api.create('/platforms', { name: 'ios', network_driver: 'cisco_ios', manufacturer: 'Cisco' })).id;
    await api.create('/device-roles', { name: 'core', color: 'FF0000' });
    await api.create('/tags', { name: 'edge' });
    await api.create('/tags', { name: 'pci' });
    const region = await api.create('/locations', { name: 'EU', location_type: 'region' });
    await api.create('/locations', { name: 'LON1', location_type: 'site', parent: region.id });
    await api.create('/device-types', { model: 'C9300-48P', manufacturer: 'Cisco' });
  });

  it('creates a device with references by name, normalises addresses and reads it back', async () => {
    const res = await api.post('/devices', {
      name: 'lon-core-1',
      hostname: 'lon-core-1.example.net',
      primary_ip4: '10.0.0.1/24',
      primary_ip6: '2001:DB8:0:0::1',
      platform: 'ios',
      role: 'core',
      location: 'LON1',
      device_type: 'C9300-48P',
      tags: ['edge', 'pci'],
      serial: 'FOC123',
    });
    expect(res.statusCode, res.body).toBe(201);
    const d = res.json();
    expect(d).toMatchObject({
      name: 'lon-core-1',
      primary_ip4: '10.0.0.1',
      primary_ip6: '2001:db8::1',
      platform: { id: platformId, name: 'ios', network_driver: 'cisco_ios' },
      role: { name: 'core' },
      location: { name: 'LON1' },
      status: { name: 'active' },
      device_type: { model: 'C9300-48P', manufacturer: { name: 'Cisco' } },
      tags: ['edge', 'pci'],
      source: 'manual',
    });
    const got = await api.get(`/devices/${d.id}`);
    expect(got.json()).toEqual(d);
  });

  it.each([
    [{ name: 'x1', primary_ip4: '10.0.0.300' }, 'body.primary_ip4', 422],
    [{ name: 'x2', primary_ip4: '2001:db8::1' }, 'body.primary_ip4', 422],
    [{ name: 'x3', platform: 'nope' }, 'body.platform', 422],
    [{ name: 'x4', tags: ['edge', 'missing'] }, 'body.tags.1', 422],
    [{ name: 'x5', hostname: 'bad host!' }, 'body.hostname', 400],
    [{ name: 'x6', colour: 'red' }, 'body.colour', 400],
    [{ name: 'taken-1' }, 'body.name', 409],
    [{ name: 'x7', credential_id: '0192f0a0-1111-7000-8000-000000000001' }, 'body.credential_id', 422],
  ])('rejects %j naming the field, writing nothing', async (body, path, status) => {
    // The name the duplicate case takes, made here so the case does not depend on test order.
    if ((await api.get('/devices?name=taken-1')).json().items.length === 0) expect((await api.post('/devices', { name: 'taken-1' })).statusCode).toBe(201);
    const before = await countRows(api.server(), 'devices');
    const res = await api.post('/devices', body);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(await countRows(api.server(), 'devices')).toBe(before);
  });

  it('updates, clears and deletes, recording domain events', async () => {
    const d = await api.create('/devices', { name: 'tmp-1', primary_ip4: '10.9.9.9', tags: ['edge'] });
    const up = await api.patch(`/devices/${d.id}`, { primary_ip4: null, tags: ['pci'], status: 'planned' });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toMatchObject({ primary_ip4: null, tags: ['pci'], status: { name: 'planned' } });
    expect((await api.del(`/devices/${d.id}`)).statusCode).toBe(204);
    expect((await api.get(`/devices/${d.id}`)).statusCode).toBe(404);
    const db = api.server().modules.database.db as unknown as Kysely<any>;
    const events = await db.selectFrom('domain_events').select(['name', 'payload']).where('name', 'like', 'device.%').execute();
    const names = events.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['device.created', 'device.updated', 'device.deleted']));
    const audit = await db.selectFrom('audit_log').select(['action', 'resource_id']).where('resource_id', '=', d.id).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['device.created', 'device.deleted', 'device.updated']);
  });
});
