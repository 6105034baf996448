import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer, TEST_ADMIN_PASSWORD } from '../../../test/helpers/server.js';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';
import { sanitiseChanges } from './audit.service.js';

interface Item {
  time: string;
  actor: { kind: string; id: string | null; name: string };
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: string;
  ip: string | null;
  request_id: string | null;
  changes: Record<string, unknown> | null;
}

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });
  const audit = async (query: string, token?: string) =>
    server().app.inject({ method: 'GET', url: `/api/v1/audit?${query}`, headers: bearer(token ?? (await adminToken(server()))) });

  it('records mutations and auth events with actor, outcome, IP and request id', async () => {
    const admin = await adminToken(server());
    const created = await server().app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...bearer(admin), 'x-request-id': 'req-audit-1' },
      payload: { username: 'audited', email: 'audited@example.com', password: 'violet-tractor-ocean-41', roles: ['viewer'] },
    });
    const item: Item = (await audit(`action=user.created&resource_id=${created.json().id}`)).json().items[0];
    expect(item).toMatchObject({
      actor: { kind: 'user', name: 'admin' },
      resource_type: 'user',
      outcome: 'success',
      ip: '127.0.0.1',
      request_id: 'req-audit-1',
      changes: { username: 'audited', roles: ['viewer'] },
    });
    expect(JSON.stringify(item)).not.toContain('violet-tractor');
    const logins = (await audit('action=auth.login.succeeded&actor_name=admin')).json().items;
    expect(logins.length).toBeGreaterThan(0);
    const first = (await audit('action=user.created&actor_kind=system')).json().items;
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ actor: { name: 'system' }, changes: { username: 'admin', first_start: true, source: 'OPSDECK_ADMIN_PASSWORD' } });
  });

  it('records a permission denial with the route and the permission', async () => {
    const viewer = await loginAs(server(), 'viewer');
    const denied = await server().app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(viewer.token), payload: {} });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('PERMISSION_DENIED');
    const item: Item = (await audit(`action=permission.denied&actor_id=${viewer.userId}`)).json().items[0];
    expect(item).toMatchObject({
      outcome: 'denied',
      resource_type: 'route',
      resource_id: 'POST /api/v1/users',
      changes: { permission: 'users:admin' },
      request_id: denied.json().request_id,
    });
  });

  it('stores the user agent of HTTP-initiated entries (truncated to 256) and filters by it', async () => {
    const admin = await adminToken(server());
    const ua = `scoping-test-agent/${dialect} ${'x'.repeat(400)}`;
    const created = await server().app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...bearer(admin), 'user-agent': ua },
      payload: { username: `ua-${dialect}`, email: `ua-${dialect}@example.com`, password: 'violet-tractor-ocean-41', roles: ['viewer'] },
    });
    const item = (await audit(`action=user.created&resource_id=${created.json().id}`)).json().items[0];
    expect(item.user_agent).toBe(ua.slice(0, 256));
    const failed = await server().app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'user-agent': `login-agent-${dialect}` },
      payload: { username: 'nobody-ua', password: 'wrong-password-123' },
    });
    expect(failed.statusCode).toBe(401);
    const byUa = (await audit(`user_agent=login-agent-${dialect}`)).json().items;
    expect(byUa.map((i: Item) => i.action)).toContain('auth.login.failed');
  });

  it('coalesces a flood of denials: one entry per principal, route and minute', async () => {
    const viewer = await loginAs(server(), 'viewer');
    for (let i = 0; i < 20; i += 1) {
      const denied = await server().app.inject({ method: 'DELETE', url: '/api/v1/users/00000000-0000-7000-8000-000000000001', headers: bearer(viewer.token) });
      expect(denied.statusCode).toBe(403);
    }
    const items: Item[] = (await audit(`action=permission.denied&actor_id=${viewer.userId}`)).json().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ outcome: 'denied', resource_id: 'DELETE /api/v1/users/:id', changes: { permission: 'users:admin' } });
  });

  it('filters by time range and pages newest first with a cursor', async () => {
    const since = new Date().toISOString();
    for (let i = 0; i < 3; i += 1) await login(server(), 'admin', TEST_ADMIN_PASSWORD);
    const page1 = (await audit(`action=auth.login.succeeded&time__gte=${since}&limit=2`)).json();
    expect(page1.items).toHaveLength(2);
    expect(page1.items[0].time >= page1.items[1].time).toBe(true);
    const page2 = (await audit(`action=auth.login.succeeded&time__gte=${since}&limit=2&cursor=${page1.next_cursor}`)).json();
    expect(page2.items.length).toBeGreaterThanOrEqual(1);
    expect((await audit('time__gte=2999-01-01')).json().items).toEqual([]);
    expect((await audit('time__gte=yesterday')).statusCode).toBe(400);
    expect((await audit('outcome=maybe')).statusCode).toBe(400);
  });

  it('needs audit:read, and offers no way to change or delete records', async () => {
    expect((await audit('limit=1', (await loginAs(server(), 'operator')).token)).statusCode).toBe(403);
    expect((await audit('limit=1', (await loginAs(server(), 'viewer')).token)).statusCode).toBe(403);
    expect((await audit('limit=1', (await loginAs(server(), 'auditor')).token)).statusCode).toBe(200);
    const auditRoutes = server().app.routeRegistry.filter((r) => r.url.startsWith('/api/v1/audit'));
    expect(auditRoutes.map((r) => r.method)).toEqual(['GET']);
    const admin = await adminToken(server());
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      expect((await server().app.inject({ method, url: '/api/v1/audit', headers: bearer(admin) })).statusCode).toBe(404);
    }
  });

  it('never writes secrets to the log', async () => {
    const s = await login(server(), 'admin', TEST_ADMIN_PASSWORD);
    await server().app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'Wrong-But-Secret-Guess-1' } });
    const text = server().logs.text();
    for (const secret of [TEST_ADMIN_PASSWORD, 'Wrong-But-Secret-Guess-1', s.access_token, s.refresh_token]) expect(text).not.toContain(secret);
  });
});

describe('audit change sanitising', () => {
  it('redacts secret-looking fields at any depth and bounds sizes', () => {
    const out = sanitiseChanges({ name: 'r1', password: 'p', nested: { api_key: 'k', community: 'c', ok: 1 }, list: ['a', 'b'], long: 'x'.repeat(600) });
    expect(out).toMatchObject({ name: 'r1', password: '[REDACTED]', nested: { api_key: '[REDACTED]', community: '[REDACTED]', ok: 1 }, list: ['a', 'b'] });
    expect(String(out.long).length).toBeLessThanOrEqual(501);
  });
});
