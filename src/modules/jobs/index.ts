/**
 * Public surface of the jobs module: runs, templates, executors, the queue consumer and live
 * logs. Other modules import from here only. See README.md for the invariants.
 */
import os from 'node:os';
import type { RoutePlugin } from '../../app.js';
import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Db } from '../../platform/db/database.js';
import type { EgressPolicy } from '../../platform/egress/index.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import type { Authenticator } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createJobQueue, type JobQueue } from '../../platform/queue/index.js';
import type { CredentialResolver } from './credentials.js';
import { createDispatcher, createRunOffers, type JobsJobMap } from './dispatch.js';
import { EXECUTORS, executorRegistry, type Executor, type ExecutorSettings } from './executors/index.js';
import { createRunEngine } from './jobs.engine.js';
import { runsRoutes } from './jobs.routes.js';
import type { AuditRecorder } from './audit.js';
import { createJobsService } from './jobs.service.js';
import type { TargetResolver } from './targets.js';
import type { InventoryFacts, Principals } from './run-targets.js';
import { cancelSignal, createJobsWorker, WORKER_STALE_MS } from './jobs.worker.js';
import { createLiveLogs } from './live-logs.js';
import { liveRoutes, type LiveChannel } from './live.routes.js';
import { createDenialLimiter } from './stream-denials.js';
import type { StreamGuard } from '../../platform/http/stream-guard.js';
import type { RateLimitStore } from '../../platform/http/rate-limit.js';
import { createLocksRepository } from './locks.repository.js';
import { createLogsRepository } from './logs.repository.js';
import { createNewRunsRepository } from './new-runs.repository.js';
import { createQueueSnapshots } from './queue-snapshot.js';
import { createRunsRepository } from './runs.repository.js';
import { templatesRoutes } from './templates.routes.js';
import { sshHostKeysRoutes } from './ssh-host-keys.routes.js';
import { createStoredParamsRewriter } from './stored-params.js';
import { createHostKeyStore, createSshHostKeysService } from './ssh-host-keys.service.js';
import { createTemplatesRepository } from './templates.repository.js';
import { createTemplatesService } from './templates.service.js';

/** `jobs:run` runs on inventory devices (and templates); `jobs:run_adhoc` also on arbitrary host names and addresses (admin only among the built-in roles). */
export const JOBS_PERMISSIONS = ['jobs:read', 'jobs:run', 'jobs:run_adhoc', 'jobs:write', 'jobs:admin'] as const;

export interface JobsConfig {
  redisUrl?: string | undefined;
  roles: readonly string[];
  jobsConcurrency: number;
  jobsExecutorConcurrency: readonly string[];
  jobsLeaseMs: number;
  jobsLogLinesMax: number;
  jobsDeviceSessions: number;
  jobsLocalCommands: readonly string[];
  runMaxTargets: number;
  runMaxProbes: number;
  runMaxActivePerUser: number;
  jobsQueue: string;
}

export interface JobsModuleDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  authenticator: Authenticator;
  config: JobsConfig;
  /** Outbound HTTP (`http_request`): the one policy of the process (`platform/egress`). */
  egress: EgressPolicy;
  /** The credential vault (modules/credentials' resolver). */
  credentials: CredentialResolver;
  targetResolver?: TargetResolver;
  /** Identity: the initiating principal as it is now (runs re-check `jobs:run` when they execute). */
  principals?: Principals;
  /** Parsers: ntc-templates by platform and command (`ssh_command` `parse: true`, `facts`). */
  parse?: (platform: string, command: string, output: string) => Promise<unknown>;
  /** Inventory: device facts written back as the initiating principal. */
  inventory?: InventoryFacts;
  audit?: AuditRecorder;
  events?: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> };
  /** Metrics: each run this node's engine brings to a final state (type, status, seconds since its first start or null). */
  onRunFinished?: (type: string, status: string, seconds: number | null) => void;
  /** WebSocket channels other modules serve on /api/v1/ws (the events module's `events`). */
  liveChannels?: readonly LiveChannel[];
  /** Re-checks open streams' principals and channels (platform/http/stream-guard.ts). */
  streamGuard: StreamGuard;
  /** Where denied WebSocket subscriptions are counted per principal (Redis in a cluster); in memory when absent. */
  streamDenials?: RateLimitStore;
  /** Executors other modules contribute (configs' `git_sync`), registered with the built-in ones. */
  extraExecutors?: readonly Executor[];
  /** Tests inject a queue; otherwise BullMQ when Redis is configured, else embedded. */
  queue?: JobQueue<JobsJobMap>;
}

