/**
 * Vitest globalSetup: runs once per `vitest run` (whole suite or one file) before any worker
 * starts. Installs missing test peers (test/peers/packages.ts), then starts a throwaway
 * PostgreSQL and Redis unless OPSDECK_TEST_PG_URL / OPSDECK_TEST_REDIS_URL name existing ones,
 * and exports their URLs to the workers (which inherit this process's environment).
 */
import type { TestProject } from 'vitest/node';
import { ensureTestPackages } from './peers/packages.js';
import { removeStaleThrowaways, startThrowawayPostgres, startThrowawayRedis, type Throwaway } from './peers/services.js';

/**
 * PostgreSQL connections allowed per vitest worker (one file at a time each). Pools are 5 per test
 * database and 10 per server; the heaviest files (crash, cluster, schedules.processes, jobs-api)
 * peaked at 11 connections, sampled every 100 ms. 60 leaves room for files yet to come.
 */
const CONNECTIONS_PER_WORKER = 60;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureTestPackages();
  removeStaleThrowaways();
  const workers = project.config.maxWorkers ?? 1;
  const wanted: [string, () => Promise<Throwaway>][] = [];
  if (!process.env.OPSDECK_TEST_PG_URL) {
    wanted.push(['OPSDECK_TEST_PG_URL', () => startThrowawayPostgres({ maxConnections: 20 + CONNECTIONS_PER_WORKER * workers })]);
  }
  if (!process.env.OPSDECK_TEST_REDIS_URL) wanted.push(['OPSDECK_TEST_REDIS_URL', startThrowawayRedis]);
  const results = await Promise.allSettled(wanted.map(([, start]) => start()));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  // A run killed before teardown (Ctrl-C) still takes its servers and directories with it.
  const onExit = () => started.forEach((s) => s.kill());
  process.once('exit', onExit);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    process.off('exit', onExit);
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') process.env[wanted[i]![0]] = r.value.url;
  });
  return async () => {
    process.off('exit', onExit);
    await Promise.all(started.map((s) => s.stop()));
  };
}
