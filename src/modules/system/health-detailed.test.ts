import { describe, expect, it } from 'vitest';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';
import { requireRedis } from '../../../test/helpers/redis.js';
import { createTestServer, useTestServer } from '../../../test/helpers/server.js';

describe('GET /health/detailed and /api/v1/system/info on sqlite (single node)', () => {
  const server = useTestServer('sqlite');

  it('needs system:read while /health stays public', async () => {
    const inject = server().app.inject.bind(server().app);
    expect((await inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/health/detailed' })).statusCode).toBe(401);
    const viewer = await loginAs(server(), 'viewer');
    expect((await inject({ method: 'GET', url: '/health/detailed', headers: bearer(viewer.token) })).statusCode).toBe(200);
    // A session that must change its password holds only account:* permissions.
    const reset = await inject({
      method: 'POST',
      url: `/api/v1/users/${viewer.userId}/password-reset`,
      headers: bearer(await adminToken(server())),
      payload: { password: 'temporary-pass-9931' },
    });
    expect(reset.statusCode).toBe(204);
    const limited = await login(server(), viewer.username, 'temporary-pass-9931');
    expect((await inject({ method: 'GET', url: '/health/detailed', headers: bearer(limited.access_token) })).statusCode).toBe(403);
  });

  it('lists this node, the queue, the database latency and no Redis', async () => {
    const h = bearer(await adminToken(server()));
    for (const url of ['/health/detailed', '/api/v1/system/info']) {
      const res = await server().app.inject({ method: 'GET', url, headers: h });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({
        name: 'opsdeck',
        mode: 'single',
        database_dialect: 'sqlite',
        roles: expect.arrayContaining(['api']),
        queue: { queued: 0, running: {} },
        redis_latency_ms: null,
      });
      expect(body.database_latency_ms).toBeTypeOf('number');
      expect(body.nodes).toEqual([expect.objectContaining({ id: body.node_id, roles: body.roles, version: body.version })]);
      expect(Number.isNaN(Date.parse(body.nodes[0].last_seen))).toBe(false);
    }
  });
});

describe('GET /health/detailed on postgres (cluster of two nodes)', () => {
  it('lists both nodes from their heartbeats, the Redis latency, and drops a node that stopped', async () => {
    await requireRedis();
    const a = await createTestServer('postgres', { cluster: true });
    const b = await createTestServer('postgres', { cluster: true, db: a.db });
    try {
      const detailed = async (s: typeof a) => {
        const res = await s.app.inject({ method: 'GET', url: '/health/detailed', headers: bearer(await adminToken(s)) });
        expect(res.statusCode, res.body).toBe(200);
        return res.json();
      };
      const ofA = await detailed(a);
      const ofB = await detailed(b);
      expect(ofA.node_id).not.toBe(ofB.node_id);
      expect(ofA.mode).toBe('cluster');
      expect(ofA.redis_latency_ms).toBeTypeOf('number');
      expect(ofA.database_latency_ms).toBeTypeOf('number');
      const ids = (d: { nodes: { id: string }[] }) => d.nodes.map((n) => n.id);
      expect(ids(await detailed(a))).toEqual(expect.arrayContaining([ofA.node_id, ofB.node_id]));
      await b.close();
      expect(ids(await detailed(a))).toContain(ofA.node_id);
      expect(ids(await detailed(a))).not.toContain(ofB.node_id);
    } finally {
      await b.close().catch(() => undefined);
      await a.close();
    }
  });
});