/** `ssh_command=20,ping=50` → { ssh_command: 20, ping: 50 } */
export function parseTypeLimits(entries: readonly string[]): Record<string, number> {
  return Object.fromEntries(entries.map((e) => e.split('=', 2)).map(([k, v]) => [k!.trim(), Number(v)]));
}

export function createJobsModule(deps: JobsModuleDeps) {
  const c = deps.config;
  const logger = deps.logger.child({ module: 'jobs' });
  const runs = createRunsRepository(deps.db);
  const logs = createLogsRepository(deps.db);
  const locks = createLocksRepository(deps.db);
  const templatesRepo = createTemplatesRepository(deps.db);
  const queue =
    deps.queue ??
    createJobQueue<JobsJobMap>({
      ...(c.redisUrl ? { redisUrl: c.redisUrl } : {}),
      prefix: c.jobsQueue,
      lockDurationMs: c.jobsLeaseMs,
      onError: (err) => logger.warn({ err }, 'queue error'),
    });
  const dispatch = createDispatcher(queue);
  const executors = executorRegistry([...EXECUTORS, ...(deps.extraExecutors ?? [])]);
  const settings: ExecutorSettings = {
    localCommandAllowList: c.jobsLocalCommands,
    egress: deps.egress,
    maxOutputChars: 1_048_576,
    hostKeys: createHostKeyStore(deps.db),
  };
  const credentials = deps.credentials;
  const perType = parseTypeLimits(c.jobsExecutorConcurrency);
  const limits = {
    concurrency: c.jobsConcurrency,
    perType,
    leaseMs: c.jobsLeaseMs,
    logLinesMax: c.jobsLogLinesMax,
    deviceSessions: c.jobsDeviceSessions,
    maxTargets: c.runMaxTargets,
  };
  const runLimits = { maxTargets: c.runMaxTargets, maxProbes: c.runMaxProbes, maxActivePerUser: c.runMaxActivePerUser };
  const unitOfWork = createUnitOfWork(
    deps.db,
    (db) => ({ runs: createRunsRepository(db), db }),
    (err) => logger.error({ err }, 'after-commit step failed'),
  );

  const snapshots = createQueueSnapshots({ runs, locks, workerStaleMs: WORKER_STALE_MS });
  const service = createJobsService({
    db: deps.db,
    runs,
    newRuns: createNewRunsRepository({ db: deps.db, snapshots, audit: deps.audit }),
    snapshots,
    offers: createRunOffers(dispatch, logger),
    signalCancel: cancelSignal(deps.bus),
    logs,
    unitOfWork,
    bus: deps.bus,
    executors,
    settings,
    credentials,
    targetResolver: deps.targetResolver,
    audit: deps.audit,
    limits,
    runLimits,
    ...(deps.onRunFinished ? { onFinished: deps.onRunFinished } : {}),
  });
  const templatesUow = createUnitOfWork(
    deps.db,
    (db) => ({ templates: createTemplatesRepository(db), db }),
    (err) => logger.error({ err }, 'after-commit step failed'),
  );
  const templates = createTemplatesService({ templates: templatesRepo, jobs: service, settings, unitOfWork: templatesUow, events: deps.events });
  const live = createLiveLogs({ bus: deps.bus, logs, runs, logger });
  const workerId = `${os.hostname()}:${process.pid}:${newId().slice(-8)}`;
  const engine = createRunEngine({
    db: deps.db,
    runs,
    logs,
    locks,
    bus: deps.bus,
    dispatch,
    credentials,
    executors,
    settings,
    limits,
    workerId,
    logger,
    targetResolver: deps.targetResolver,
    principals: deps.principals,
    parse: deps.parse,
    inventory: deps.inventory,
    ...(deps.events ? { recordEvent: deps.events.record.bind(deps.events), relayEvents: deps.events.relay.bind(deps.events) } : {}),
    ...(deps.onRunFinished ? { onFinished: deps.onRunFinished } : {}),
  });
  const worker = c.roles.includes('worker')
    ? createJobsWorker({
        queue,
        engine,
        runs,
        locks,
        bus: deps.bus,
        dispatch,
        logger,
        workerId,
        concurrency: c.jobsConcurrency,
        leaseMs: c.jobsLeaseMs,
        reconcileMs: c.redisUrl ? 30_000 : 300_000,
        outcomeUnknown: engine.outcomeUnknown,
        ...(deps.onRunFinished ? { onFinished: deps.onRunFinished } : {}),
      })
    : null;

  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: runsRoutes(service, templates) },
    { prefix: '/api/v1', plugin: templatesRoutes(templates) },
    { prefix: '/api/v1', plugin: sshHostKeysRoutes(createSshHostKeysService({ db: deps.db, targetResolver: deps.targetResolver, audit: deps.audit })) },
    {
      prefix: '/api/v1',
      plugin: liveRoutes({
        jobs: service,
        live,
        guard: deps.streamGuard,
        denials: createDenialLimiter({ db: deps.db, audit: deps.audit, logger, store: deps.streamDenials }),
        ...(deps.liveChannels ? { channels: deps.liveChannels } : {}),
      }),
    },
  ];

  return {
    service,
    rewriteStoredParams: createStoredParamsRewriter(deps.db),
    /** Queued runs and running runs per type, from the database (the whole cluster): for /metrics. */
    async stats(): Promise<{ queued: number; running: Map<string, number> }> {
      const [queued, running] = await Promise.all([runs.queuedCounts(), runs.runningCounts()]);
      return { queued: [...queued.values()].reduce((a, b) => a + b, 0), running };
    },
    templates,
    live,
    credentials,
    queue,
    worker,
    workerId,
    plugins,
    permissions: JOBS_PERMISSIONS,
    /** Team-scoped resources by audit resource type: the team of each id (identity's audit list hides other teams'). */
    teamScoped: { job_template: (ids: readonly string[]) => templatesRepo.teamsOf(ids), job_run: (ids: readonly string[]) => runs.teamsOf(ids) },
    /** Starts consuming when this process has the worker role. */
    async start(): Promise<void> {
      await worker?.start();
    },
    /** Queues the runs just stored, drains the worker (in-flight runs finish or are requeued after graceMs), then closes the queue. */
    async stop(graceMs: number): Promise<void> {
      await service.settled();
      await worker?.stop(graceMs);
      await queue.close();
    },
  };
}

