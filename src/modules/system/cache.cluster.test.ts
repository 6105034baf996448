import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { requireRedis } from '../../../test/helpers/redis.js';
import { createTestServer, type TestServer } from '../../../test/helpers/server.js';

/** Two API nodes over one database and one Redis: clearing the cache on A clears B's memory tier too. */
describe.each(DIALECTS)('cache administration across two cluster nodes on %s', (dialect) => {
  let a: TestServer;
  let token = '';
  /** Each test starts its own node B after listing `parsers` for prefetch (tests run in any order). */
  const started: TestServer[] = [];
  const startNodeB = async () => {
    const res = await a.app.inject({
      method: 'PATCH',
      url: '/api/v1/settings/cache',
      headers: bearer(token),
      payload: { prefetch: ['parsers'], refresh_interval_seconds: 0 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const node = await createTestServer(dialect, { cluster: true, db: a.db });
    started.push(node);
    return node;
  };
  const row = (node: TestServer, namespace: string) => node.modules.cache.namespaceStats().find((r) => r.namespace === namespace);
  const held = (node: TestServer, namespace: string) => row(node, namespace)?.size ?? 0;
  beforeAll(async () => {
    await requireRedis();
    a = await createTestServer(dialect, { cluster: true });
    token = await adminToken(a);
  });
  afterAll(async () => {
    for (const node of started) await node.close();
    await a?.close();
  });
  beforeEach(async () => {
    await requireRedis();
  });

  it('prefetches the listed namespaces when a node starts', async () => {
    const b = await startNodeB();
    // Nothing on B asked for a parser: start-up looked the namespace up (in cluster mode the value
    // may land in the shared tier only, before B's invalidation subscription is up).
    const looked = row(b, 'parsers');
    expect((looked?.hits ?? 0) + (looked?.misses ?? 0)).toBe(1);
    expect(await b.modules.cache.get('parsers:custom-templates')).toEqual([]);
  }, 120_000); // a second cluster node starts slowly on a loaded machine (the settings cluster test builds its in beforeAll)

  it('clears a namespace and a tag on every node', async () => {
    const nodeB = await startNodeB();
    await vi.waitFor(async () => {
      expect((await nodeB.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(200);
      await nodeB.modules.cache.get('parsers:custom-templates');
      expect(held(nodeB, 'identity')).toBeGreaterThan(0);
      expect(held(nodeB, 'parsers')).toBe(1);
    });
    expect((await a.app.inject({ method: 'DELETE', url: '/api/v1/cache/namespaces/identity', headers: bearer(token) })).statusCode).toBe(204);
    await vi.waitFor(() => expect(held(nodeB, 'identity')).toBe(0), { timeout: 2_000, interval: 10 });
    expect(held(nodeB, 'parsers')).toBe(1);

    expect((await a.app.inject({ method: 'DELETE', url: '/api/v1/cache/tags/parsers:custom-templates', headers: bearer(token) })).statusCode).toBe(204);
    await vi.waitFor(() => expect(held(nodeB, 'parsers')).toBe(0), { timeout: 2_000, interval: 10 });
  }, 120_000);
});
