/**
 * A worker process paused past its lease (SIGSTOP: a GC pause, a frozen VM) while another worker
 * takes the run over and finishes it. When the paused one wakes up, its target result and log
 * lines are fenced off by the lease: the run keeps the new attempt's result.
 * Cluster (PostgreSQL + BullMQ): the paused worker is an `opsdeck worker` process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../helpers/auth.js';
import { runOpsdeck, type RunningProcess } from '../helpers/process.js';
import { redisTestUrl, requireRedis } from '../helpers/redis.js';
import { createTestServer, TEST_JWT_SECRET, TEST_MASTER_KEY, type TestServer } from '../helpers/server.js';
import { jobsClient, uniqueQueue } from './helpers.js';

let apiNode: TestServer;
let takeover: TestServer | undefined;
let paused: RunningProcess;
let api: ReturnType<typeof jobsClient>;
const env = { OPSDECK_JOBS_QUEUE: uniqueQueue('paused'), OPSDECK_JOBS_LEASE_MS: '1500', OPSDECK_JOBS_LOCAL_COMMANDS: '/bin/sh' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-paused-'));

beforeAll(async () => {
  await requireRedis();
  apiNode = await createTestServer('postgres', { cluster: true, env: { ...env, OPSDECK_ROLES: 'api' } });
  api = jobsClient(apiNode, await adminToken(apiNode));
  paused = runOpsdeck(['worker'], {
    ...env,
    OPSDECK_DATABASE_URL: apiNode.db.url!,
    OPSDECK_REDIS_URL: redisTestUrl(),
    OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
    OPSDECK_MASTER_KEY: TEST_MASTER_KEY,
    OPSDECK_DATA_DIR: dir,
  });
  await paused.waitFor(/opsdeck worker started/, 60_000);
}, 120_000);

afterAll(async () => {
  if (paused && paused.child.exitCode === null) {
    paused.child.kill('SIGCONT');
    paused.child.kill('SIGKILL');
    await paused.exited;
  }
  await takeover?.close();
  await apiNode?.close();
});

describe('a worker paused past its lease (PostgreSQL + BullMQ)', () => {
  it('writes nothing over the attempt that took its run over', async () => {
    const marker = path.join(dir, 'started');
    const script = `if [ -e ${marker} ]; then echo second-attempt; else touch ${marker}; echo first-attempt; sleep 3; echo first-attempt-done; fi`;
    const run = await api.start({ type: 'local_command', params: { command: '/bin/sh', args: ['-c', script] }, max_attempts: 2, backoff_ms: 10 });
    await api.waitFor(run.id, (r) => r.status === 'running');
    await expect.poll(async () => (await api.logs(run.id)).map((l) => l.message), { timeout: 20_000, interval: 100 }).toContain('first-attempt');

    paused.child.kill('SIGSTOP');
    takeover = await createTestServer('postgres', { db: apiNode.db, cluster: true, env: { ...env, OPSDECK_ROLES: 'worker' } });
    const done = await api.waitFor(run.id, (r) => r.status === 'succeeded', 30_000);
    expect(done.attempt).toBe(2);
    const before = await api.output(run.id);
    expect(before.targets[0]).toMatchObject({ status: 'succeeded', attempt: 2, output: 'second-attempt\n' });
    const logsBefore = await api.logs(run.id);

    // The paused worker wakes up after its command ended: its result must not land.
    paused.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 4000));
    expect(paused.child.exitCode, paused.stderr()).toBeNull();
    const after = await api.output(run.id);
    expect(after.targets[0]).toMatchObject({ status: 'succeeded', attempt: 2, output: 'second-attempt\n' });
    expect((await api.get(run.id)).status).toBe('succeeded');
    const logsAfter = await api.logs(run.id);
    expect(logsAfter).toEqual(logsBefore);
    expect(logsAfter.map((l) => l.message)).not.toContain('first-attempt-done');
  }, 120_000);
});
