import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { routesWithoutPolicy } from '../src/platform/http/auth.js';
import { buildPlainApp } from './helpers/http-app.js';
import { useTestServer } from './helpers/server.js';

describe('route permission registry', () => {
  const server = useTestServer('sqlite');

  it('has every registered route declare a permission, public: true or authenticated: true', () => {
    const routes = server().app.routeRegistry;
    expect(routes.length).toBeGreaterThan(3);
    const undeclared = routes.filter((r) => !r.public && !r.permission && !r.authenticated).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('keeps authentication-only routes to the stream entry points, which authorise each channel themselves', () => {
    const only = server()
      .app.routeRegistry.filter((r) => r.authenticated && !r.permission)
      .map((r) => `${r.method} ${r.url}`);
    expect(only.sort()).toEqual(['GET /api/v1/ws', 'POST /api/v1/stream-tickets']);
  });

  it('keeps permissions in resource:action form', () => {
    for (const r of server().app.routeRegistry.filter((x) => x.permission)) {
      expect(r.permission, `${r.method} ${r.url}`).toMatch(/^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$/);
    }
  });

  it('marks the API reference and health endpoints public, and the API not', () => {
    const find = (url: string) => server().app.routeRegistry.find((r) => r.url === url && r.method === 'GET');
    expect(find('/health')?.public).toBe(true);
    expect(find('/docs')?.public).toBe(true);
    expect(find('/api/v1/openapi.json')?.public).toBe(true);
    expect(find('/api/v1/system/info')).toMatchObject({ public: false, permission: 'system:read' });
  });

  it('has every route with an id in its URL declare its object policy (scope + resource)', () => {
    expect(routesWithoutPolicy(server().app.routeRegistry)).toEqual([]);
    const table = server().app.routeRegistry.filter((r) => r.scope === 'team');
    expect(new Set(table.map((r) => r.resource))).toEqual(
      new Set(['credential', 'credential_profile', 'job_template', 'job_run', 'schedule', 'file', 'image', 'workflow', 'workflow_execution']),
    );
  });

  it('fails on a route with an id and no policy (a dummy route proves the check)', async () => {
    const { app } = await buildPlainApp([
      {
        prefix: '/api/v1',
        plugin: async (a) => {
          const params = Type.Object({ id: Type.String({ maxLength: 40 }) });
          a.get('/widgets/:id', { config: { permission: 'widgets:read' }, schema: { params } }, async () => ({}));
          a.get('/gadgets/:id', { config: { permission: 'widgets:read', scope: 'team' }, schema: { params } }, async () => ({}));
          a.get('/gizmos/:id', { config: { permission: 'widgets:read', scope: 'global', resource: 'gizmo' }, schema: { params } }, async () => ({}));
        },
      },
    ]);
    try {
      expect(routesWithoutPolicy(app.routeRegistry)).toEqual(['GET /api/v1/widgets/:id', 'GET /api/v1/gadgets/:id']);
    } finally {
      await app.close();
    }
  });
});
