/**
 * The database unreachable (PostgreSQL down or its backends cut) or busy (SQLite locked past the
 * busy timeout) is a 503 DATABASE_UNAVAILABLE with Retry-After, never a 500 INTERNAL; and the
 * server serves again once the database is back.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adminToken, bearer } from './helpers/auth.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/db.js';
import { createTestServer, type TestServer } from './helpers/server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

describe.each(DIALECTS)('database unavailable on %s', (dialect) => {
  let db: TestDatabase;
  let proxy: TcpProxy | undefined;
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    db = await createTestDatabase(dialect, { migrate: false });
    let env: Record<string, string> = { OPSDECK_ROLES: 'api' };
    if (db.url) {
      const url = new URL(db.url);
      proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.host = `127.0.0.1:${proxy.port}`;
      env = { ...env, OPSDECK_DATABASE_URL: url.toString() };
    }
    server = await createTestServer(dialect, { db, env });
    token = await adminToken(server);
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await db?.drop();
  });

  const create = () =>
    server.app.inject({ method: 'POST', url: '/api/v1/jobs/runs', headers: bearer(token), payload: { type: 'noop', targets: ['down.example'] } });

  /** Makes the database unavailable to the server until the returned function is called. */
  async function takeDown(): Promise<() => Promise<void>> {
    if (proxy) {
      await proxy.down();
      return () => proxy!.up();
    }
    // Another connection holds the write lock: the server's writes wait out the busy timeout.
    const other = new SQLite(path.join(db.dataDir, 'opsdeck.db'));
    other.prepare('begin immediate').run();
    return async () => {
      other.prepare('rollback').run();
      other.close();
    };
  }

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After while the database is away, and serves again after', async () => {
    expect((await create()).statusCode).toBe(202);
    const bringBack = await takeDown();
    try {
      const res = await create();
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
      expect(res.body).not.toMatch(/password|postgres:\/\/|SQLITE_|ECONNREFUSED/i);
      if (proxy) {
        const list = await server.app.inject({ method: 'GET', url: '/api/v1/jobs/runs', headers: bearer(token) });
        expect([list.statusCode, list.json().code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
      }
    } finally {
      await bringBack();
    }
    const again = await create();
    expect(again.statusCode, again.body).toBe(202);
  });

  // PostgreSQL only: SQLite busy blocks writes, and subscribing only reads.
  if (dialect === 'postgres') {
    it('tells a WebSocket subscriber DATABASE_UNAVAILABLE, never the driver error', async () => {
      const run = (await create()).json() as { id: string };
      await server.app.listen({ host: '127.0.0.1', port: 0 });
      const ws = new WebSocket(`ws://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/api/v1/ws`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const frames: { type: string; code?: string; message?: string }[] = [];
      ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as { type: string }));
      await expect.poll(() => frames.map((f) => f.type), { timeout: 10_000 }).toContain('ready');
      const bringBack = await takeDown();
      try {
        ws.send(JSON.stringify({ type: 'subscribe', channel: `job-run:${run.id}`, after: 0 }));
        await expect.poll(() => frames.find((f) => f.type === 'error'), { timeout: 15_000 }).toBeDefined();
        const error = frames.find((f) => f.type === 'error')!;
        expect(error.code).toBe('DATABASE_UNAVAILABLE');
        expect(JSON.stringify(error)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Connection terminated/);
      } finally {
        ws.close();
        await bringBack();
      }
    });
  }
});
