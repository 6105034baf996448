import { describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { useTestServer } from '../../../test/helpers/server.js';

describe.each(DIALECTS)('cache administration on %s', (dialect) => {
  const server = useTestServer(dialect);
  const call = (method: 'GET' | 'DELETE' | 'PATCH', url: string, token: string, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  interface Row {
    namespace: string;
    hits: number;
    misses: number;
    size: number;
    evictions: number;
  }
  /** The row of a namespace; a namespace never seen reads as all zeros. */
  const namespace = (body: { namespaces: Row[] }, name: string): Row =>
    body.namespaces.find((n) => n.namespace === name) ?? { namespace: name, hits: 0, misses: 0, size: 0, evictions: 0 };

  it('shows hits, misses and entries per namespace (cache:read), clears a namespace or a tag (cache:write, audited)', async () => {
    const token = await adminToken(server());
    const stats = await call('GET', '/cache', token);
    expect(stats.statusCode, stats.body).toBe(200);
    // Signing in and checking the token went through the identity namespace.
    expect(namespace(stats.json(), 'identity')).toMatchObject({ size: expect.any(Number) as number, evictions: 0 });
    expect(namespace(stats.json(), 'identity').size).toBeGreaterThan(0);
    expect(stats.json().prefetchable).toEqual(['identity', 'parsers']);

    expect((await call('DELETE', '/cache/namespaces/identity', token)).statusCode).toBe(204);
    const after = (await call('GET', '/cache', token)).json();
    // This request's own principal lookup refilled one entry at most.
    expect(namespace(after, 'identity').size).toBeLessThanOrEqual(1);
    expect((await call('DELETE', '/cache/tags/roles', token)).statusCode).toBe(204);

    // Other tests of this file clear too (any order): this test's two clears are among the entries.
    const audit = (await call('GET', '/audit?action=cache.cleared', token)).json().items;
    expect(audit.map((e: { resource_type: string; resource_id: string }) => `${e.resource_type}:${e.resource_id}`)).toEqual(
      expect.arrayContaining(['cache_namespace:identity', 'cache_tag:roles']),
    );
  });

  it('lets a viewer read but not clear, and names a bad namespace', async () => {
    const viewer = await loginAs(server(), 'viewer');
    expect((await call('GET', '/cache', viewer.token)).statusCode).toBe(200);
    expect((await call('DELETE', '/cache/namespaces/identity', viewer.token)).statusCode).toBe(403);
    const operator = await loginAs(server(), 'operator');
    expect((await call('DELETE', '/cache/tags/roles', operator.token)).statusCode).toBe(403);
    const bad = await call('DELETE', '/cache/namespaces/Not%20A%20Namespace', await adminToken(server()));
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().errors)).toContain('namespace');
  });

  it('loads the namespaces the cache settings list, and reloads them on the refresh interval', async () => {
    const token = await adminToken(server());
    expect((await call('DELETE', '/cache/namespaces/parsers', token)).statusCode).toBe(204);
    expect(namespace((await call('GET', '/cache', token)).json(), 'parsers').size).toBe(0);
    const res = await call('PATCH', '/settings/cache', token, { prefetch: ['parsers'], refresh_interval_seconds: 1 });
    expect(res.statusCode, res.body).toBe(200);
    // Nothing asked for a parser: the settings change loaded the namespace.
    await vi.waitFor(async () => expect(namespace((await call('GET', '/cache', token)).json(), 'parsers').size).toBe(1));
    // Each refresh clears the namespace and loads it again: a miss each time.
    const misses = namespace((await call('GET', '/cache', token)).json(), 'parsers').misses;
    await vi.waitFor(async () => expect(namespace((await call('GET', '/cache', token)).json(), 'parsers').misses).toBeGreaterThanOrEqual(misses + 2), {
      timeout: 10_000,
      interval: 100,
    });
    expect((await call('PATCH', '/settings/cache', token, { prefetch: [], refresh_interval_seconds: 0 })).statusCode).toBe(200);
  });
});
