import { adminCaller, makeCredential } from '../../../test/factories/index.js';
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { TEST_ADMIN_PASSWORD, useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';

const totp = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });

/**
 * Sensitive operations need an authentication younger than the step-up window: a token from a
 * refresh (hours-old sessions keep refreshing) or an API key does not qualify; re-authenticating
 * within the session does, with the second factor when the user has one.
 */
describe.each(DIALECTS)('step-up for sensitive operations on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000', OPSDECK_LOCKOUT_THRESHOLD: '50' } });
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });

  /** An admin session whose access token came from a refresh: it proved nothing recently. */
  async function staleAdmin() {
    const admin = await loginAs(server(), 'admin');
    const session = await login(server(), admin.username, admin.password);
    const refreshed = await call('POST', '/auth/refresh', {}, { refresh_token: session.refresh_token });
    expect(refreshed.statusCode).toBe(200);
    return { ...admin, stale: bearer(refreshed.json().access_token) };
  }

  it('refuses every sensitive operation to a session without a recent sign-in, and allows the rest', async () => {
    const a = await staleAdmin();
    const victim = await loginAs(server(), 'viewer');
    const cred = await makeCredential(await adminCaller(server()));
    const sensitive = [
      await call('POST', '/api-keys', a.stale, { name: 'wide', role: 'admin' }),
      await call('POST', '/users', a.stale, {
        username: `su-admin-${dialect}`,
        email: `su-admin-${dialect}@example.com`,
        password: 'Zq8!-step-up-user-pass',
        roles: ['admin'],
      }),
      await call('PATCH', `/users/${victim.userId}`, a.stale, { roles: ['operator'] }),
      await call('POST', '/roles', a.stale, { name: `su-role-${dialect}`, permissions: ['devices:read'] }),
      await call('POST', `/credentials/${cred.id}/reveal`, a.stale, { reason: 'step-up check' }),
    ];
    for (const res of sensitive) {
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json().code).toBe('REAUTH_REQUIRED');
    }
    // Nothing changed.
    expect((await call('GET', `/users/${victim.userId}`, bearer(await adminToken(server())))).json().roles).toEqual(['viewer']);
    // Ordinary work goes on.
    expect((await call('POST', '/api-keys', a.stale, { name: 'narrow', role: 'viewer' })).statusCode).toBe(201);
    expect((await call('POST', '/devices', a.stale, { name: `su-dev-${dialect}` })).statusCode).toBe(201);
  });

  it('lets the session re-authenticate: a wrong password is refused, the right one restores sensitive operations', async () => {
    const a = await staleAdmin();
    const wrong = await call('POST', '/auth/reauth', a.stale, { password: 'not-the-password-123' });
    expect(wrong.statusCode).toBe(401);
    const ok = await call('POST', '/auth/reauth', a.stale, { password: a.password });
    expect(ok.statusCode, ok.body).toBe(200);
    const fresh = bearer(ok.json().access_token);
    expect((await call('POST', '/api-keys', fresh, { name: 'wide', role: 'admin' })).statusCode).toBe(201);
    const audit = await call('GET', `/audit?action=auth.reauthenticated&actor_id=${a.userId}`, bearer(await adminToken(server())));
    expect(audit.json().items).toHaveLength(1);
  });

  it('never lets an API key perform a sensitive operation', async () => {
    const token = (await login(server(), 'admin', TEST_ADMIN_PASSWORD)).access_token;
    const key = (await call('POST', '/api-keys', bearer(token), { name: 'admin-key', role: 'admin' })).json().key;
    const viaKey = { 'x-api-key': key };
    const res = await call('POST', '/users', viaKey, {
      username: `su-key-${dialect}`,
      email: `su-key-${dialect}@example.com`,
      password: 'Zq8!-step-up-user-pass',
      roles: ['admin'],
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('REAUTH_REQUIRED');
    expect((await call('POST', '/reauth', viaKey, { password: TEST_ADMIN_PASSWORD })).statusCode).toBe(404);
    expect((await call('POST', '/auth/reauth', viaKey, { password: TEST_ADMIN_PASSWORD })).statusCode).toBe(403);
  });

  it('asks a user with two-factor for a fresh code as well', async () => {
    const a = await loginAs(server(), 'admin');
    const enrol = await call('POST', '/auth/2fa/enrol', bearer(a.token));
    const secret: string = enrol.json().secret;
    expect((await call('POST', '/auth/2fa/confirm', bearer(a.token), { code: await totp(secret, -1) })).statusCode).toBe(200);
    const session = bearer((await login(server(), a.username, a.password, await totp(secret))).access_token);
    const noCode = await call('POST', '/api-keys', session, { name: 'wide', role: 'admin' });
    expect(noCode.statusCode).toBe(401);
    expect(noCode.json().code).toBe('STEP_UP_REQUIRED');
    const withCode = await call('POST', '/api-keys', { ...session, 'x-totp-code': await totp(secret, 1) }, { name: 'wide', role: 'admin' });
    expect(withCode.statusCode, withCode.body).toBe(201);
  });
});
