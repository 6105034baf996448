import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEgressPolicy, createOwnListeners } from '../../platform/egress/index.js';
import { createMemoryCache } from '../../platform/cache/index.js';
import { AppError } from '../../platform/errors.js';
import { startSotFake, type SotFake } from '../../../test/fakes/sot-fake.js';
import { createSotClient, type SotClientOptions } from './sot-client.js';

const egress = createEgressPolicy({ allow: [], deny: [], allowInternal: ['127.0.0.1/32'], privateRanges: 'allow', listeners: createOwnListeners([]) });

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe.each(['nautobot', 'netbox'] as const)('SoT client against the %s contract fake', (dialect) => {
  let fake: SotFake;
  const slept: number[] = [];
  const client = (extra: Partial<SotClientOptions> = {}) =>
    createSotClient({
      system: dialect,
      baseUrl: fake.url,
      token: fake.token,
      timeoutMs: 5000,
      verifyTls: true,
      caCert: null,
      egress,
      sleep: async (ms) => void slept.push(ms),
      ...extra,
    });
  const site = dialect === 'nautobot' ? 'dcim/locations' : 'dcim/sites';

  beforeAll(async () => {
    fake = await startSotFake(dialect);
    const loc = fake.add(site, { name: 'DC1' });
    for (let i = 0; i < 10_050; i++) {
      fake.add('dcim/devices', { name: `sw-${String(i).padStart(5, '0')}`, [dialect === 'nautobot' ? 'location' : 'site']: { id: loc.id } });
    }
  });
  afterAll(() => fake.close());
  afterEach(() => {
    expect(fake.violations).toEqual([]);
    fake.requests.length = 0;
    slept.length = 0;
  });

  it('lists more than 10,000 objects by following the envelope’s next links', async () => {
    const devices = await client().all<{ name: string }>('/api/dcim/devices/');
    expect(devices).toHaveLength(10_050);
    expect(new Set(devices.map((d) => d.name)).size).toBe(10_050);
    expect(fake.requests.map((r) => r.query.offset?.[0] ?? '0')).toEqual([
      '0',
      '1000',
      '2000',
      '3000',
      '4000',
      '5000',
      '6000',
      '7000',
      '8000',
      '9000',
      '10000',
    ]);
    expect(fake.requests.every((r) => r.query.limit?.[0] === '1000')).toBe(true);
  });

  it('backs off on 429 as Retry-After says, then succeeds; gives up with INTEGRATION_THROTTLED', async () => {
    fake.inject('GET', '/api/dcim/platforms/', [
      { status: 429, body: { detail: 'Request was throttled. Expected available in 2 seconds.' }, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'retry-after': '3' } },
    ]);
    expect(await client().all('/api/dcim/platforms/')).toEqual([]);
    expect(slept).toEqual([2000, 3000]);
    expect(fake.requests).toHaveLength(3);
    slept.length = 0;
    fake.inject(
      'GET',
      '/api/dcim/platforms/',
      Array.from({ length: 3 }, () => ({ status: 429 })),
    );
    const err = await failure(client({ retries: 2, backoffMs: 100 }).all('/api/dcim/platforms/'));
    expect(err.code).toBe('INTEGRATION_THROTTLED');
    expect(slept).toEqual([100, 200]);
  });

  it('retries a GET on 502 but never repeats a POST the server may have applied (500)', async () => {
    fake.inject('GET', '/api/dcim/platforms/', [{ status: 502, body: { detail: 'Bad gateway' } }]);
    await client().all('/api/dcim/platforms/');
    expect(fake.requests).toHaveLength(2);
    fake.requests.length = 0;
    fake.inject('POST', '/api/dcim/interfaces/', [{ status: 500, body: { detail: 'Server Error' } }]);
    const body =
      dialect === 'nautobot'
        ? { name: 'Gi0/0', type: 'other', status: { id: '0192f0a0-0000-7000-8000-000000000001' } }
        : { device: 1, name: 'Gi0/0', type: 'other' };
    const err = await failure(client().create('/api/dcim/interfaces/', body));
    expect(err.code).toBe('INTEGRATION_UPSTREAM_ERROR');
    expect(fake.requests).toHaveLength(1);
  });

  it('times out an answer slower than the connection timeout', async () => {
    fake.delayMs = 400;
    try {
      const err = await failure(client({ timeoutMs: 100, retries: 0 }).get('/api/status/'));
      expect(err.code).toBe('INTEGRATION_UNREACHABLE');
    } finally {
      fake.delayMs = 0;
    }
  });

  it('reports a refused token without echoing it, and a DRF field error as a 422 naming the field', async () => {
    const err = await failure(client({ token: 'wrong-token-123' }).get('/api/status/'));
    expect(err.code).toBe('INTEGRATION_AUTH_FAILED');
    expect(err.message).not.toContain('wrong-token-123');
    const bad =
      dialect === 'nautobot'
        ? {
            name: 'x',
            device_type: { id: crypto.randomUUID() },
            role: { id: crypto.randomUUID() },
            status: { id: crypto.randomUUID() },
            location: { id: crypto.randomUUID() },
          }
        : { name: 'x', device_type: 1, role: 999, site: 999 };
    const rejected = await failure(client().create('/api/dcim/devices/', bad));
    expect(rejected).toMatchObject({ status: 422, code: 'INTEGRATION_REJECTED' });
    expect(rejected.message).toMatch(/role: Related object not found/);
  });

  it('reads reference data through the cache per object kind and drops that kind on a write to it', async () => {
    const c = client({ cache: createMemoryCache({}), cacheTtlMs: 60_000 });
    await c.cachedAll('/api/dcim/platforms/');
    const before = await c.cachedAll<unknown>('/api/dcim/interfaces/');
    await c.cachedAll('/api/dcim/interfaces/');
    expect(fake.requests).toHaveLength(2);
    const body =
      dialect === 'nautobot'
        ? { name: 'lo0', type: 'virtual', status: { id: fake.add('extras/statuses', { name: 'Active' }).id } }
        : { device: fake.all('dcim/devices')[0]!.id, name: 'lo0', type: 'virtual' };
    await c.create('/api/dcim/interfaces/', body);
    fake.requests.length = 0;
    expect(await c.cachedAll('/api/dcim/interfaces/')).toHaveLength(before.length + 1);
    await c.cachedAll('/api/dcim/platforms/');
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/dcim/interfaces/']);
  });

  it('has the fake refuse a request outside the published contract (the check can fail)', async () => {
    const err = await failure(client().all('/api/dcim/devices/', { colour: 'red' }));
    expect(err.code).toBe('INTEGRATION_REJECTED');
    expect(fake.violations).toEqual([expect.stringContaining('must NOT have additional properties')]);
    fake.violations.length = 0;
  });
});

describe('Nautobot GraphQL through the client', () => {
  it('answers data, and GraphQL errors as INTEGRATION_GRAPHQL_ERROR', async () => {
    const fake = await startSotFake('nautobot');
    try {
      const c = createSotClient({ system: 'nautobot', baseUrl: fake.url, token: fake.token, timeoutMs: 5000, verifyTls: true, caCert: null, egress });
      const loc = fake.add('dcim/locations', { name: 'DC1' });
      const ip = fake.add('ipam/ip-addresses', { address: '192.0.2.10/24' });
      fake.add('dcim/devices', { name: 'r1', location: { id: loc.id }, primary_ip4: { id: ip.id } });
      const data = await c.graphql<{ devices: unknown[] }>(
        'query ($name: [String]) { devices(name: $name) { id name primary_ip4 { address } location { name } platform { name } } }',
        { name: ['r1'] },
      );
      expect(data.devices).toEqual([
        { id: expect.any(String), name: 'r1', primary_ip4: { address: '192.0.2.10/24' }, location: { name: 'DC1' }, platform: null },
      ]);
      const err = await failure(c.graphql('{ widgets { id } }'));
      expect(err.code).toBe('INTEGRATION_GRAPHQL_ERROR');
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});
