import { describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';

describe.each(DIALECTS)('API keys on %s', (dialect) => {
  // Identity's clock, moved forward by tests instead of sleeping.
  let skew = 0;
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000' }, clock: () => Date.now() + skew });
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });

  it('creates a key shown once, accepts it as X-API-Key and Bearer odk_…, lists it without the secret', async () => {
    const admin = bearer(await adminToken(server()));
    const res = await call('POST', '/api-keys', admin, { name: 'ci', permissions: ['system:read'] });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created.key).toMatch(/^odk_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$/);
    expect(created).toMatchObject({
      name: 'ci',
      prefix: created.key.slice(0, 16),
      permissions: ['system:read'],
      role: null,
      status: 'active',
      last_used_at: null,
    });
    expect((await call('GET', '/system/info', { 'x-api-key': created.key })).statusCode).toBe(200);
    expect((await call('GET', '/system/info', bearer(created.key))).statusCode).toBe(200);
    expect((await call('GET', '/users', { 'x-api-key': created.key })).statusCode).toBe(403);
    const list = await call('GET', '/api-keys', admin);
    expect(list.body).not.toContain(created.key.slice(17));
    // Last use is written in the background (advisory, never a round trip on the request path).
    await vi.waitFor(async () => {
      const listed = (await call('GET', '/api-keys', admin)).json().items.find((k: { id: string }) => k.id === created.id);
      expect(listed.last_used_at).toEqual(expect.any(String));
    });
    const verify = await call('GET', '/auth/verify', { 'x-api-key': created.key });
    expect(verify.json()).toMatchObject({ actor: { kind: 'api_key', id: created.id, name: 'ci' }, permissions: ['system:read'] });
  });

  it('refuses unknown, malformed, revoked and expired keys', async () => {
    const admin = bearer(await adminToken(server()));
    const key = (await call('POST', '/api-keys', admin, { name: 'short', role: 'viewer' })).json();
    const wrongSecret = `${key.key.slice(0, 17)}${'A'.repeat(40)}`;
    expect((await call('GET', '/system/info', { 'x-api-key': wrongSecret })).json().code).toBe('API_KEY_INVALID');
    expect((await call('GET', '/system/info', { 'x-api-key': 'odk_nope' })).json().code).toBe('API_KEY_INVALID');
    expect((await call('DELETE', `/api-keys/${key.id}`, admin)).statusCode).toBe(204);
    expect((await call('GET', '/system/info', { 'x-api-key': key.key })).json().code).toBe('API_KEY_REVOKED');
    expect((await call('DELETE', `/api-keys/${key.id}`, admin)).statusCode).toBe(404);
    const past = await call('POST', '/api-keys', admin, { name: 'old', role: 'viewer', expires_at: '2020-01-01T00:00:00.000Z' });
    expect(past.statusCode).toBe(422);
    expect(past.json().errors[0].path).toBe('body.expires_at');
    const both = await call('POST', '/api-keys', admin, { name: 'both', role: 'viewer', permissions: ['system:read'] });
    expect(both.statusCode).toBe(422);
    const soon = (await call('POST', '/api-keys', admin, { name: 'soon', role: 'viewer', expires_at: new Date(Date.now() + 60_000).toISOString() })).json();
    expect((await call('GET', '/system/info', { 'x-api-key': soon.key })).statusCode).toBe(200);
    skew = 61_000;
    try {
      expect((await call('GET', '/system/info', { 'x-api-key': soon.key })).json().code).toBe('API_KEY_EXPIRED');
    } finally {
      skew = 0;
    }
  });

  it('rotates: the new key works, the old one stops', async () => {
    const admin = bearer(await adminToken(server()));
    const old = (await call('POST', '/api-keys', admin, { name: 'rot', role: 'viewer' })).json();
    const rotated = await call('POST', `/api-keys/${old.id}/rotate`, admin);
    expect(rotated.statusCode).toBe(201);
    expect(rotated.json()).toMatchObject({ name: 'rot', role: 'viewer' });
    expect((await call('GET', '/system/info', { 'x-api-key': rotated.json().key })).statusCode).toBe(200);
    expect((await call('GET', '/system/info', { 'x-api-key': old.key })).json().code).toBe('API_KEY_REVOKED');
  });

  it('never exceeds its creator: wider grants are refused, and a demoted creator shrinks the key', async () => {
    const op = await loginAs(server(), 'operator');
    const asOp = bearer(op.token);
    const tooWide = await call('POST', '/api-keys', asOp, { name: 'x', role: 'admin' });
    expect(tooWide.statusCode).toBe(403);
    expect(tooWide.json().code).toBe('API_KEY_TOO_WIDE');
    expect((await call('POST', '/api-keys', asOp, { name: 'x', permissions: ['users:admin'] })).json().code).toBe('API_KEY_TOO_WIDE');
    const key = (await call('POST', '/api-keys', asOp, { name: 'op-key', role: 'operator' })).json();
    expect((await call('GET', '/users', { 'x-api-key': key.key })).statusCode).toBe(200);
    // A key cannot mint a wider key either.
    expect((await call('POST', '/api-keys', { 'x-api-key': key.key }, { name: 'y', role: 'admin' })).json().code).toBe('API_KEY_TOO_WIDE');
    const admin = bearer(await adminToken(server()));
    await call('PATCH', `/users/${op.userId}`, admin, { roles: ['viewer'] });
    // The operator role still grants api-keys:write, but the viewer creator does not: denied.
    expect((await call('POST', '/api-keys', { 'x-api-key': key.key }, { name: 'z', role: 'viewer' })).statusCode).toBe(403);
    // …and it reads what a viewer reads, no longer other users' details.
    expect((await call('GET', '/devices', { 'x-api-key': key.key })).statusCode).toBe(200);
    expect((await call('GET', '/users', { 'x-api-key': key.key })).statusCode).toBe(403);
    await call('PATCH', `/users/${op.userId}`, admin, { status: 'disabled' });
    expect((await call('GET', '/system/info', { 'x-api-key': key.key })).statusCode).toBe(401);
  });

  it('shows a user only their own keys; api-keys:admin sees and revokes all', async () => {
    const a = await loginAs(server(), 'operator');
    const b = await loginAs(server(), 'operator');
    const ka = (await call('POST', '/api-keys', bearer(a.token), { name: 'a-key', role: 'viewer' })).json();
    const listB = (await call('GET', '/api-keys', bearer(b.token))).json().items;
    expect(listB.some((k: { id: string }) => k.id === ka.id)).toBe(false);
    expect((await call('GET', `/api-keys/${ka.id}`, bearer(b.token))).statusCode).toBe(404);
    expect((await call('DELETE', `/api-keys/${ka.id}`, bearer(b.token))).statusCode).toBe(404);
    const admin = bearer(await adminToken(server()));
    expect((await call('GET', `/api-keys/${ka.id}`, admin)).json().user_id).toBe(a.userId);
    expect((await call('DELETE', `/api-keys/${ka.id}`, admin)).statusCode).toBe(204);
  });
});
