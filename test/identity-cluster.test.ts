import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { createTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';
import { requireRedis } from './helpers/redis.js';
import { bearer, login, loginAs } from './helpers/auth.js';

/** Two API nodes sharing one PostgreSQL database and Redis, as in a cluster. */
describe('identity across two cluster nodes', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    await requireRedis();
    a = await createTestServer('postgres', { cluster: true, env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });
    b = await createTestServer('postgres', { cluster: true, db: a.db, env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  beforeEach(async () => {
    await requireRedis();
  });
  const me = (node: TestServer, token: string) => node.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });

  it('refuses on node B an access token logged out on node A, although B had it cached', async () => {
    const s = await login(a, 'admin', TEST_ADMIN_PASSWORD);
    expect((await me(b, s.access_token)).statusCode).toBe(200);
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(s.access_token) })).statusCode).toBe(204);
    await vi.waitFor(async () => expect((await me(b, s.access_token)).json().code).toBe('TOKEN_REVOKED'), { timeout: 2_000, interval: 20 });
  });

  it('refuses on node B the tokens of a user disabled on node A', async () => {
    const u = await loginAs(a, 'operator');
    const admin = await login(a, 'admin', TEST_ADMIN_PASSWORD);
    expect((await me(b, u.token)).statusCode).toBe(200);
    await a.app.inject({ method: 'PATCH', url: `/api/v1/users/${u.userId}`, headers: bearer(admin.access_token), payload: { status: 'disabled' } });
    await vi.waitFor(async () => expect((await me(b, u.token)).statusCode).toBe(401), { timeout: 2_000, interval: 20 });
  });

  it('applies on node B a role edit and an API-key revocation made on node A, although B had both memoised', async () => {
    const admin = bearer((await login(a, 'admin', TEST_ADMIN_PASSWORD)).access_token);
    const role = (
      await a.app.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: admin,
        payload: { name: 'cluster-memo', permissions: ['account:read', 'audit:read'] },
      })
    ).json();
    const u = await loginAs(a, role.name);
    const key = (await a.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'cluster-memo', role: 'viewer' } })).json();
    const verify = (headers: Record<string, string>) => b.app.inject({ method: 'GET', url: '/api/v1/auth/verify', headers });
    for (let i = 0; i < 2; i += 1) {
      expect((await verify(bearer(u.token))).json().permissions).toContain('audit:read');
      expect((await verify({ 'x-api-key': key.key })).statusCode).toBe(200);
    }
    await a.app.inject({ method: 'PATCH', url: `/api/v1/roles/${role.id}`, headers: admin, payload: { permissions: ['account:read'] } });
    await vi.waitFor(async () => expect((await verify(bearer(u.token))).json().permissions).toEqual(['account:read']), { timeout: 2_000, interval: 20 });
    expect((await a.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: admin })).statusCode).toBe(204);
    await vi.waitFor(async () => expect((await verify({ 'x-api-key': key.key })).json().code).toBe('API_KEY_REVOKED'), { timeout: 2_000, interval: 20 });
  });

  it('converges from the database when a revocation message was missed (periodic resync)', async () => {
    const s = await login(a, 'admin', TEST_ADMIN_PASSWORD);
    expect((await me(b, s.access_token)).statusCode).toBe(200);
    const claims = JSON.parse(Buffer.from(s.access_token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number };
    // Written behind both nodes' backs: no bus message, only the table.
    await sql`insert into token_revocations (id, kind, expires_at, created_at) values (${claims.jti}, 'jti', ${new Date(claims.exp * 1000).toISOString()}, ${new Date().toISOString()})`.execute(
      a.modules.database.db,
    );
    await vi.waitFor(async () => expect((await me(b, s.access_token)).json().code).toBe('TOKEN_REVOKED'), { timeout: 15_000, interval: 200 });
  });
});

describe('cluster configuration and shared rate limits', () => {
  beforeEach(async () => {
    await requireRedis();
  });

  it('refuses to start in cluster mode without OPSDECK_JWT_SECRET', async () => {
    await expect(createTestServer('sqlite', { cluster: true, env: { OPSDECK_JWT_SECRET: '' } })).rejects.toThrow(
      /OPSDECK_JWT_SECRET is required in cluster mode/,
    );
  });

  it('counts /auth requests of one address across nodes through Redis', async () => {
    const first = await createTestServer('sqlite', { cluster: true, env: { OPSDECK_AUTH_RATE_LIMIT: '3' } });
    const second = await createTestServer('sqlite', { cluster: true, db: first.db, env: { OPSDECK_AUTH_RATE_LIMIT: '3' } });
    try {
      const address = `127.0.${Math.floor(Math.random() * 200) + 20}.${Math.floor(Math.random() * 200) + 20}`;
      const attempt = (node: TestServer) =>
        node.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x', password: 'y' }, remoteAddress: address });
      expect((await attempt(first)).statusCode).toBe(401);
      expect((await attempt(second)).statusCode).toBe(401);
      expect((await attempt(first)).statusCode).toBe(401);
      expect((await attempt(second)).statusCode).toBe(429);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
