/**
 * A real `opsdeck worker` process (PostgreSQL + BullMQ) whose database backends are killed with
 * pg_terminate_backend, again and again while runs write results and logs: the process stays
 * up (no "Unhandled 'error' event … Connection terminated unexpectedly") and later runs complete.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../helpers/auth.js';
import { pgAdminUrl } from '../helpers/db.js';
import { runOpsdeck, type RunningProcess } from '../helpers/process.js';
import { redisTestUrl, requireRedis } from '../helpers/redis.js';
import { createTestServer, TEST_JWT_SECRET, TEST_MASTER_KEY, type TestServer } from '../helpers/server.js';
import { jobsClient, uniqueQueue } from './helpers.js';

let apiNode: TestServer;
let worker: RunningProcess;
let api: ReturnType<typeof jobsClient>;
let dbName: string;

beforeAll(async () => {
  await requireRedis();
  const queue = uniqueQueue('pgkill');
  const env = { OPSDECK_JOBS_QUEUE: queue, OPSDECK_JOBS_LEASE_MS: '2000' };
  apiNode = await createTestServer('postgres', { cluster: true, env: { ...env, OPSDECK_ROLES: 'api' } });
  api = jobsClient(apiNode, await adminToken(apiNode));
  dbName = new URL(apiNode.db.url!).pathname.slice(1);
  worker = runOpsdeck(['worker'], {
    ...env,
    OPSDECK_DATABASE_URL: apiNode.db.url!,
    OPSDECK_REDIS_URL: redisTestUrl(),
    OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
    OPSDECK_MASTER_KEY: TEST_MASTER_KEY,
    OPSDECK_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-pgkill-')),
    OPSDECK_LOG_LEVEL: 'info',
  });
  await worker.waitFor(/opsdeck worker started/, 60_000);
}, 120_000);

afterAll(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await apiNode?.close();
});

/** Kills every backend of the test database but our own; returns how many. */
async function terminateBackends(): Promise<number> {
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    const r = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
    return r.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('an opsdeck worker whose PostgreSQL backends are terminated', () => {
  it('stays alive through repeated pg_terminate_backend and completes the runs that follow', async () => {
    // Busy runs: many log lines and targets, so the worker holds connections mid-transaction.
    const busy = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        api.start({
          type: 'noop',
          targets: Array.from({ length: 10 }, (_, t) => `busy-${i}-${t}.example`),
          params: { lines: 300, sleep_ms: 200 },
          max_attempts: 3,
          backoff_ms: 10,
        }),
      ),
    );
    let killed = 0;
    for (let round = 0; round < 15; round++) {
      killed += await terminateBackends();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(killed).toBeGreaterThan(0);
    expect(worker.child.exitCode, worker.stderr()).toBeNull();
    // Every busy run ends (done, retried or recovered through its lease), none stays running.
    for (const r of busy) expect(['succeeded', 'failed', 'partially_failed']).toContain((await api.finished(r.id, 60_000)).status);
    const after = await api.start({ type: 'noop', targets: ['after.example'], params: { lines: 3 } });
    expect((await api.finished(after.id, 30_000)).status).toBe('succeeded');
    expect(worker.child.exitCode, worker.stderr()).toBeNull();
    expect(worker.stderr()).not.toMatch(/Unhandled 'error' event/);
  }, 180_000);
});