export type JobsModule = ReturnType<typeof createJobsModule>;
export type { CredentialResolver, ResolvedCredential } from './credentials.js';
export { createHostKeyStore, type HostKeyStore } from './ssh-host-keys.service.js';
export type { LiveChannel } from './live.routes.js';
export { EXECUTORS } from './executors/index.js';
export type { Executor, TargetContext, TargetResult } from './executors/index.js';
export type { AuditRecorder } from './audit.js';
export type { JobsService } from './jobs.service.js';
export type { TargetResolver, SelectedDevice } from './targets.js';
export type { InventoryFacts, Principals } from './run-targets.js';
export { RUN_STATUSES, TERMINAL_STATUSES, type RunStatus } from './run-state.fns.js';
// SSH building blocks for executors other modules contribute (configs' `config_backup`, templates' `config_push`).
export { connectTarget } from './executors/ssh-command.js';
export { sshConnectionParams } from './executors/ssh-params.js';
export { DeviceShell, execCommand } from './executors/ssh-session.js';
export { PermanentError } from './executors/failure.fns.js';
export { truncate } from './executors/text.fns.js';
export type { ExecutorSettings } from './executors/index.js';
export { WS_CLIENT_MESSAGES, WS_CLOSE_CODES, WS_SERVER_MESSAGES } from './live.schemas.js';
// Probing building blocks for discovery's `discovery` executor.
export { createRateLimiter } from './executors/tcp-port-scan.js';
export { openSession as openSnmpSession } from './executors/snmp-session.js';
export { factsOf } from './executors/facts.fns.js';
