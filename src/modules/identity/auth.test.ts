import bcrypt from 'bcryptjs';
import type { InjectOptions } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer, TEST_ADMIN_PASSWORD } from '../../../test/helpers/server.js';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';

const ENV = { OPSDECK_AUTH_RATE_LIMIT: '100000', OPSDECK_LOCKOUT_THRESHOLD: '3', OPSDECK_LOCKOUT_SECONDS: '1' };
/** A problem body without the per-request fields, to compare two answers. */
const stable = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });

describe.each(DIALECTS)('authentication on %s', (dialect) => {
  const server = useTestServer(dialect, { env: ENV });
  const inject = (opts: InjectOptions) => server().app.inject(opts);
  const me = (token: string) => inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });

  it('signs in by username (any case) or email and answers the LoginResponse shape', async () => {
    const res = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ADMIN', password: TEST_ADMIN_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      user: { username: 'admin', roles: ['admin'], status: 'active', two_factor_enabled: false },
    });
    expect(body.access_token.split('.')).toHaveLength(3);
    expect(body.refresh_token.length).toBeGreaterThanOrEqual(40);
    expect(JSON.stringify(body.user)).not.toMatch(/hash|secret|"password"/);
    const byEmail = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'Admin@opsdeck.invalid', password: TEST_ADMIN_PASSWORD } });
    expect(byEmail.statusCode).toBe(200);
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: body.user.id, roles: ['admin'], iss: 'opsdeck' });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims.jti).toEqual(expect.any(String));
  });

  it('answers a wrong password and an unknown user identically, and audits both', async () => {
    const wrong = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'not-the-password' } });
    const unknown = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody-here', password: 'not-the-password' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(stable(wrong.json())).toEqual(stable(unknown.json()));
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS');
    expect(wrong.headers['content-type']).toBe(unknown.headers['content-type']);
    // Undo the failure count on admin so later tests are not near the lockout.
    await login(server(), 'admin', TEST_ADMIN_PASSWORD);
    const audit = await inject({ method: 'GET', url: '/api/v1/audit?action=auth.login.failed', headers: bearer(await adminToken(server())) });
    const names = audit.json().items.map((i: { actor: { name: string } }) => i.actor.name);
    expect(names).toEqual(expect.arrayContaining(['admin', 'nobody-here']));
  });

  it('rejects malformed login bodies with 400 naming the field', async () => {
    const res = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', extra: 1 } });
    expect(res.statusCode).toBe(400);
    const paths = res.json().errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.password', 'body.extra']));
  });

  it('rotates refresh tokens and revokes the whole family when a rotated one is reused', async () => {
    const first = await login(server(), 'admin', TEST_ADMIN_PASSWORD);
    const r1 = await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: first.refresh_token } });
    expect(r1.statusCode).toBe(200);
    const second = r1.json();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token)).statusCode).toBe(200);

    const reuse = await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: first.refresh_token } });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe('REFRESH_TOKEN_REUSED');
    // The thief's copy and the legitimate newer token both die with the family.
    const newer = await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: second.refresh_token } });
    expect(newer.statusCode).toBe(401);
    expect((await me(second.access_token)).json().code).toBe('TOKEN_REVOKED');
    expect((await me(first.access_token)).json().code).toBe('TOKEN_REVOKED');
    const audit = await inject({ method: 'GET', url: '/api/v1/audit?action=auth.token.reuse_detected', headers: bearer(await adminToken(server())) });
    expect(audit.json().items.length).toBeGreaterThan(0);
  });

  it('refuses an unknown refresh token', async () => {
    const res = await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: 'made-up' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('logs out: the access token and the refresh token stop working', async () => {
    const s = await login(server(), 'admin', TEST_ADMIN_PASSWORD);
    expect((await inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(s.access_token) })).statusCode).toBe(204);
    const after = await me(s.access_token);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('TOKEN_REVOKED');
    expect((await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: s.refresh_token } })).statusCode).toBe(401);
  });

  it('verifies tokens and tells apart missing, malformed and unsupported credentials', async () => {
    const token = await adminToken(server());
    const ok = await inject({ method: 'GET', url: '/api/v1/auth/verify', headers: bearer(token) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ valid: true, actor: { kind: 'user', name: 'admin' }, permissions: ['*'] });
    expect((await inject({ method: 'GET', url: '/api/v1/auth/verify' })).json().code).toBe('AUTH_REQUIRED');
    expect((await inject({ method: 'GET', url: '/api/v1/auth/verify', headers: bearer('abc.def.ghi') })).json().code).toBe('TOKEN_INVALID');
    const basic = await inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: 'Basic YWRtaW46eA==' } });
    expect(basic.statusCode).toBe(401);
    expect(basic.json().code).toBe('AUTH_SCHEME_UNSUPPORTED');
    expect(basic.headers['www-authenticate']).toBe('Bearer');
  });

  it('returns me with effective permissions, and publishes an empty JWKS for HS256', async () => {
    const viewer = await loginAs(server(), 'viewer');
    const res = await me(viewer.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ username: viewer.username, roles: ['viewer'] });
    expect(res.json().permissions).toContain('system:read');
    expect(res.json().permissions).not.toContain('users:admin');
    expect((await inject({ method: 'GET', url: '/api/v1/auth/jwks.json' })).json()).toEqual({ keys: [] });
  });

  it('lists my sessions and revokes one or all of them', async () => {
    const u = await loginAs(server(), 'operator');
    const other = await login(server(), u.username, u.password);
    const list = await inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(u.token) });
    expect(list.statusCode).toBe(200);
    const items = list.json().items;
    expect(items).toHaveLength(2);
    expect(items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const otherId = items.find((s: { current: boolean }) => !s.current).id;
    expect((await inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${otherId}`, headers: bearer(u.token) })).statusCode).toBe(204);
    expect((await me(other.access_token)).statusCode).toBe(401);
    expect((await me(u.token)).statusCode).toBe(200);
    expect((await inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${otherId}`, headers: bearer(u.token) })).statusCode).toBe(404);
    expect((await inject({ method: 'DELETE', url: '/api/v1/auth/sessions', headers: bearer(u.token) })).statusCode).toBe(204);
    expect((await me(u.token)).statusCode).toBe(401);
  });

  it('changes my password: checks the current one and the policy, and signs out my other sessions', async () => {
    const u = await loginAs(server(), 'viewer');
    const other = await login(server(), u.username, u.password);
    const change = (body: object) => inject({ method: 'POST', url: '/api/v1/auth/password', headers: bearer(u.token), payload: body });
    const wrong = await change({ current_password: 'nope-nope-nope', new_password: 'violet-tractor-ocean-41' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors).toEqual([{ path: 'body.current_password', message: 'is wrong' }]);
    const weak = await change({ current_password: u.password, new_password: 'password1234' });
    expect(weak.statusCode).toBe(422);
    expect(weak.json().errors[0].path).toBe('body.new_password');
    expect((await change({ current_password: u.password, new_password: 'violet-tractor-ocean-41' })).statusCode).toBe(204);
    expect((await me(u.token)).statusCode).toBe(200);
    expect((await me(other.access_token)).statusCode).toBe(401);
    await expect(login(server(), u.username, u.password)).rejects.toThrow(/401/);
    await login(server(), u.username, 'violet-tractor-ocean-41');
  });

  it('locks an account after N failures, refuses even the right password, and releases after the backoff', async () => {
    const u = await loginAs(server(), 'viewer');
    for (let i = 0; i < 3; i += 1) {
      expect((await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: u.username, password: 'wrong-password-x' } })).statusCode).toBe(
        401,
      );
    }
    const locked = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: u.username, password: u.password } });
    expect(locked.statusCode).toBe(401);
    expect(locked.json().code).toBe('INVALID_CREDENTIALS');
    const admin = await adminToken(server());
    const user = await inject({ method: 'GET', url: `/api/v1/users/${u.userId}`, headers: bearer(admin) });
    expect(user.json()).toMatchObject({ status: 'locked', locked_until: expect.any(String) });
    const audit = await inject({ method: 'GET', url: `/api/v1/audit?action=auth.lockout&resource_id=${u.userId}`, headers: bearer(admin) });
    expect(audit.json().items.length).toBeGreaterThan(0);
    // The lock lasts OPSDECK_LOCKOUT_SECONDS=1 here; attempts while locked do not extend it.
    await vi.waitFor(
      async () =>
        expect((await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: u.username, password: u.password } })).statusCode).toBe(200),
      {
        timeout: 10_000,
        interval: 250,
      },
    );
  });

  it('lets an admin unlock an account at once', async () => {
    const u = await loginAs(server(), 'viewer');
    for (let i = 0; i < 3; i += 1) await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: u.username, password: 'wrong-password-x' } });
    const admin = await adminToken(server());
    const res = await inject({ method: 'PATCH', url: `/api/v1/users/${u.userId}`, headers: bearer(admin), payload: { status: 'active' } });
    expect(res.json().status).toBe('active');
    await login(server(), u.username, u.password);
  });

  it('re-hashes an imported bcrypt password with argon2id on the first successful login', async () => {
    const u = await loginAs(server(), 'viewer');
    const db = server().modules.database.db;
    await sql`update users set password_hash = ${bcrypt.hashSync('legacy-system-pass-77', 4)} where id = ${u.userId}`.execute(db);
    await login(server(), u.username, 'legacy-system-pass-77');
    const row = await sql<{ passwordHash: string }>`select password_hash from users where id = ${u.userId}`.execute(db);
    expect(row.rows[0]!.passwordHash.startsWith('$argon2id$')).toBe(true);
    await login(server(), u.username, 'legacy-system-pass-77');
  });

  it('refuses the tokens of a disabled user at once and their login with the same 401', async () => {
    const u = await loginAs(server(), 'operator');
    const admin = await adminToken(server());
    expect((await inject({ method: 'PATCH', url: `/api/v1/users/${u.userId}`, headers: bearer(admin), payload: { status: 'disabled' } })).json().status).toBe(
      'disabled',
    );
    expect((await me(u.token)).statusCode).toBe(401);
    const res = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: u.username, password: u.password } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('INVALID_CREDENTIALS');
  });

  it('after an admin reset, allows only changing the password until it is changed', async () => {
    const u = await loginAs(server(), 'operator');
    const admin = await adminToken(server());
    const reset = await inject({
      method: 'POST',
      url: `/api/v1/users/${u.userId}/password-reset`,
      headers: bearer(admin),
      payload: { password: 'temporary-pass-9931' },
    });
    expect(reset.statusCode).toBe(204);
    expect((await me(u.token)).statusCode).toBe(401);
    const s = await login(server(), u.username, 'temporary-pass-9931');
    expect(s.user).toMatchObject({ must_change_password: true });
    expect((await inject({ method: 'GET', url: '/api/v1/system/info', headers: bearer(s.access_token) })).statusCode).toBe(403);
    expect((await me(s.access_token)).json().permissions).toEqual(['account:manage', 'account:read']);
    const change = await inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(s.access_token),
      payload: { current_password: 'temporary-pass-9931', new_password: 'chosen-by-me-4417' },
    });
    expect(change.statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/api/v1/system/info', headers: bearer(s.access_token) })).statusCode).toBe(200);
  });
});

describe('rate limit on /auth', () => {
  const server = useTestServer('sqlite', { env: { OPSDECK_AUTH_RATE_LIMIT: '3' } });

  it('answers 429 problem+json with Retry-After once one address exceeds the limit', async () => {
    const attempt = () =>
      server().app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x', password: 'y' }, remoteAddress: '127.0.0.9' });
    for (let i = 0; i < 3; i += 1) expect((await attempt()).statusCode).toBe(401);
    const limited = await attempt();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected; routes outside /auth are not limited.
    const other = await server().app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'x', password: 'y' },
      remoteAddress: '127.0.0.10',
    });
    expect(other.statusCode).toBe(401);
    expect((await server().app.inject({ method: 'GET', url: '/health', remoteAddress: '127.0.0.9' })).statusCode).toBe(200);
  });
});
