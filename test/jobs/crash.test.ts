/**
 * "Nothing lost": a worker process killed with SIGKILL mid-run. Single node (SQLite + embedded
 * queue): the node is killed and restarted on the same data directory. Cluster (PostgreSQL +
 * BullMQ): one of two `opsdeck worker` processes is killed and the other takes over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPgDatabase } from '../helpers/db.js';
import { runOpsdeck, type RunningProcess } from '../helpers/process.js';
import { requireRedis, redisTestUrl } from '../helpers/redis.js';
import { TEST_ADMIN_PASSWORD, TEST_JWT_SECRET, TEST_MASTER_KEY } from '../helpers/server.js';
import { uniqueQueue } from './helpers.js';

const procs: RunningProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string>): RunningProcess {
  const p = runOpsdeck(args, env);
  procs.push(p);
  return p;
}

async function urlOf(p: RunningProcess): Promise<string> {
  const line = await p.waitFor(/opsdeck listening/, 60_000);
  return (JSON.parse(line) as { url: string }).url;
}

function client(base: string) {
  let token = '';
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  return {
    async login() {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
      });
      token = ((await res.json()) as { access_token: string }).access_token;
    },
    async create(body: Record<string, unknown>): Promise<string> {
      const r = await call('POST', '/api/v1/jobs/runs', body);
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      return r.json.id as string;
    },
    get: async (id: string) => (await call('GET', `/api/v1/jobs/runs/${id}`)).json,
    output: async (id: string) => (await call('GET', `/api/v1/jobs/runs/${id}/output`)).json,
    logs: async (id: string) => (await call('GET', `/api/v1/jobs/runs/${id}/logs?limit=1000`)).json.items as { message: string }[],
    setBase(next: string) {
      base = next;
    },
  };
}

/** A command that records each start in a file; the first attempt hangs, a later one succeeds. */
function flakyScript(dir: string, name: string): string[] {
  const file = path.join(dir, name);
  return ['-c', `echo "start $$" >> ${file}; if [ $(wc -l < ${file}) -ge 2 ]; then echo second-attempt; else echo first-attempt; sleep 120; fi`];
}

const TERMINAL = ['succeeded', 'failed', 'partially_failed', 'cancelled', 'timed_out'];

describe('kill -9 of a single node (SQLite + embedded queue), restarted on the same data directory', () => {
  it('recovers every acknowledged run into exactly one terminal state', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-crash-'));
    const env = {
      OPSDECK_DATA_DIR: dataDir,
      OPSDECK_PORT: '0',
      OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      OPSDECK_JOBS_LEASE_MS: '1500',
      OPSDECK_JOBS_LOCAL_COMMANDS: '/bin/sh',
    };
    const first = start(['serve'], env);
    const api = client(await urlOf(first));
    await api.login();
    const safe = await api.create({
      type: 'local_command',
      params: { command: '/bin/sh', args: flakyScript(dataDir, 'safe') },
      max_attempts: 2,
      backoff_ms: 10,
    });
    const changing = await api.create({ type: 'noop', targets: ['r1.example'], params: { sleep_ms: 120_000, changes_devices: true }, max_attempts: 3 });
    const lastAttempt = await api.create({ type: 'noop', targets: ['r2.example'], params: { sleep_ms: 120_000 } });
    const notYet = await api.create({ type: 'noop', targets: ['r3.example'], not_before: new Date(Date.now() + 4000).toISOString() });
    await vi.waitFor(
      async () => {
        for (const id of [safe, changing, lastAttempt]) expect((await api.get(id)).status).toBe('running');
        expect((await api.logs(safe)).map((l) => l.message)).toContain('first-attempt');
      },
      { timeout: 20_000, interval: 100 },
    );

    first.child.kill('SIGKILL');
    await first.exited;
    const second = start(['serve'], env);
    api.setBase(await urlOf(second));
    await api.login();

    const final = async (id: string) => {
      let run: Record<string, any> = {};
      await vi.waitFor(
        async () => {
          run = await api.get(id);
          expect(TERMINAL).toContain(run.status);
        },
        { timeout: 30_000, interval: 200 },
      );
      return run;
    };
    expect(await final(safe)).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect((await api.logs(safe)).map((l) => l.message)).toEqual(expect.arrayContaining(['first-attempt', 'second-attempt']));
    expect(fs.readFileSync(path.join(dataDir, 'safe'), 'utf8').trim().split('\n')).toHaveLength(2);
    const changed = await final(changing);
    expect(changed.status).toBe('failed');
    expect(changed.reason).toMatch(/^outcome unknown/);
    expect(changed.attempt).toBe(1);
    expect(await final(lastAttempt)).toMatchObject({ status: 'failed', reason: 'worker lost' });
    expect(await final(notYet)).toMatchObject({ status: 'succeeded', attempt: 1 });
    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);
});

describe('kill -9 of one cluster worker (PostgreSQL + BullMQ)', () => {
  it('lets another worker recover its runs; none runs twice at once, none vanishes', async () => {
    await requireRedis();
    const pgdb = await createPgDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-crash-cluster-'));
    try {
      const env = {
        OPSDECK_DATABASE_URL: pgdb.url,
        OPSDECK_REDIS_URL: redisTestUrl(),
        OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
        OPSDECK_MASTER_KEY: TEST_MASTER_KEY,
        OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
        OPSDECK_DATA_DIR: dir,
        OPSDECK_PORT: '0',
        OPSDECK_JOBS_QUEUE: uniqueQueue('crash'),
        OPSDECK_JOBS_LEASE_MS: '1500',
        OPSDECK_JOBS_LOCAL_COMMANDS: '/bin/sh',
      };
      const apiNode = start(['serve'], { ...env, OPSDECK_ROLES: 'api' });
      const api = client(await urlOf(apiNode));
      await api.login();
      const victim = start(['worker'], env);
      await victim.waitFor(/opsdeck worker started/, 60_000);
      const safe = await api.create({ type: 'local_command', params: { command: '/bin/sh', args: flakyScript(dir, 'safe') }, max_attempts: 2, backoff_ms: 10 });
      const changing = await api.create({ type: 'noop', targets: ['c1.example'], params: { sleep_ms: 120_000, changes_devices: true }, max_attempts: 3 });
      await vi.waitFor(
        async () => {
          for (const id of [safe, changing]) expect((await api.get(id)).status).toBe('running');
        },
        { timeout: 20_000, interval: 100 },
      );
      const survivor = start(['worker'], env);
      await survivor.waitFor(/opsdeck worker started/, 60_000);
      victim.child.kill('SIGKILL');
      await victim.exited;

      let run: Record<string, any> = {};
      await vi.waitFor(
        async () => {
          run = await api.get(safe);
          expect(run.status).toBe('succeeded');
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(run.attempt).toBe(2);
      expect(run.worker_id).toContain(`:${survivor.child.pid}:`);
      expect(fs.readFileSync(path.join(dir, 'safe'), 'utf8').trim().split('\n')).toHaveLength(2);
      await vi.waitFor(
        async () => {
          run = await api.get(changing);
          expect(run.status).toBe('failed');
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(run.reason).toMatch(/^outcome unknown/);
      const queuedAfter = await api.create({ type: 'noop', targets: ['c2.example'] });
      await vi.waitFor(async () => expect((await api.get(queuedAfter)).status).toBe('succeeded'), { timeout: 20_000, interval: 100 });
      survivor.child.kill('SIGTERM');
      apiNode.child.kill('SIGTERM');
      await Promise.all([survivor.exited, apiNode.exited]);
    } finally {
      await pgdb.drop();
    }
  }, 180_000);
});
