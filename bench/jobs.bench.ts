/**
 * Jobs benchmarks (figures, not tests):
 *  (a) no-op throughput: raw BullMQ (add rate, empty-processor pickup rate, add→start p99) vs
 *      Opsdeck's queue wrapper and job service on the same Redis, plus embedded end to end;
 *  (b) 100 WebSocket subscribers on one run emitting 10,000 lines: delivery p99, loss/reorder,
 *      and whether one stalled subscriber slows the others;
 *  (c) ssh_command against 200 emulated IOS devices at target concurrency 50.
 * `BENCH_ONLY=a,b,c` picks parts; `BENCH_N` sets the no-op run count.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createModules } from '../src/modules.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createBullmqQueue } from '../src/platform/queue/bullmq.js';
import { createJobRegistry } from '../src/platform/queue/job-queue.js';
import { createPgDatabase } from '../test/helpers/db.js';
import { statementCounter } from '../test/helpers/statements.js';
import { TEST_ADMIN_PASSWORD, TEST_JWT_SECRET, TEST_MASTER_KEY } from '../test/helpers/server.js';
import { loopbackAddresses, startIosEmulator } from '../test/peers/ios-emulator.js';
import { freeTcpPort } from '../test/peers/ports.js';
import { ratio, startServer } from './lib.js';
import type { ReaderResult, ReaderTask } from './ws-reader.js';

const REDIS = process.env.OPSDECK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_N ?? 3000);
const ONLY = (process.env.BENCH_ONLY ?? 'a,b,c').split(',');
const PRODUCERS = 20;
const CONCURRENCY = 20;
const READER_THREADS = Number(process.env.BENCH_READER_THREADS ?? 4);
const ROUNDS_B = Number(process.env.BENCH_ROUNDS ?? 3);
// A thread does not inherit tsx's loader: it registers it, then loads the TypeScript reader.
const READER_SCRIPT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./ws-reader.ts', import.meta.url).href)}); });`;
const out = (s: string) => process.stdout.write(`${s}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const now = () => performance.timeOrigin + performance.now();

/** Runs `task(i)` for i < n with `parallel` in flight; returns ops/s. */
async function rate(n: number, parallel: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

async function rawBullmq(prefix: string) {
  const conn = new Redis(REDIS, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: conn, prefix });
  const addRate = await rate(N, PRODUCERS, (i) => queue.add('noop', { i }, { removeOnComplete: true, removeOnFail: true }));
  let done = 0;
  let t0 = 0;
  let worker: Worker | undefined;
  const finished = new Promise<number>((resolve) => {
    worker = new Worker(
      'raw',
      async () => {
        if (done === 0) t0 = performance.now();
        if (++done === N) resolve(performance.now() - t0);
      },
      { connection: new Redis(REDIS, { maxRetriesPerRequest: null }), prefix, concurrency: CONCURRENCY },
    );
  });
  const pickup = (N / (await finished)) * 1000;
  await worker?.close();
  // add → handler start latency, one job at a time
  const lat: number[] = [];
  const latWorker = new Worker('rawlat', async (job) => void lat.push(now() - (job.data as { t: number }).t), {
    connection: new Redis(REDIS, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: 1,
  });
  const latQueue = new Queue('rawlat', { connection: new Redis(REDIS, { maxRetriesPerRequest: null }), prefix });
  await latWorker.waitUntilReady();
  for (let i = 0; i < 300; i++) {
    await latQueue.add('noop', { t: now() }, { removeOnComplete: true });
    await new Promise((r) => setTimeout(r, 3));
  }
  while (lat.length < 300) await new Promise((r) => setTimeout(r, 10));
  await Promise.all([latWorker.close(), latQueue.close(), queue.close()]);
  conn.disconnect();
  return { addRate, pickup, p99: pct(lat, 99), p50: pct(lat, 50) };
}

async function wrapper(prefix: string) {
  type M = { 'noop.job': { i?: number; t?: number } };
  const q = createBullmqQueue<M>({ url: REDIS, prefix });
  const addRate = await rate(N, PRODUCERS, (i) => q.enqueue('noop.job', { i }, { jobId: `w-${i}` }));
  let done = 0;
  let t0 = 0;
  const lat: number[] = [];
  let measuring = false;
  const finished = new Promise<number>((resolve) => {
    const registry = createJobRegistry<M>(['noop.job']);
    registry.register('noop.job', async (p) => {
      if (measuring) return void lat.push(now() - p.t!);
      if (done === 0) t0 = performance.now();
      if (++done === N) resolve(performance.now() - t0);
    });
    void q.startWorker(registry, { concurrency: CONCURRENCY });
  });
  const pickup = (N / (await finished)) * 1000;
  measuring = true;
  for (let i = 0; i < 300; i++) {
    await q.enqueue('noop.job', { t: now() }, { jobId: `l-${i}` });
    await new Promise((r) => setTimeout(r, 3));
  }
  while (lat.length < 300) await new Promise((r) => setTimeout(r, 10));
  await q.close();
  return { addRate, pickup, p99: pct(lat, 99), p50: pct(lat, 50) };
}

/**
 * The job service: createRun (validate, store run + target + audit row, enqueue) and execution
 * to `succeeded`, each after a warm-up round. Enqueue rate is measured like raw BullMQ's add rate, with no consumer
 * competing for the same two cores: on an API-only node. Then, with PostgreSQL + BullMQ, a
 * worker node starts and drains those runs; embedded (where the queue lives in the process),
 * a second single node creates N runs while its worker runs them, end to end.
 */
async function service(cluster: boolean) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-jobs-'));
  const pg = cluster ? await createPgDatabase() : null;
  const env = {
    OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    OPSDECK_LOG_LEVEL: 'warn',
    OPSDECK_JOBS_CONCURRENCY: String(CONCURRENCY),
    OPSDECK_JOBS_QUEUE: `opsdeck-bench-${process.pid}-${cluster ? 'c' : 's'}`,
    ...(cluster
      ? {
          OPSDECK_DATABASE_URL: pg!.url,
          OPSDECK_REDIS_URL: REDIS,
          OPSDECK_JWT_SECRET: TEST_JWT_SECRET,
          OPSDECK_MASTER_KEY: TEST_MASTER_KEY,
          OPSDECK_DB_POOL_SIZE: '30',
        }
      : {}),
  };
  const nodes: Awaited<ReturnType<typeof createModules>>[] = [];
  const start = async (dir: string, roles?: string) => {
    const node = await createModules(
      loadConfig({ ...env, OPSDECK_DATA_DIR: dir, ...(roles ? { OPSDECK_ROLES: roles } : {}) }),
      createLogger({ level: 'warn', destination: fs.createWriteStream('/dev/null') }),
      {},
    );
    nodes.push(node);
    return node;
  };
  // One device per run: runs on one device would queue behind its session lock. Timed until the
  // last run is on the queue, not only stored (createRun answers once the run is stored).
  const create = async (node: Awaited<ReturnType<typeof createModules>>, tag: string) => {
    const t0 = performance.now();
    await rate(N, PRODUCERS, (i) => node.jobs.service.createRun(SYSTEM_ACTOR, { type: 'noop', targets: [`bench-${tag}-${i}.example`] }));
    await node.jobs.service.settled();
    return (N / (performance.now() - t0)) * 1000;
  };
  const drained = async (node: Awaited<ReturnType<typeof createModules>>) => {
    while ((await node.jobs.service.listRuns(SYSTEM_ACTOR, { status: ['queued', 'running'], limit: 1 })).items.length > 0) {
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const api = await start(path.join(dataDir, 'a'), 'api');
    await create(api, 'warm');
    const createRate = await create(api, 'a');
    if (cluster) {
      // SQL statements the worker node and the API node's progress polls send while draining,
      // per run (at the driver, test/helpers/statements.ts).
      const counter = statementCounter();
      let e2e = 0;
      const { n, sql } = await counter.count(async () => {
        const t1 = performance.now();
        await start(path.join(dataDir, 'a'), 'worker');
        await drained(api);
        e2e = ((2 * N) / (performance.now() - t1)) * 1000;
      });
      counter.restore();
      return { createRate, e2e, statementsPerRun: n / (2 * N), breakdown: statementBreakdown(sql, 2 * N) };
    }
    const single = await start(path.join(dataDir, 'b'));
    await create(single, 'warm');
    await drained(single);
    const t1 = performance.now();
    await create(single, 'b');
    await drained(single);
    return { createRate, e2e: (N / (performance.now() - t1)) * 1000, statementsPerRun: Number.NaN, breakdown: [] as string[] };
  } finally {
    for (const node of nodes.reverse()) await node.close();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The statements sent while draining, grouped by their text's first words, per run, most frequent first. */
function statementBreakdown(statements: string[], runs: number): string[] {
  const byKind = new Map<string, number>();
  for (const text of statements) {
    const kind = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  return [...byKind]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([kind, n]) => `    ${(n / runs).toFixed(2)}  ${kind}`);
}

async function partA() {
  const prefix = `opsdeck-bench-${process.pid}`;
  // Each side runs once to warm up (the first thousands of adds and pickups in a process run
  // cold, at a third of the rate or less), then once measured.
  await rawBullmq(`${prefix}-warm`);
  const raw = await rawBullmq(prefix);
  await wrapper(`${prefix}-w-warm`);
  const wrap = await wrapper(`${prefix}-w`);
  out(`\n(a) no-op throughput, N=${N}, ${PRODUCERS} producers, worker concurrency ${CONCURRENCY}`);
  out(
    `raw BullMQ            add ${raw.addRate.toFixed(0)}/s  pickup ${raw.pickup.toFixed(0)}/s  add→start p50 ${raw.p50.toFixed(2)} ms p99 ${raw.p99.toFixed(2)} ms`,
  );
  out(
    `Opsdeck queue wrapper add ${wrap.addRate.toFixed(0)}/s (${ratio(wrap.addRate, raw.addRate)})  pickup ${wrap.pickup.toFixed(0)}/s (${ratio(wrap.pickup, raw.pickup)})  add→start p50 ${wrap.p50.toFixed(2)} ms p99 ${wrap.p99.toFixed(2)} ms (Δp99 ${(wrap.p99 - raw.p99).toFixed(2)} ms)`,
  );
  const cluster = await service(true);
  out(
    `job service, PG+BullMQ createRun ${cluster.createRate.toFixed(0)}/s (${ratio(cluster.createRate, raw.addRate)} of raw add)  a worker node runs them at ${cluster.e2e.toFixed(0)} runs/s`,
  );
  out(
    `  worker pickup of no-op runs vs raw BullMQ's worker: ${ratio(cluster.e2e, raw.pickup)} (target ≥ 0.50×)  SQL statements per run ${cluster.statementsPerRun.toFixed(1)}`,
  );
  if (process.env.BENCH_SQL) out(`  per run, by statement:\n${cluster.breakdown.join('\n')}`);
  const single = await service(false);
  out(
    `job service, SQLite+embedded createRun ${single.createRate.toFixed(0)}/s (${ratio(single.createRate, raw.addRate)} of raw add)  one node creating and running: ${single.e2e.toFixed(0)} runs/s end to end`,
  );
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function post(url: string, token: string, pathName: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${url}${pathName}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, any>;
  if (res.status >= 300) throw new Error(`${pathName}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const EMITTER = `const total=10000;let i=0;const t=setInterval(()=>{for(let k=0;k<20&&i<total;k++){i++;process.stdout.write('t='+(performance.timeOrigin+performance.now())+' i='+i+'\\n');}if(i>=total){clearInterval(t);}},10);`;

/** One fan-out round: `subs` subscribers over READER_THREADS threads, optionally one that stops reading. */
async function fanout(url: string, token: string, subs: number, stalled: boolean) {
  const run = await post(url, token, '/api/v1/jobs/runs', {
    type: 'local_command',
    params: { command: process.execPath, args: ['-e', EMITTER] },
    not_before: new Date(Date.now() + 1500).toISOString(),
  });
  const wsUrl = `${url.replace('http', 'ws')}/api/v1/ws`;
  const threads = Array.from({ length: READER_THREADS }, (_, i) => {
    const task: ReaderTask = {
      wsUrl,
      token,
      channel: `job-run:${run.id}`,
      subs: Math.floor(subs / READER_THREADS) + (i < subs % READER_THREADS ? 1 : 0),
      stalled: stalled && i === 0,
      lines: 10_000,
    };
    return new Thread(READER_SCRIPT, { eval: true, workerData: task });
  });
  const normal: ReaderResult[] = [];
  let stalledOne: ReaderResult | undefined;
  await new Promise<void>((resolve, reject) => {
    const settle = () => {
      if (normal.length === subs && stalled && !stalledOne) threads[0]!.postMessage('release');
      if (normal.length === subs && (!stalled || stalledOne)) resolve();
    };
    for (const t of threads) {
      t.on('message', (r: ReaderResult) => {
        if (r.kind === 'stalled') stalledOne = r;
        else normal.push(r);
        settle();
      });
      t.on('error', reject);
    }
  });
  await Promise.all(threads.map((t) => t.terminate()));
  const all = normal.flatMap((r) => Array.from(r.lat));
  const lost = normal.filter((r) => r.lines !== 10_000).length;
  const reordered = normal.filter((r) => !r.inOrder).length;
  return {
    p50: pct(all, 50),
    p99: pct(all, 99),
    max: all.reduce((m, x) => (x > m ? x : m), 0),
    lost,
    reordered,
    stalledClose: stalledOne ? stalledOne.closed : null,
  };
}

async function partB() {
  const server = await startServer({ OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD, OPSDECK_JOBS_LOCAL_COMMANDS: process.execPath });
  try {
    const token = await login(server.url);
    // A first round warms the server up (its first subscriptions and runs load and compile code
    // while lines flow); it is not reported.
    await fanout(server.url, token, 100, false);
    out(`\n(b) 100 WebSocket subscribers, one run, 10,000 lines (~2,000 lines/s), ${ROUNDS_B} rounds of each`);
    for (let round = 1; round <= ROUNDS_B; round++) {
      const base = await fanout(server.url, token, 100, false);
      const withStalled = await fanout(server.url, token, 100, true);
      out(
        `${round}: all reading        p50 ${base.p50.toFixed(2)} ms  p99 ${base.p99.toFixed(2)} ms  max ${base.max.toFixed(1)} ms  subscribers with lost lines ${base.lost}  reordered ${base.reordered}`,
      );
      out(
        `${round}: +1 stalled reader  p50 ${withStalled.p50.toFixed(2)} ms  p99 ${withStalled.p99.toFixed(2)} ms  max ${withStalled.max.toFixed(1)} ms  lost ${withStalled.lost}  reordered ${withStalled.reordered}  stalled one: ${withStalled.stalledClose === -1 ? 'still connected when the others finished (its backlog sat in kernel buffers below the 1 MiB cap)' : `closed by the server with ${withStalled.stalledClose}`}`,
      );
    }
  } finally {
    await server.stop();
  }
}

async function partC() {
  const devices = Number(process.env.BENCH_DEVICES ?? 200);
  const addresses = loopbackAddresses(devices, 40);
  const ios = await startIosEmulator({ addresses, port: await freeTcpPort('127.0.40.1'), commandDelayMs: 5 });
  const server = await startServer({ OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD });
  try {
    const token = await login(server.url);
    const cred = await post(server.url, token, '/api/v1/credentials', {
      name: 'bench-ios',
      type: 'ssh',
      username: ios.username,
      password: ios.password,
      enable_secret: ios.enableSecret,
    });
    const t0 = performance.now();
    const run = await post(server.url, token, '/api/v1/jobs/runs', {
      type: 'ssh_command',
      targets: addresses,
      credential_id: cred.id,
      target_concurrency: 50,
      params: { mode: 'device', port: ios.port, enable: true, commands: ['show version', 'show running-config'] },
    });
    let status = '';
    let last = 0;
    while (!['succeeded', 'failed', 'partially_failed', 'timed_out', 'cancelled'].includes(status)) {
      await new Promise((r) => setTimeout(r, 100));
      const r = (await (await fetch(`${server.url}/api/v1/jobs/runs/${run.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        status: string;
        blocked_by: string | null;
        log_lines: number;
      };
      status = r.status;
      if (performance.now() - last > 5000) {
        last = performance.now();
        process.stderr.write(`  … ${r.status} ${r.blocked_by ?? ''} ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
    const total = performance.now() - t0;
    const output = (await (await fetch(`${server.url}/api/v1/jobs/runs/${run.id}/output`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      targets: { status: string; duration_ms: number }[];
    };
    const durations = output.targets.map((t) => t.duration_ms);
    const peak = Math.max(...ios.maxConcurrent.values());
    out(`\n(c) ssh_command, device mode (enable, show version, show running-config), ${devices} emulated devices, target concurrency 50`);
    out(
      `run ${status} in ${(total / 1000).toFixed(2)} s (${((devices / total) * 1000).toFixed(1)} devices/s)  targets ok ${output.targets.filter((t) => t.status === 'succeeded').length}/${devices}  per-target p50 ${pct(durations, 50)} ms p99 ${pct(durations, 99)} ms  max sessions per device ${peak}`,
    );
  } finally {
    await server.stop();
    await ios.stop();
  }
}

if (ONLY.includes('a')) await partA();
if (ONLY.includes('b')) await partB();
if (ONLY.includes('c')) await partC();
process.exit(0);
