import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from './helpers/db.js';
import { useTestServer } from './helpers/server.js';
import { bearer, loginAs } from './helpers/auth.js';

/**
 * Walks every registered route with a viewer token: each route whose permission the viewer
 * lacks must answer 403, whatever module added it. Path parameters get a random UUID and
 * bodies are `{}`, so the permission check (which runs before validation) is what answers.
 */
describe.each(DIALECTS)('a viewer walking every route on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });

  it('holds only read permissions and self-service, never a secret-revealing one', async () => {
    const viewer = await loginAs(server(), 'viewer');
    const perms: string[] = (await server().app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(viewer.token) })).json().permissions;
    expect(perms.length).toBeGreaterThan(3);
    for (const p of perms) expect(p === 'account:manage' || p.endsWith(':read'), p).toBe(true);
  });

  it('gets 403 from every route whose permission it lacks', async () => {
    const viewer = await loginAs(server(), 'viewer');
    const perms = new Set<string>((await server().app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(viewer.token) })).json().permissions);
    const denied = server().app.routeRegistry.filter((r) => !r.public && r.permission && !perms.has(r.permission));
    expect(denied.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    for (const route of denied) {
      const url = route.url.replace(/:[A-Za-z0-9_]+/g, () => randomUUID()).replace(/\*/g, 'x');
      const withBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
      const res = await server().app.inject({
        method: route.method as 'GET',
        url,
        headers: bearer(viewer.token),
        ...(withBody ? { payload: {} } : {}),
      });
      if (res.statusCode !== 403 || res.json().code !== 'PERMISSION_DENIED') {
        wrong.push(`${route.method} ${route.url} (${route.permission}) → ${res.statusCode}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
