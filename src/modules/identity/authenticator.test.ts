import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';

/**
 * The authenticator answers a credential seen before from its memo (auth-memo.ts); every
 * change must still apply to the very next request. Each credential is used twice first, so
 * the answer under test would come from the memo if it were not emptied.
 */
describe.each(DIALECTS)('memoised credentials on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
  const warm = async (headers: Record<string, string>) => {
    for (let i = 0; i < 2; i += 1) expect((await call('GET', '/auth/verify', headers)).statusCode).toBe(200);
  };
  const permissions = async (headers: Record<string, string>) => (await call('GET', '/auth/verify', headers)).json().permissions as string[];

  it('refuses a warm access token at once after logout', async () => {
    const u = await loginAs(server(), 'viewer');
    await warm(bearer(u.token));
    expect((await call('POST', '/auth/logout', bearer(u.token))).statusCode).toBe(204);
    expect((await call('GET', '/auth/verify', bearer(u.token))).json().code).toBe('TOKEN_REVOKED');
  });

  it('applies a role edit, a role change and a deactivation to a warm access token and API key at once', async () => {
    const admin = bearer(await adminToken(server()));
    const role = (
      await call('POST', '/roles', admin, {
        name: `memo-${dialect}`,
        permissions: ['account:read', 'api-keys:read', 'api-keys:write', 'audit:read', 'system:read'],
      })
    ).json();
    const u = await loginAs(server(), role.name);
    const key = (await call('POST', '/api-keys', bearer(u.token), { name: 'memo', role: role.name })).json();
    const asUser = bearer(u.token);
    const asKey = { 'x-api-key': key.key };
    await warm(asUser);
    await warm(asKey);
    expect(await permissions(asKey)).toContain('audit:read');

    expect(
      (await call('PATCH', `/roles/${role.id}`, admin, { permissions: ['account:read', 'api-keys:read', 'api-keys:write', 'system:read'] })).statusCode,
    ).toBe(200);
    expect(await permissions(asUser)).not.toContain('audit:read');
    expect(await permissions(asKey)).not.toContain('audit:read');
    expect((await call('GET', '/audit?limit=1', asKey)).statusCode).toBe(403);

    await warm(asUser);
    await warm(asKey);
    expect((await call('PATCH', `/users/${u.userId}`, admin, { roles: ['viewer'] })).statusCode).toBe(200);
    // The key's grant is intersected with its owner's current permissions.
    expect(await permissions(asKey)).not.toContain('api-keys:write');
    expect(await permissions(asUser)).toContain('devices:read');

    await warm(asUser);
    await warm(asKey);
    expect((await call('PATCH', `/users/${u.userId}`, admin, { status: 'disabled' })).statusCode).toBe(200);
    expect((await call('GET', '/auth/verify', asUser)).json().code).toBe('TOKEN_REVOKED');
    expect((await call('GET', '/auth/verify', asKey)).json().code).toBe('API_KEY_REVOKED');
  });

  it('refuses a warm API key at once after it is revoked', async () => {
    const admin = bearer(await adminToken(server()));
    const key = (await call('POST', '/api-keys', admin, { name: 'memo-revoke', role: 'viewer' })).json();
    await warm({ 'x-api-key': key.key });
    await warm(bearer(key.key));
    expect((await call('DELETE', `/api-keys/${key.id}`, admin)).statusCode).toBe(204);
    expect((await call('GET', '/system/info', { 'x-api-key': key.key })).json().code).toBe('API_KEY_REVOKED');
    expect((await call('GET', '/system/info', bearer(key.key))).json().code).toBe('API_KEY_REVOKED');
  });

  it('does not accept a warm access token as X-API-Key', async () => {
    const token = await adminToken(server());
    await warm(bearer(token));
    expect((await call('GET', '/auth/verify', { 'x-api-key': token })).json().code).toBe('API_KEY_INVALID');
  });
});
