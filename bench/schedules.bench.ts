/**
 * Scheduler cost with 10,000 enabled schedules, on SQLite and PostgreSQL:
 *  - idle CPU: process.cpuUsage() over a bounded window with the loop running and nothing due,
 *    extrapolated to CPU-ms per minute (against the same process with the loop stopped);
 *  - tick-to-enqueue latency: from a tick being due to its run being recorded as created, for a
 *    steady stream (100 ticks/s) and a burst (500 schedules due at the same instant).
 * The runner is an in-memory recorder, so the figures are the scheduler's own (claim, advance,
 * history row, settle), not the jobs engine's. Figures, not assertions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, type Database, type Dialect } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { newId } from '../src/platform/ids.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createScheduler } from '../src/modules/schedules/scheduler.js';
import { createSchedulesService } from '../src/modules/schedules/schedules.service.js';
import { systemClock, type ScheduleRunner } from '../src/modules/schedules/schedule-runner.js';
import { createPgDatabase } from '../test/helpers/db.js';

const SCHEDULES = 10_000;
const IDLE_WINDOW_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const recorder: ScheduleRunner = {
  templateExists: async () => true,
  runTemplate: async () => ({ runId: newId() }),
  activeRunsOfSchedule: async () => 0,
  runStatuses: async () => new Map(),
};

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function cpuPerMinute(windowMs: number): Promise<number> {
  const before = process.cpuUsage();
  await sleep(windowMs);
  const d = process.cpuUsage(before);
  return ((d.user + d.system) / 1000) * (60_000 / windowMs);
}

async function run(dialect: Dialect): Promise<void> {
  let database: Database;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-sched-'));
    database = createDatabase({ dialect, sqlitePath: path.join(dir, 'opsdeck.db') });
    cleanup = async () => {
      await database.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const pgdb = await createPgDatabase();
    database = createDatabase({ dialect, url: pgdb.url, poolSize: 10 });
    cleanup = async () => {
      await database.destroy();
      await pgdb.drop();
    };
  }
  await migrateToLatest(database.db);
  const logger = createLogger({ level: 'warn' });
  const lags: number[] = [];
  const scheduler = createScheduler({
    db: database.db,
    runner: recorder,
    clock: systemClock,
    logger,
    nodeId: 'bench',
    graceMs: 60_000,
    pollMs: 1000,
    onEnqueued: (ms) => lags.push(ms),
  });
  const service = createSchedulesService({ db: database.db, runner: recorder, clock: systemClock, logger, scheduler, nodeId: 'bench' });
  const templateId = newId();

  // 10,000 enabled daily schedules, none due during the run.
  const t0 = performance.now();
  const anchor = Date.now() + 3 * 3600_000;
  for (let i = 0; i < SCHEDULES; i += 1) {
    await service.create(SYSTEM_ACTOR, {
      name: `daily-${i}`,
      template_id: templateId,
      kind: i % 2 === 0 ? 'interval' : 'cron',
      ...(i % 2 === 0
        ? { interval_seconds: 86_400, anchor_at: new Date(anchor + i * 500).toISOString() }
        : { cron: `${i % 60} ${(new Date().getUTCHours() + 2 + (i % 20)) % 24} * * *` }),
    } as never);
  }
  const createMs = performance.now() - t0;

  // Let the creation's garbage collection and pool activity settle before measuring.
  await sleep(5000);
  const baseline = await cpuPerMinute(15_000);
  scheduler.start();
  await sleep(2000);
  const idle = await cpuPerMinute(IDLE_WINDOW_MS);

  // Steady stream: 1,000 one-off schedules due 10 ms apart (100 ticks/s).
  // Far enough ahead that creating them finishes first (creation speed measured above).
  const lead = (n: number) => 2000 + Math.ceil((createMs / SCHEDULES) * n * 2);
  const start = Date.now() + lead(1000);
  for (let i = 0; i < 1000; i += 1) {
    await service.create(SYSTEM_ACTOR, { name: `once-${i}`, template_id: templateId, kind: 'once', at: new Date(start + i * 10).toISOString() });
  }
  while (Date.now() < start + 10_000 + 5000 && lags.length < 1000) await sleep(200);
  const steady = lags.splice(0).sort((a, b) => a - b);

  // Burst: 500 schedules due at the same instant (a top-of-the-hour rush).
  const burstAt = Date.now() + lead(500);
  for (let i = 0; i < 500; i += 1) {
    await service.create(SYSTEM_ACTOR, { name: `burst-${i}`, template_id: templateId, kind: 'once', at: new Date(burstAt).toISOString() });
  }
  while (Date.now() < burstAt + 15_000 && lags.length < 500) await sleep(200);
  const burst = lags.splice(0).sort((a, b) => a - b);
  await scheduler.stop();

  const row = (name: string, xs: number[]) =>
    `  ${name.padEnd(34)} n=${String(xs.length).padStart(5)}  p50 ${percentile(xs, 50).toFixed(1).padStart(7)} ms  p99 ${percentile(xs, 99).toFixed(1).padStart(7)} ms  max ${(xs[xs.length - 1] ?? NaN).toFixed(1).padStart(7)} ms\n`;
  process.stdout.write(`\n${dialect}: ${SCHEDULES} enabled schedules (created in ${(createMs / 1000).toFixed(1)} s)\n`);
  process.stdout.write(
    `  idle CPU, loop running              ${idle.toFixed(0).padStart(6)} CPU-ms/min  (${((idle / 60_000) * 100).toFixed(2)}% of a core; ${IDLE_WINDOW_MS / 1000} s window)\n`,
  );
  process.stdout.write(`  idle CPU, loop stopped (baseline)   ${baseline.toFixed(0).padStart(6)} CPU-ms/min\n`);
  process.stdout.write(`  scheduler's own idle cost           ${(idle - baseline).toFixed(0).padStart(6)} CPU-ms/min\n`);
  process.stdout.write(row('tick-to-enqueue, 100 ticks/s', steady));
  process.stdout.write(row('tick-to-enqueue, 500 at one instant', burst));
  await cleanup();
}

for (const dialect of ['sqlite', 'postgres'] as const) await run(dialect);
