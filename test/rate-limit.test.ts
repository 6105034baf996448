import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, login, loginAs } from './helpers/auth.js';
import { DIALECTS } from './helpers/db.js';
import { requireRedis } from './helpers/redis.js';
import { createTestServer, TEST_ADMIN_PASSWORD, useTestServer, type TestServer } from './helpers/server.js';

type Inject = TestServer['app']['inject'];
const me = (s: Pick<TestServer, 'app'>, token: string) => s.app.inject({ url: '/api/v1/auth/me', headers: bearer(token) }) as ReturnType<Inject>;

// Sign-in: 3 a minute per IP; everything authenticated: 8 a minute per principal.
const LIMITS = { OPSDECK_AUTH_RATE_LIMIT: '3', OPSDECK_RATE_LIMIT_PER_MINUTE: '8' };

describe.each(DIALECTS)('the per-principal limit (%s)', (dialect) => {
  const server = useTestServer(dialect, { env: LIMITS });

  it('limits each principal on authenticated routes, not by the login limit, with RateLimit headers and a 429 problem', async () => {
    const admin = (await login(server(), 'admin', TEST_ADMIN_PASSWORD)).access_token; // IP: 1 of 3
    const other = await loginAs(server(), 'viewer', admin); // admin: 1 of 8; IP: 2 of 3
    for (let i = 2; i <= 8; i += 1) {
      const res = await me(server(), admin);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('8');
      expect(res.headers['ratelimit-remaining']).toBe(String(8 - i));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    const over = await me(server(), admin);
    expect(over.statusCode).toBe(429);
    expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(over.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.headers['ratelimit-remaining']).toBe('0');
    // Another principal has its own budget.
    expect((await me(server(), other.token)).statusCode).toBe(200);
    // /auth/verify is public and counts against neither limit.
    for (let i = 0; i < 5; i += 1) expect((await server().app.inject({ url: '/api/v1/auth/verify', headers: bearer(other.token) })).statusCode).toBe(200);
  });
});

describe.each(DIALECTS)('the per-IP limit of login and refresh (%s)', (dialect) => {
  const server = useTestServer(dialect, { env: LIMITS });

  it('allows 3 a minute from one address each, with RateLimit headers, then 429', async () => {
    for (const [url, payload, ok] of [
      ['/api/v1/auth/login', { username: 'admin', password: TEST_ADMIN_PASSWORD }, 200],
      ['/api/v1/auth/refresh', { refresh_token: 'x'.repeat(40) }, 401],
    ] as const) {
      for (let i = 1; i <= 3; i += 1) {
        const res = await server().app.inject({ method: 'POST', url, payload });
        expect(res.statusCode, url).toBe(ok);
        expect(res.headers['ratelimit-limit']).toBe('3');
        expect(res.headers['ratelimit-remaining']).toBe(String(3 - i));
      }
      const over = await server().app.inject({ method: 'POST', url, payload });
      expect(over.statusCode, url).toBe(429);
      expect(over.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    }
  });
});

describe('the per-principal limit in a cluster', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    await requireRedis();
    const env = { OPSDECK_RATE_LIMIT_PER_MINUTE: '6', OPSDECK_REDIS_PREFIX: `opsdeck-t-rl-${randomBytes(4).toString('hex')}` };
    a = await createTestServer('postgres', { cluster: true, env });
    b = await createTestServer('postgres', { cluster: true, env, db: a.db });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  beforeEach(() => requireRedis());

  it('is one count shared by two app instances through Redis', async () => {
    const token = (await login(a, 'admin', TEST_ADMIN_PASSWORD)).access_token;
    for (let i = 0; i < 3; i += 1) expect((await me(a, token)).statusCode).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await me(b, token)).statusCode).toBe(200);
    const over = await me(b, token);
    expect(over.statusCode).toBe(429);
    expect((await me(a, token)).statusCode).toBe(429);
  });
});
