import os from 'node:os';
import { createSchedulesRepository } from './schedules.repository.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createScheduler, type Owners } from './scheduler.js';
import { createSchedulesService, type AuditPort, type SchedulesServiceDeps } from './schedules.service.js';
import { schedulesRoutes } from './schedules.routes.js';
import { systemClock, type Clock, type ScheduleRunner } from './schedule-runner.js';

export type { ScheduleRunner, RunOptions, Clock } from './schedule-runner.js';
export { createJobsScheduleRunner } from './jobs-runner.js';
export type { AuditPort } from './schedules.service.js';
export type { Owners } from './scheduler.js';
export type { ScheduleView, FireView } from './schedules.schemas.js';

export interface SchedulesModuleDeps {
  db: Db;
  logger: Logger;
  /** How schedules create runs: the jobs module, adapted in modules.ts. */
  runner: ScheduleRunner;
  clock?: Clock;
  audit?: AuditPort;
  events?: SchedulesServiceDeps['events'];
  /** Seconds after which a late tick counts as missed (misfire policy applies). */
  misfireGraceSeconds: number;
  /** Longest sleep of the scheduler loop between looks at the database. */
  pollMs: number;
  metricsRegistry?: Registry | null;
  nodeId?: string;
  /** Identity: schedule owners as they are now (each fire acts for its owner, checked then). */
  owners?: Owners;
}

/**
 * Cron, interval and one-off schedules of job templates. The service and routes serve every
 * process; `scheduler.start()` runs the loop and is called only where the `scheduler` role is.
 */
export function createSchedulesModule(deps: SchedulesModuleDeps) {
  const clock = deps.clock ?? systemClock;
  const nodeId = deps.nodeId ?? `${os.hostname()}:${process.pid}:${newId().slice(-8)}`;
  const logger = deps.logger.child({ module: 'schedules' });
  const registers = deps.metricsRegistry ? [deps.metricsRegistry] : [];
  const fires = new Counter({
    name: 'opsdeck_schedule_fires_total',
    help: 'Schedule ticks claimed by this node, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const lag = new Histogram({
    name: 'opsdeck_schedule_enqueue_lag_seconds',
    help: 'From a tick being due to its run being created',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers,
  });
  const repo = createSchedulesRepository(deps.db);
  new Gauge({
    name: 'opsdeck_schedules_enabled',
    help: 'Enabled schedules (whole cluster, read from the database at scrape time)',
    registers,
    async collect() {
      this.set(await repo.countEnabled());
    },
  });
  const scheduler = createScheduler({
    db: deps.db,
    runner: deps.runner,
    clock,
    logger,
    nodeId,
    graceMs: deps.misfireGraceSeconds * 1000,
    pollMs: deps.pollMs,
    onEnqueued: (ms) => lag.observe(ms / 1000),
    onFire: (outcome) => fires.inc({ outcome }),
    ...(deps.owners ? { owners: deps.owners } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.events ? { events: deps.events } : {}),
  });
  const service = createSchedulesService({
    db: deps.db,
    runner: deps.runner,
    clock,
    logger,
    scheduler,
    nodeId,
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.events ? { events: deps.events } : {}),
  });
  const plugins: RoutePlugin[] = [{ prefix: '/api/v1', plugin: schedulesRoutes(service) }];
  /** Team-scoped resources by audit resource type: the team of each id (identity's audit list hides other teams'). */
  const teamScoped = { schedule: (ids: readonly string[]) => repo.teamsOf(ids) };
  return { service, scheduler, plugins, teamScoped, permissions: ['schedules:read', 'schedules:write'] as const };
}

export type SchedulesModule = ReturnType<typeof createSchedulesModule>;
