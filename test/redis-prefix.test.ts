import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { adminToken, bearer, login } from './helpers/auth.js';
import { requireRedis, testRedisClient } from './helpers/redis.js';
import { createTestServer, type TestServer } from './helpers/server.js';

const prefix = (label: string) => `opsdeck-t-${label}-${randomBytes(4).toString('hex')}`;

// Two deployments on one Redis, each with its own database and OPSDECK_REDIS_PREFIX: nothing
// cached, published or counted in one reaches the other (a role of Y was once served to X).
describe('two deployments on one Redis (different OPSDECK_REDIS_PREFIX)', () => {
  let x: TestServer;
  let y: TestServer;
  beforeAll(async () => {
    await requireRedis();
    x = await createTestServer('postgres', { cluster: true, env: { OPSDECK_REDIS_PREFIX: prefix('x') } });
    y = await createTestServer('postgres', { cluster: true, env: { OPSDECK_REDIS_PREFIX: prefix('y') } });
  }, 60_000);
  afterAll(async () => {
    await x?.close();
    await y?.close();
  });
  beforeEach(() => requireRedis());

  it('does not serve a role cached by one deployment to the other', async () => {
    // The same role name with different permissions in each deployment.
    const make = async (s: TestServer, permissions: string[]) => {
      const admin = await adminToken(s);
      const role = await s.app.inject({ method: 'POST', url: '/api/v1/roles', headers: bearer(admin), payload: { name: 'prefix-probe', permissions } });
      expect(role.statusCode, role.body).toBe(201);
      const user = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: bearer(admin),
        payload: { username: 'probe-user', email: 'probe@example.com', password: 'Zq8!-long-enough-secret-77', roles: ['prefix-probe'] },
      });
      expect(user.statusCode, user.body).toBe(201);
      return (await login(s, 'probe-user', 'Zq8!-long-enough-secret-77')).access_token;
    };
    const tx = await make(x, ['account:read', 'devices:read']);
    const ty = await make(y, ['account:read', 'devices:read', 'devices:write']);
    const me = async (s: TestServer, t: string) =>
      ((await s.app.inject({ url: '/api/v1/auth/me', headers: bearer(t) })).json() as { permissions: string[] }).permissions;
    // X fills the role cache first; Y must still see its own role.
    expect(await me(x, tx)).toContain('devices:read');
    expect(await me(y, ty)).toEqual(expect.arrayContaining(['devices:read', 'devices:write']));
    expect(await me(x, tx)).not.toContain('devices:write');
  });

  it('puts the BullMQ queue under the prefix unless OPSDECK_JOBS_QUEUE says otherwise', () => {
    expect(x.config.jobsQueue).toBe(x.config.redisPrefix);
    expect(y.config.jobsQueue).toBe(y.config.redisPrefix);
    expect(x.config.jobsQueue).not.toBe(y.config.jobsQueue);
  });

  it('keeps rate-limit counters under the prefix', async () => {
    const token = await adminToken(x);
    expect((await x.app.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(200);
    const redis = testRedisClient();
    try {
      await redis.connect();
      const under = async (pattern: string) => {
        const found: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          found.push(...keys);
          cursor = next;
        } while (cursor !== '0');
        return found;
      };
      expect(await under(`${x.config.redisPrefix}:rl:*`)).not.toEqual([]);
      expect(await under(`${x.config.redisPrefix}:auth-rl:*`)).not.toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('keeps cache entries apart', async () => {
    await x.modules.cache.set('prefix-probe-key', 'from-x', { ttlMs: 60_000 });
    expect(await y.modules.cache.get('prefix-probe-key')).toBeUndefined();
    expect(await x.modules.cache.get('prefix-probe-key')).toBe('from-x');
  });

  it('does not deliver bus events across deployments', async () => {
    const seenByX: unknown[] = [];
    const seenByY: unknown[] = [];
    const offX = await x.modules.bus.subscribe('prefix.probe', (m) => void seenByX.push(m));
    const offY = await y.modules.bus.subscribe('prefix.probe', (m) => void seenByY.push(m));
    await y.modules.bus.publish('prefix.probe', { from: 'y' });
    await x.modules.bus.publish('prefix.probe', { from: 'x' });
    await vi.waitFor(() => expect(seenByX).toEqual([{ from: 'x' }]));
    await vi.waitFor(() => expect(seenByY).toEqual([{ from: 'y' }]));
    await offX();
    await offY();
  });
});
