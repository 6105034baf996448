import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestServer, useTestServer } from './helpers/server.js';
import { requireRedis } from './helpers/redis.js';
import { DIALECTS } from './helpers/db.js';
import { adminToken, bearer } from './helpers/auth.js';

describe.each(DIALECTS)('health, metrics and system info on %s', (dialect) => {
  const server = useTestServer(dialect);

  it('answers liveness', async () => {
    const res = await server().app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('reports the database ready with its latency', async () => {
    const res = await server().app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual([{ name: 'database', status: 'up', latency_ms: expect.any(Number) }]);
  });

  it('reports not ready, within the probe timeout, while the database cannot answer a request', async () => {
    const { database, config } = { database: server().modules.database, config: server().config };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Every connection held by a transaction that waits: SQLite's one, or the whole PostgreSQL pool.
    const held = Array.from({ length: dialect === 'sqlite' ? 1 : config.dbPoolSize }, () => database.db.transaction().execute(() => gate));
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const res = await server().app.inject({ method: 'GET', url: '/health/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks[0]).toMatchObject({ name: 'database', status: 'down' });
    } finally {
      release();
      await Promise.all(held);
    }
    expect((await server().app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  });

  it('describes the system to a signed-in user, and nobody else', async () => {
    expect((await server().app.inject({ method: 'GET', url: '/api/v1/system/info' })).statusCode).toBe(401);
    const res = await server().app.inject({ method: 'GET', url: '/api/v1/system/info', headers: bearer(await adminToken(server())) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'opsdeck',
      mode: 'single',
      database_dialect: dialect,
      roles: ['api', 'worker', 'scheduler'],
      uptime_seconds: expect.any(Number),
    });
  });

  it('serves Prometheus metrics that promtool accepts', async () => {
    await server().app.inject({ method: 'GET', url: '/api/v1/system/info', headers: bearer(await adminToken(server())) });
    await server().modules.cache.get('nothing-here');
    const res = await server().app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/opsdeck_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/system\/info"[^}]*status_code="200"/);
    expect(res.body).toMatch(/opsdeck_db_query_duration_seconds_count\{dialect="[a-z]+",outcome="ok"\} [1-9]/);
    expect(res.body).toMatch(/opsdeck_cache_requests_total\{result="miss"\} [1-9]/);
    expect(res.body).toContain('opsdeck_process_cpu_seconds_total');
    const file = path.join(os.tmpdir(), `metrics-${process.pid}-${dialect}.txt`);
    fs.writeFileSync(file, res.body);
    // promtool reads from stdin and exits non-zero on a malformed exposition.
    execFileSync('promtool', ['check', 'metrics'], { input: res.body, stdio: ['pipe', 'pipe', 'pipe'] });
    fs.rmSync(file);
  });
});

describe('readiness in cluster mode', () => {
  it('includes Redis, and answers 503 when Redis is down', async () => {
    await requireRedis();
    const up = await createTestServer('sqlite', { cluster: true });
    try {
      const res = await up.app.inject({ method: 'GET', url: '/health/ready' });
      expect(res.statusCode).toBe(200);
      expect(res.json().checks.map((c: { name: string }) => c.name)).toEqual(['database', 'redis']);
    } finally {
      await up.close();
    }
    // A port nothing listens on stands in for a Redis that went away.
    const down = await createTestServer('sqlite', { env: { OPSDECK_REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const res = await down.app.inject({ method: 'GET', url: '/health/ready' });
      expect(res.statusCode).toBe(503);
      const body = res.json();
      expect(body.status).toBe('not_ready');
      expect(body.checks).toContainEqual(expect.objectContaining({ name: 'redis', status: 'down', latency_ms: null }));
      expect(body.checks).toContainEqual(expect.objectContaining({ name: 'database', status: 'up' }));
    } finally {
      await down.close();
    }
  });
});
