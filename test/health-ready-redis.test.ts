/**
 * Readiness is a write, not a PING: a Redis that refuses writes (out of memory) makes
 * /health/ready answer 503 on the API node and on an `opsdeck worker`'s own health listener.
 * The Redis here is a throwaway redis-server on a free port; the shared one is never reconfigured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runOpsdeck, type RunningProcess } from './helpers/process.js';
import { createTestServer, TEST_JWT_SECRET, TEST_MASTER_KEY, type TestServer } from './helpers/server.js';
import { freeTcpPort, waitForTcp } from './peers/ports.js';
import { uniqueQueue } from './jobs/helpers.js';

let redis: ChildProcess | undefined;
let redisUrl: string;
let admin: Redis;
const procs: RunningProcess[] = [];

beforeAll(async () => {
  const port = await freeTcpPort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForTcp('127.0.0.1', port);
  redisUrl = `redis://127.0.0.1:${port}`;
  admin = new Redis(redisUrl);
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  admin?.disconnect();
  redis?.kill('SIGKILL');
});

type Readiness = { status: string; checks: { name: string; status: string; error?: string }[] };

/** Makes Redis refuse every write (OOM) until the returned function restores it. */
async function exhaustMemory(): Promise<() => Promise<void>> {
  await admin.config('SET', 'maxmemory', '1');
  return async () => {
    await admin.config('SET', 'maxmemory', '0');
  };
}

async function expectRedisRefusesWritesThenRecovers(ready: () => Promise<{ status: number; body: Readiness }>): Promise<void> {
  const before = await ready();
  expect(before.status, JSON.stringify(before.body)).toBe(200);
  expect(before.body.checks.map((c) => [c.name, c.status])).toEqual([
    ['database', 'up'],
    ['redis', 'up'],
  ]);
  const restore = await exhaustMemory();
  try {
    expect(await admin.ping()).toBe('PONG');
    await vi.waitFor(
      async () => {
        const during = await ready();
        expect(during.status).toBe(503);
        expect(during.body.status).toBe('not_ready');
        expect(during.body.checks.find((c) => c.name === 'redis')).toMatchObject({ status: 'down', error: expect.stringMatching(/OOM/) });
        expect(during.body.checks.find((c) => c.name === 'database')?.status).toBe('up');
      },
      { timeout: 10_000, interval: 200 },
    );
  } finally {
    await restore();
  }
  await vi.waitFor(async () => expect((await ready()).status).toBe(200), { timeout: 10_000, interval: 200 });
}

describe('readiness with a Redis that refuses writes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer('postgres', { env: { OPSDECK_REDIS_URL: redisUrl, OPSDECK_JOBS_QUEUE: uniqueQueue('ready'), OPSDECK_ROLES: 'api' } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('the API node reports not ready while Redis answers PING but refuses writes', async () => {
    await expectRedisRefusesWritesThenRecovers(async () => {
      const res = await server.app.inject({ method: 'GET', url: '/health/ready' });
      return { status: res.statusCode, body: res.json() as Readiness };
    });
  });

  it('an opsdeck worker serves /health and /health/ready on its own listener, reflecting its Redis and database', async () => {
    const worker = runOpsdeck(['worker'], {
      OPSDECK_DATABASE_URL: server.db.url!,
      OPSDECK_REDIS_URL: redisUrl,
      OPSDECK_JOBS_QUEUE: server.config.jobsQueue,
      OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
      OPSDECK_MASTER_KEY: TEST_MASTER_KEY,
      OPSDECK_WORKER_HEALTH_PORT: '0',
      OPSDECK_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-ready-')),
    });
    procs.push(worker);
    const started = JSON.parse(await worker.waitFor(/opsdeck worker started/, 60_000)) as { health: string };
    const live = await fetch(`${started.health}/health`);
    expect([live.status, await live.json()]).toEqual([200, { status: 'ok' }]);
    await expectRedisRefusesWritesThenRecovers(async () => {
      const res = await fetch(`${started.health}/health/ready`);
      return { status: res.status, body: (await res.json()) as Readiness };
    });
    expect(worker.child.exitCode).toBeNull();
  }, 120_000);
});

describe('an opsdeck worker on a single node (SQLite, embedded queue)', () => {
  it('serves readiness of its database on its health listener', async () => {
    const worker = runOpsdeck(['worker'], { OPSDECK_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-ready-')), OPSDECK_WORKER_HEALTH_PORT: '0' });
    procs.push(worker);
    const started = JSON.parse(await worker.waitFor(/opsdeck worker started/, 60_000)) as { health: string };
    const res = await fetch(`${started.health}/health/ready`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Readiness).checks.map((c) => [c.name, c.status])).toEqual([['database', 'up']]);
  }, 120_000);
});
