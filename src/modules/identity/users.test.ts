import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';

const RANDOM_ID = '01a20000-0000-7000-8000-000000000001';

describe.each(DIALECTS)('users, roles and teams on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });
  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object, token?: string) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers: bearer(token ?? (await adminToken(server()))), ...(payload ? { payload } : {}) });

  it('creates a user (201, no secret fields), finds it, and refuses duplicates in any case', async () => {
    const res = await call('POST', '/users', {
      username: 'Carol',
      email: 'carol@example.com',
      password: 'violet-tractor-ocean-41',
      roles: ['viewer'],
      display_name: 'Carol C',
    });
    expect(res.statusCode).toBe(201);
    const user = res.json();
    expect(user).toMatchObject({
      username: 'Carol',
      email: 'carol@example.com',
      display_name: 'Carol C',
      roles: ['viewer'],
      status: 'active',
      must_change_password: false,
    });
    expect(Object.keys(user)).not.toContain('password');
    expect(res.body).not.toContain('violet-tractor');
    expect((await call('GET', `/users/${user.id}`)).json()).toMatchObject({ id: user.id, team_ids: [] });
    const dup = await call('POST', '/users', { username: 'carol', email: 'CAROL@example.com', password: 'violet-tractor-ocean-41', roles: ['viewer'] });
    expect(dup.statusCode).toBe(409);
    expect(
      dup
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['body.email', 'body.username']);
    await login(server(), 'carol', 'violet-tractor-ocean-41');
  });

  it('rejects bad input naming each field, and writes nothing', async () => {
    const before = (await call('GET', '/users?limit=1000')).json().items.length;
    const bad = await call('POST', '/users', { username: 'bad name!', email: 'not-an-email', password: 'x', roles: [] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['body.username', 'body.email', 'body.roles']));
    const weak = await call('POST', '/users', { username: 'dave', email: 'dave@example.com', password: 'password1234', roles: ['viewer'] });
    expect(weak.statusCode).toBe(422);
    expect(weak.json()).toMatchObject({ code: 'PASSWORD_POLICY', errors: [{ path: 'body.password', message: 'is too common' }] });
    const role = await call('POST', '/users', { username: 'dave', email: 'dave@example.com', password: 'violet-tractor-ocean-41', roles: ['no-such-role'] });
    expect(role.statusCode).toBe(422);
    expect(role.json().errors[0].path).toBe('body.roles');
    expect((await call('GET', '/users?limit=1000')).json().items.length).toBe(before);
  });

  it('lists with filters, sort and cursor pagination', async () => {
    for (const n of ['erin', 'frank', 'grace']) {
      await call('POST', '/users', { username: `list-${n}`, email: `${n}@list.example`, password: 'violet-tractor-ocean-41', roles: ['viewer'] });
    }
    const page1 = (await call('GET', '/users?username__isw=list-&limit=2&sort=-username')).json();
    expect(page1.items.map((u: { username: string }) => u.username)).toEqual(['list-grace', 'list-frank']);
    const page2 = (await call('GET', `/users?username__isw=list-&limit=2&sort=-username&cursor=${page1.next_cursor}`)).json();
    expect(page2).toMatchObject({ items: [{ username: 'list-erin' }], next_cursor: null });
    expect((await call('GET', '/users?sort=password')).statusCode).toBe(400);
  });

  it('updates, disables, re-enables and deletes; 404 for unknown ids', async () => {
    const u = await loginAs(server(), 'viewer');
    const upd = await call('PATCH', `/users/${u.userId}`, { display_name: 'Renamed', roles: ['operator', 'viewer'] });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toMatchObject({ display_name: 'Renamed', roles: ['operator', 'viewer'] });
    // Role changes apply to existing tokens at once (permissions are resolved per request, cached).
    expect((await server().app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(u.token) })).json().roles).toEqual(['operator', 'viewer']);
    expect((await call('PATCH', `/users/${u.userId}`, {})).statusCode).toBe(400);
    expect((await call('PATCH', `/users/${RANDOM_ID}`, { display_name: 'x' })).statusCode).toBe(404);
    expect((await call('DELETE', `/users/${u.userId}`)).statusCode).toBe(204);
    expect((await call('GET', `/users/${u.userId}`)).statusCode).toBe(404);
    expect((await server().app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(u.token) })).statusCode).toBe(401);
    expect((await call('DELETE', `/users/${u.userId}`)).statusCode).toBe(404);
    expect((await call('GET', '/users/not-a-uuid')).statusCode).toBe(400);
    // UUIDs are case-insensitive on input, on every route and dialect.
    const me = (await call('GET', '/auth/me')).json() as { id: string };
    expect((await call('GET', `/users/${me.id.toUpperCase()}`)).json()).toMatchObject({ id: me.id });
  });

  it('refuses to let an admin disable or delete themselves', async () => {
    const admin = await adminToken(server());
    const me = (await server().app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(admin) })).json();
    expect((await call('PATCH', `/users/${me.id}`, { status: 'disabled' }, admin)).statusCode).toBe(422);
    expect((await call('DELETE', `/users/${me.id}`, undefined, admin)).statusCode).toBe(422);
  });

  it('keeps one active admin: the last cannot be disabled, deleted or stripped of the role, by anyone', async () => {
    const admin = await adminToken(server());
    const me = (await server().app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(admin) })).json() as { id: string; roles: string[] };
    const others = ((await call('GET', '/users?status=active&limit=1000')).json().items as { id: string; roles: string[] }[]).filter(
      (u) => u.id !== me.id && u.roles.includes('admin'),
    );
    for (const other of others) await call('PATCH', `/users/${other.id}`, { status: 'disabled' });
    const demote = await call('PATCH', `/users/${me.id}`, { roles: ['viewer'] }, admin);
    expect(demote.statusCode).toBe(409);
    expect(demote.json()).toMatchObject({ code: 'LAST_ADMIN', errors: [{ path: 'body.roles' }] });
    expect((await call('GET', `/users/${me.id}`)).json().roles).toEqual(['admin']);
    // A user administrator without the admin role cannot remove the last admin either.
    expect((await call('POST', '/roles', { name: 'user-keepers', permissions: ['users:admin', 'users:read'] })).statusCode).toBe(201);
    const keeper = await loginAs(server(), 'user-keepers');
    const disable = await call('PATCH', `/users/${me.id}`, { status: 'disabled' }, keeper.token);
    expect(disable.statusCode).toBe(409);
    expect(disable.json()).toMatchObject({ code: 'LAST_ADMIN', errors: [{ path: 'body.status' }] });
    expect((await call('DELETE', `/users/${me.id}`, undefined, keeper.token)).json()).toMatchObject({ code: 'LAST_ADMIN' });
    expect((await call('GET', `/users/${me.id}`)).json()).toMatchObject({ status: 'active', roles: ['admin'] });
    // With a second active admin, either may go.
    const second = await loginAs(server(), 'admin');
    expect((await call('PATCH', `/users/${second.userId}`, { status: 'disabled' }, keeper.token)).statusCode).toBe(200);
    expect((await call('PATCH', `/users/${second.userId}`, { status: 'active' }, keeper.token)).statusCode).toBe(200);
    expect((await call('PATCH', `/users/${second.userId}`, { roles: ['viewer'] }, keeper.token)).statusCode).toBe(200);
    expect((await call('DELETE', `/users/${second.userId}`, undefined, keeper.token)).statusCode).toBe(204);
    for (const other of others) await call('PATCH', `/users/${other.id}`, { status: 'active' });
  });

  it('lists built-in roles with derived permissions and every registered permission', async () => {
    const roles = (await call('GET', '/roles')).json().items;
    const byName = Object.fromEntries(roles.map((r: { name: string }) => [r.name, r]));
    expect(byName.admin).toMatchObject({ builtin: true, permissions: ['*'] });
    expect(byName.viewer.permissions).toContain('system:read');
    expect(byName.viewer.permissions.every((p: string) => p.endsWith(':read') || p === 'account:manage')).toBe(true);
    expect(byName.operator.permissions).not.toContain('users:admin');
    // Viewer means viewer: inventory, runs and schedules, not other users or the audit log.
    expect(byName.viewer.permissions).toEqual(expect.arrayContaining(['devices:read', 'jobs:read', 'schedules:read']));
    expect(byName.viewer.permissions).not.toContain('users:read');
    expect(byName.viewer.permissions).not.toContain('audit:read');
    expect(byName.operator.permissions).not.toContain('audit:read');
    expect(byName.auditor).toMatchObject({ builtin: true });
    expect(byName.auditor.permissions).toEqual(expect.arrayContaining(['audit:read', 'users:read', 'devices:read']));
    // audit:read-all: the audit entries of every team (docs/architecture.md "Team scoping").
    expect(byName.auditor.permissions).toContain('audit:read-all');
    expect(byName.operator.permissions).not.toContain('audit:read-all');
    expect(byName.viewer.permissions).not.toContain('audit:read-all');
    expect(byName.auditor.permissions.every((p: string) => p.endsWith(':read') || p === 'account:manage' || p === 'audit:read-all')).toBe(true);
    const viewer = await loginAs(server(), 'viewer');
    expect((await call('GET', '/users', undefined, viewer.token)).statusCode).toBe(403);
    expect((await call('GET', '/audit?limit=1', undefined, viewer.token)).statusCode).toBe(403);
    expect((await call('GET', '/devices', undefined, viewer.token)).statusCode).toBe(200);
    const auditor = await loginAs(server(), 'auditor');
    expect((await call('GET', '/audit?limit=1', undefined, auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/devices', { name: 'auditor-cannot' }, auditor.token)).statusCode).toBe(403);
    const perms = (await call('GET', '/permissions')).json().items;
    expect(perms).toEqual(expect.arrayContaining(['system:read', 'users:admin', 'audit:read', 'account:read']));
  });

  it('manages custom roles: create, use, update (applies to holders), refuse built-in edits and deleting a used role', async () => {
    const created = await call('POST', '/roles', { name: 'log-reader', description: 'Reads the audit log', permissions: ['audit:read', 'account:read'] });
    expect(created.statusCode).toBe(201);
    const role = created.json();
    expect(role).toMatchObject({ builtin: false, permissions: ['account:read', 'audit:read'] });
    expect((await call('POST', '/roles', { name: 'log-reader', permissions: [] })).statusCode).toBe(409);
    expect((await call('POST', '/roles', { name: 'bogus', permissions: ['nothing:here'] })).json()).toMatchObject({
      code: 'PERMISSION_UNKNOWN',
      errors: [{ path: 'body.permissions' }],
    });
    const u = await loginAs(server(), 'log-reader');
    expect((await call('GET', '/audit?limit=1', undefined, u.token)).statusCode).toBe(200);
    expect((await call('GET', '/users', undefined, u.token)).statusCode).toBe(403);
    expect((await call('PATCH', `/roles/${role.id}`, { permissions: ['account:read', 'users:read'] })).statusCode).toBe(200);
    expect((await call('GET', '/audit?limit=1', undefined, u.token)).statusCode).toBe(403);
    expect((await call('GET', '/users', undefined, u.token)).statusCode).toBe(200);
    expect((await call('DELETE', `/roles/${role.id}`)).json().code).toBe('ROLE_IN_USE');
    const viewer = (await call('GET', '/roles')).json().items.find((r: { name: string }) => r.name === 'viewer');
    expect((await call('PATCH', `/roles/${viewer.id}`, { permissions: [] })).json().code).toBe('ROLE_BUILTIN');
    expect((await call('DELETE', `/roles/${viewer.id}`)).json().code).toBe('ROLE_BUILTIN');
    await call('PATCH', `/users/${u.userId}`, { roles: ['viewer'] });
    expect((await call('DELETE', `/roles/${role.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/roles/${role.id}`)).statusCode).toBe(404);
  });

  it('manages teams and memberships, which appear in the actor', async () => {
    const team = (await call('POST', '/teams', { name: 'NetOps', description: 'network team' })).json();
    expect(team).toMatchObject({ name: 'NetOps', member_ids: [] });
    expect((await call('POST', '/teams', { name: 'netops' })).statusCode).toBe(409);
    const u = await loginAs(server(), 'viewer');
    expect((await call('PUT', `/teams/${team.id}/members/${u.userId}`)).statusCode).toBe(204);
    expect((await call('GET', `/teams/${team.id}`)).json().member_ids).toEqual([u.userId]);
    expect((await call('GET', `/users/${u.userId}`)).json().team_ids).toEqual([team.id]);
    expect((await call('PUT', `/teams/${team.id}/members/${RANDOM_ID}`)).statusCode).toBe(404);
    expect((await call('PATCH', `/teams/${team.id}`, { description: 'renamed' })).json().description).toBe('renamed');
    expect((await call('DELETE', `/teams/${team.id}/members/${u.userId}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/teams/${team.id}/members/${u.userId}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/teams/${team.id}`)).statusCode).toBe(204);
    expect((await call('GET', '/teams')).json().items.some((t: { id: string }) => t.id === team.id)).toBe(false);
  });
});
