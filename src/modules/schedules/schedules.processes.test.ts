import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import SQLite from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgDatabase } from '../../../test/helpers/db.js';
import { runOpsdeck, type RunningProcess } from '../../../test/helpers/process.js';
import { deleteRedisKeys, redisTestUrl, requireRedis } from '../../../test/helpers/redis.js';
import { TEST_ADMIN_PASSWORD, TEST_JWT_SECRET } from '../../../test/helpers/server.js';

/**
 * Real `opsdeck serve` processes sharing one database: counts fires and runs per tick of a
 * 1-second schedule while nodes run, stop and restart. Wall-clock sleeps here are bounded
 * (seconds, not minutes) and no assertion depends on timing, only on tick counts.
 */
interface Fire {
  fire_at: string;
  outcome: string;
  run_id: string | null;
  missed_count: number;
  claimed_by: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-sched-'));

async function start(env: Record<string, string>): Promise<{ proc: RunningProcess; url: string }> {
  const proc = runOpsdeck(['serve'], {
    OPSDECK_PORT: '0',
    OPSDECK_LOG_LEVEL: 'info',
    OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    OPSDECK_AUTH_RATE_LIMIT: '100000',
    ...env,
  });
  const line = await proc.waitFor(/"msg":"opsdeck listening"/, 90_000);
  return { proc, url: JSON.parse(line).url as string };
}

async function stop(p: RunningProcess): Promise<void> {
  p.child.kill('SIGTERM');
  await p.exited;
}

async function call(url: string, token: string | null, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Signs in as admin and creates a loopback template and a 1-second schedule of it. */
async function createSchedule(url: string): Promise<{ token: string; scheduleId: string }> {
  const token = (await call(url, null, 'POST', '/auth/login', { username: 'admin', password: TEST_ADMIN_PASSWORD })).access_token as string;
  const template = await call(url, token, 'POST', '/jobs/templates', {
    name: 'tick probe',
    type: 'tcp_port_scan',
    targets: ['127.0.0.1'],
    params: { ports: [1], timeout_ms: 200 },
  });
  const schedule = await call(url, token, 'POST', '/schedules', {
    name: 'every second',
    template_id: template.id,
    kind: 'interval',
    interval_seconds: 1,
    overlap: 'allow',
  });
  return { token, scheduleId: schedule.id };
}

/** Every tick between the first and the last fire is there once, on time, with its own run. */
function expectEveryTickOnce(fires: Fire[], runs: { id: string; trigger_kind: string }[]): void {
  expect(fires.length).toBeGreaterThanOrEqual(5);
  const ticks = fires.map((f) => Date.parse(f.fire_at));
  expect(new Set(ticks).size).toBe(ticks.length);
  for (let i = 1; i < ticks.length; i += 1) expect(ticks[i]! - ticks[i - 1]!, `gap after ${fires[i - 1]!.fire_at}`).toBe(1000);
  expect(fires.every((f) => f.outcome === 'enqueued' && f.missed_count === 0)).toBe(true);
  expect(new Set(fires.map((f) => f.run_id)).size).toBe(fires.length);
  expect(runs).toHaveLength(fires.length);
  expect(runs.every((r) => r.trigger_kind === 'schedule')).toBe(true);
  expect(new Set(runs.map((r) => r.id))).toEqual(new Set(fires.map((f) => f.run_id)));
}

describe('three scheduler processes on one PostgreSQL database, cluster mode (Redis, BullMQ)', () => {
  const queue = `sched${randomBytes(4).toString('hex')}`;
  const nodes: RunningProcess[] = [];
  beforeEach(async () => {
    await requireRedis();
  });
  afterAll(async () => {
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL');
    await deleteRedisKeys(queue);
  });

  it('fire each tick exactly once, also while a node stops and restarts', { timeout: 240_000 }, async () => {
    const db = await createPgDatabase();
    const env = {
      OPSDECK_DATABASE_URL: db.url,
      OPSDECK_REDIS_URL: redisTestUrl(),
      OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
      OPSDECK_MASTER_KEY: `k1:${randomBytes(32).toString('base64')}`,
      OPSDECK_JOBS_QUEUE: queue,
    };
    try {
      const first = await start({ ...env, OPSDECK_DATA_DIR: tmp() });
      nodes.push(first.proc);
      const others = await Promise.all([start({ ...env, OPSDECK_DATA_DIR: tmp() }), start({ ...env, OPSDECK_DATA_DIR: tmp() })]);
      nodes.push(...others.map((o) => o.proc));
      const { token, scheduleId } = await createSchedule(first.url);

      await sleep(6_000);
      await stop(nodes[1]!); // a node goes away…
      await sleep(3_000);
      const back = await start({ ...env, OPSDECK_DATA_DIR: tmp() }); // …and comes back
      nodes.push(back.proc);
      await sleep(4_000);
      await call(first.url, token, 'POST', `/schedules/${scheduleId}/disable`);
      await sleep(1_500); // runs of the last ticks are created
      await Promise.all(nodes.filter((n) => n.child.exitCode === null).map(stop));

      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const fires = (
        await client.query<Fire>('select fire_at, outcome, run_id, missed_count, claimed_by from schedule_fires where schedule_id = $1 order by fire_at', [
          scheduleId,
        ])
      ).rows;
      const runs = (await client.query<{ id: string; trigger_kind: string }>('select id, trigger_kind from job_runs where triggered_by = $1', [scheduleId]))
        .rows;
      await client.end();
      expectEveryTickOnce(fires, runs);
      // the claim really was contended: ticks were taken by more than one node
      expect(new Set(fires.map((f) => f.claimed_by)).size).toBeGreaterThan(1);
      for (const n of nodes) expect(n.stdout()).not.toMatch(/scheduler pass failed|schedule tick not claimed/);
    } finally {
      await db.drop();
    }
  });
});

describe('a single SQLite node stopped and restarted', () => {
  it('loses and doubles no tick across the restart', { timeout: 180_000 }, async () => {
    const dataDir = tmp();
    const env = { OPSDECK_DATA_DIR: dataDir };
    const firstRun = await start(env);
    const { token, scheduleId } = await createSchedule(firstRun.url);
    await sleep(4_000);
    await stop(firstRun.proc);
    await sleep(3_000); // ticks due while nothing runs: within the grace period, so fired late, once
    const second = await start(env);
    await sleep(3_000);
    await call(second.url, token, 'POST', `/schedules/${scheduleId}/disable`);
    await sleep(1_000);
    await stop(second.proc);

    const sqlite = new SQLite(path.join(dataDir, 'opsdeck.db'), { readonly: true });
    const fires = sqlite
      .prepare('select fire_at, outcome, run_id, missed_count, claimed_by from schedule_fires where schedule_id = ? order by fire_at')
      .all(scheduleId) as Fire[];
    const runs = sqlite.prepare('select id, trigger_kind from job_runs where triggered_by = ?').all(scheduleId) as { id: string; trigger_kind: string }[];
    sqlite.close();
    expectEveryTickOnce(fires, runs);
    const claimedAfterRestart = fires.filter((f) => f.claimed_by !== fires[0]!.claimed_by);
    expect(claimedAfterRestart.length).toBeGreaterThan(0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
