/**
 * The composition root: builds config-dependent infrastructure and every module once, by
 * hand, in dependency order. Nothing else constructs modules.
 */
import { ASYNCAPI_URL, buildAsyncApi } from './asyncapi.js';
import type { Config } from './config.js';
import { buildApp, type App, type RoutePlugin } from './app.js';
import type { Logger } from './platform/observability/logger.js';
import { createMetrics, registerJobGauges } from './platform/observability/metrics.js';
import { createDatabase } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { createEventBus } from './platform/bus/index.js';
import { createCache, createCachePrefetch } from './platform/cache/index.js';
import type { Server } from 'node:http';
import { createEgressPolicy, createOwnListeners, type OwnListeners, type Resolver } from './platform/egress/index.js';
import { createDomainEvents } from './platform/events/domain-events.js';
import { createRedisProbe, requireNoEviction } from './platform/redis.js';
import { Redis } from 'ioredis';
import { createMemoryRateLimitStore, createRedisRateLimitStore, type RateLimitStore } from './platform/http/rate-limit.js';
import { createNodePresence, createSystemLogs, createSystemModule, type DependencyProbe } from './modules/system/index.js';
import { newId } from './platform/ids.js';
import { hostname } from 'node:os';
import { createIdentityModule } from './modules/identity/index.js';
import { createParsersModule } from './modules/parsers/index.js';
import { createCredentialsModule } from './modules/credentials/index.js';
import { createInventoryModule } from './modules/inventory/index.js';
import { createHostKeyStore, createJobsModule, TERMINAL_STATUSES } from './modules/jobs/index.js';
import { createEventsModule } from './modules/events/index.js';
import { createConfigsModule } from './modules/configs/index.js';
import { createJobsScheduleRunner, createSchedulesModule } from './modules/schedules/index.js';
import { createTemplatesModule } from './modules/templates/index.js';
import { createAlertsModule } from './modules/alerts/index.js';
import { createFilesModule } from './modules/files/index.js';
import { createIntegrationsModule } from './modules/integrations/index.js';
import { createWorkflowsModule } from './modules/workflows/index.js';
import { createDiscoveryModule } from './modules/discovery/index.js';
import { createSettingsModule, createSettingsStore, liveConfig, liveEgressPolicy } from './modules/settings/index.js';
import { loadKeyRing } from './platform/crypto/index.js';
import { VERSION } from './version.js';
import { SYSTEM_ACTOR } from './platform/http/auth.js';
import { createStreamGuard } from './platform/http/stream-guard.js';

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.finally(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Per-principal request counts: in Redis under `<prefix>:rl:` in a cluster (every node shares
 * them), else in memory. No offline queue: while Redis is away a request fails open at once
 * instead of waiting for a reconnect.
 */
function createRateLimitStore(config: Config, logger: Logger): RateLimitStore {
  if (!config.redisUrl) return createMemoryRateLimitStore();
  const client = new Redis(config.redisUrl, { connectionName: 'opsdeck-rate-limit', maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on('error', (err: unknown) => logger.warn({ err }, 'rate-limit redis error'));
  const store = createRedisRateLimitStore(client, `${config.redisPrefix}:rl:`);
  return { hit: store.hit, close: async () => void (await client.quit().catch(() => client.disconnect())) };
}

export interface ModulesOptions {
  /** Run pending migrations before building modules (default true). */
  migrate?: boolean;
  /** Outbound HTTP name resolution (default: the system resolver); tests map names to loopback addresses with it. */
  resolve?: Resolver;
  /** Identity's clock (token, session and API key expiry) and the alerts module's (grouping windows, delivery due times); default `Date.now`: tests move it instead of sleeping. */
  clock?: () => number;
}

export async function createModules(config: Config, logger: Logger, options: ModulesOptions = {}) {
  const metrics = createMetrics();
  const database = createDatabase({
    dialect: config.databaseDialect,
    sqlitePath: config.sqlitePath,
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
    poolSize: config.dbPoolSize,
    sqliteReaders: config.sqliteReaders,
    onQuery: (ms, ok) => metrics.dbQueryDuration.observe({ dialect: config.databaseDialect, outcome: ok ? 'ok' : 'error' }, ms / 1000),
  });
  const closers: (() => Promise<void>)[] = [() => database.destroy()];
  try {
    // First, so a cluster node without OPSDECK_MASTER_KEY stops before touching anything.
    const keyRing = loadKeyRing({ configured: config.masterKey, dataDir: config.dataDir, mode: config.mode, logger });
    if (config.redisUrl) await requireNoEviction(config.redisUrl, logger);
    if (options.migrate !== false) {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    }
    const bus = createEventBus({ ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), prefix: `${config.redisPrefix}:`, logger });
    closers.unshift(() => bus.close());
    const cache = createCache({
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      prefix: `${config.redisPrefix}:`,
      metrics: metrics.cacheHooks,
      logger,
    });
    closers.unshift(() => cache.close());
    const events = createDomainEvents({ db: database.db, bus, logger });
    // Runtime settings first: identity and the egress policy read their live values.
    const settingsStore = createSettingsStore({ db: database.db, bus, config, keyRing, logger });
    await settingsStore.start();
    closers.unshift(() => settingsStore.close());
    const rateLimitStore = createRateLimitStore(config, logger);
    closers.unshift(() => rateLimitStore.close());

    const probes: DependencyProbe[] = [{ name: 'database', ping: () => database.ping() }];
    if (config.redisUrl) {
      const redis = createRedisProbe(config.redisUrl, config.jobsQueue);
      closers.unshift(() => redis.close());
      probes.push({ name: 'redis', ping: () => redis.ping() });
    }
    const identity = await createIdentityModule({
      db: database.db,
      cache,
      bus,
      logger,
      config: liveConfig(config, settingsStore, 'security'),
      keyRing,
      events,
      denials: rateLimitStore,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    closers.unshift(() => identity.close());
    // Warnings and errors of this node go to the system log table from here on (batched, never blocking).
    const systemLogs = createSystemLogs({ db: database.db, bus, logger, node: `${hostname()}:${process.pid}`, retention: () => settingsStore.current('logs') });
    systemLogs.start(config.roles.includes('scheduler'));
    closers.unshift(() => systemLogs.stop());
    // Every node heartbeats its presence (cluster mode: a Redis key with a TTL) for /health/detailed.
    const nodeId = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
    const nodes = createNodePresence({
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      prefix: `${config.redisPrefix}:`,
      self: { id: nodeId, roles: [...config.roles], version: VERSION, started_at: new Date().toISOString() },
      logger,
    });
    nodes.start();
    closers.unshift(() => nodes.close());
    // The `cache` settings section: namespaces loaded at start and reloaded on its interval (warmers registered below).
    const cachePrefetch = createCachePrefetch({ cache, logger, settings: () => settingsStore.current('cache') });
    closers.unshift(() => cachePrefetch.stop());
    const system = createSystemModule({
      cacheAdmin: { cache, audit: identity.audit, db: database.db, prefetchable: cachePrefetch.namespaces },
      nodes,
      nodeId,
      queue: () => jobs.stats(),
      logs: systemLogs,
      probes,
      metricsRegistry: config.metricsEnabled ? metrics.registry : null,
      info: { version: VERSION, mode: config.mode, database_dialect: config.databaseDialect, roles: [...config.roles] },
    });

    const parsers = createParsersModule({
      db: database.db,
      cache,
      audit: identity.audit,
      libraryDirs: config.textfsmLibraryDirs,
      onError: (err) => logger.error({ err }, 'parsers after-commit step failed'),
    });
    // The parse worker pool stops before the cache and database it never touches.
    closers.unshift(() => parsers.close());

    // The credential probe honours the SSH host keys the jobs module pins (trust on first use).
    const hostKeys = createHostKeyStore(database.db);
    const credentials = createCredentialsModule({
      db: database.db,
      keyRing,
      events,
      audit: identity.audit,
      stepUp: identity.stepUp,
      logger,
      hostKeyCheck: (target, fingerprint) => hostKeys.verify({ deviceId: null, ...target }, fingerprint),
    });
    if (config.roles.includes('scheduler')) closers.unshift(credentials.expiry.start(60_000));

    const inventory = createInventoryModule({
      db: database.db,
      dialect: config.databaseDialect,
      events,
      audit: identity.audit,
      logger,
      credentialExists: credentials.resolver.exists,
      profileExists: credentials.resolver.profileExists,
      hiddenRefs: credentials.hiddenRefs,
    });

    const templates = createTemplatesModule({
      db: database.db,
      inventory: inventory.services,
      audit: identity.audit,
      renderTimeoutMs: config.templateRenderTimeoutMs,
      renderWorkers: config.templateRenderWorkers,
      // Platform profiles (user-defined ones first, then the built-ins) from the configs module, built below; called at run time only.
      profileFor: (id, driver, memo) => configs.profiles.resolve(id, driver, memo),
      // config_push's secret_variables: the vault checks credentials:use and team scope for the run's initiator and logs the use with the run.
      vault: (actor, id, purpose, runId) => credentials.resolve(id, purpose, runId, actor),
      // A schema newly marking variables secret masks them in config_push params stored before (jobs, built below).
      storedParams: (type, rewrite) => jobs.rewriteStoredParams(type, rewrite),
      onError: (err) => logger.error({ err }, 'templates after-commit step failed'),
    });
    // The render workers stop before the database they never touch.
    closers.unshift(() => templates.close());

    // One outbound-HTTP policy for jobs and webhooks, rebuilt when the `egress` settings change; the
    // ports this process listens on join it at listen.
    const ownListeners = createOwnListeners([config.port, config.workerHealthPort]);
    const egressFor = (v: { allow: readonly string[]; deny: readonly string[]; allow_internal: readonly string[] }) =>
      createEgressPolicy({
        allow: v.allow,
        deny: v.deny,
        allowInternal: v.allow_internal,
        privateRanges: config.egressPrivate,
        listeners: ownListeners,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
    const egress = liveEgressPolicy(settingsStore, egressFor);
    const settings = createSettingsModule({ db: database.db, store: settingsStore, audit: identity.audit, stepUp: identity.stepUp, egressFor });
    // Every open stream (WebSocket, SSE) is re-checked against identity's shared state each second.
    const streamGuard = createStreamGuard({ authenticator: identity.authenticator, logger });
    closers.unshift(async () => streamGuard.stop());
    const eventsModule = createEventsModule({
      db: database.db,
      bus,
      logger,
      domainEvents: events,
      audit: identity.audit,
      keyRing,
      egress,
      config,
      version: VERSION,
      streamGuard,
    });
    closers.unshift(() => eventsModule.stop());
    // Alerts subscribe to domain events (run failures, config changes, expiries) before the subscribers start.
    const alerts = createAlertsModule({
      db: database.db,
      logger,
      events,
      audit: identity.audit,
      keyRing,
      egress,
      render: templates.renderText,
      subscribers: eventsModule.subscribers,
      config,
      version: VERSION,
      contacts: { contactOf: (db, id) => identity.contactOf(db, id) },
      securityChannelId: () => settingsStore.current('notifications').security_channel_id,
      // Routing on device/location reads the inventory through the alert's transaction handle.
      refs: {
        deviceContext: (db, ref) => inventory.deviceContext(db, ref),
        unknown: (kind, ids) => (kind === 'team' ? identity.unknownTeams(ids) : inventory.facts.unknownRefs(kind, ids)),
      },
      ...(options.clock ? { now: options.clock } : {}),
    });
    // Workflows subscribe to domain events before the subscribers start; job nodes create runs through the jobs
    // service (built below, called only once the engine starts) as the execution's principal, keyed per node attempt.
    const workflows = createWorkflowsModule({
      db: database.db,
      logger,
      events,
      audit: identity.audit,
      render: templates.renderText,
      owners: { actorOf: (kind, id) => identity.actorOf(kind, id) },
      subscribers: eventsModule.subscribers,
      config,
      jobs: {
        executorTypes: () => jobs.service.types(SYSTEM_ACTOR).items.map((t) => t.type),
        createRun: async (actor, input, key, executionId) =>
          (
            await jobs.service.createRun(actor, input as Parameters<typeof jobs.service.createRun>[1], {
              idempotencyKey: key,
              trigger: { kind: 'workflow', id: executionId },
            })
          ).run,
        status: async (runId) => (await jobs.service.getRun(SYSTEM_ACTOR, runId)).status,
        output: (actor, runId) => jobs.service.output(actor, runId),
        cancel: async (actor, runId) => void (await jobs.service.cancelRun(actor, runId)),
      },
      alerts: async (actor, input) => {
        const r = await alerts.service.create(actor, { source: 'workflows', ...input, severity: input.severity as 'info' });
        return { outcome: r.outcome, alert_id: r.alert?.id ?? null };
      },
    });
    await eventsModule.start();
    alerts.start();
    closers.unshift(() => alerts.stop());

    // Sync runs are jobs: configs contributes the `git_sync` executor and creates runs through
    // the jobs service once it exists (the port is only called after start-up).
    const configs = createConfigsModule({
      db: database.db,
      logger,
      // The `git` settings section applies without a restart (timeouts, size limit, file extensions).
      config: liveConfig(config, settingsStore, 'git'),
      audit: identity.audit,
      deviceName: async (actor, deviceId) => (await inventory.services.devices.get(actor, deviceId)).name,
      complianceInventory: inventory.facts,
      events,
      // Synced repositories feed the parsers (`textfsm`) and templates (`templates`) modules.
      feeds: { textfsm: parsers.repositoryFeed, templates: templates.repositoryFeed },
      actorOf: (kind, id) => identity.actorOf(kind, id),
      ports: {
        credentialVisible: (actor, id) =>
          credentials.service.get(actor, id).then(
            () => true,
            () => false,
          ),
        resolveCredential: (id, purpose, runId, actor) => credentials.resolve(id, purpose, runId, actor),
        createSyncRun: async (actor, repositoryId, scheduled) =>
          (
            await jobs.service.createRun(
              actor,
              { type: 'git_sync', params: { repository_id: repositoryId } },
              scheduled ? { trigger: { kind: 'system', id: repositoryId } } : {},
            )
          ).run,
        syncRunActive: async (runId) =>
          jobs.service.getRun(SYSTEM_ACTOR, runId).then(
            (r) => !TERMINAL_STATUSES.includes(r.status),
            () => false,
          ),
      },
    });
    // Compliance evaluations started by syncs finish after the job worker drained, before the database closes.
    closers.unshift(() => configs.compliance.idle());

    // Nautobot/NetBox sync runs are jobs too: the executor comes from integrations, runs start through the jobs service.
    const envConnection = (url: string | undefined, token: string | undefined) => (url && token ? { url, token } : undefined);
    const integrations = createIntegrationsModule({
      db: database.db,
      egress,
      cache,
      audit: identity.audit,
      inventory: inventory.services,
      env: {
        ...(envConnection(config.nautobotUrl, config.nautobotToken) ? { nautobot: envConnection(config.nautobotUrl, config.nautobotToken)! } : {}),
        ...(envConnection(config.netboxUrl, config.netboxToken) ? { netbox: envConnection(config.netboxUrl, config.netboxToken)! } : {}),
      },
      ports: {
        credentialVisible: (actor, id) =>
          credentials.service.get(actor, id).then(
            () => true,
            () => false,
          ),
        resolveCredential: (id, purpose, runId, actor) => credentials.resolve(id, purpose, runId, actor),
        createSyncRun: async (actor, params) => (await jobs.service.createRun(actor, { type: 'integration_sync', params })).run.id,
      },
    });

    // Uploads, the file library and images under the data directory; conversions are `qemu_convert` job runs.
    const files = createFilesModule({
      db: database.db,
      dataDir: config.dataDir,
      settings: () => settingsStore.current('files'),
      audit: identity.audit,
      events,
      logger,
      startConvert: async (actor, params) => (await jobs.service.createRun(actor, { type: 'qemu_convert', params })).run.id,
    });
    files.start();
    closers.unshift(async () => files.stop());
    // Discovery scans are `discovery` job runs: the executor goes to jobs, runs start through the jobs service.
    const discovery = createDiscoveryModule({
      db: database.db,
      inventory: inventory.services,
      jobs: () => jobs.service,
      credentials: credentials.resolver,
      // Executors parse as the system (see jobs below).
      parse: async (platform, command, output) => (await parsers.service.parse(SYSTEM_ACTOR, { platform, command, output })).records,
      maxHosts: () => settingsStore.current('discovery').max_hosts_per_scan,
      audit: identity.audit,
      events,
    });

    // Built-in roles derive from every module's permissions (see modules/identity/README.md).
    const jobs = createJobsModule({
      db: database.db,
      bus,
      logger,
      authenticator: identity.authenticator,
      config,
      egress,
      credentials: credentials.resolver,
      audit: identity.audit,
      events,
      liveChannels: [eventsModule.channel, systemLogs.channel],
      streamGuard,
      streamDenials: rateLimitStore,
      extraExecutors: [...configs.executors, ...templates.executors, ...integrations.executors, ...files.executors, ...discovery.executors],
      targetResolver: inventory.targetSelectors,
      principals: { actorOf: identity.actorOf },
      inventory: { updateDeviceFacts: inventory.updateDeviceFacts },
      // Executors parse as the system: the run was authorised when it started, parsers read no data.
      parse: async (platform, command, output) => (await parsers.service.parse(SYSTEM_ACTOR, { platform, command, output })).records,
      ...(config.metricsEnabled ? { onRunFinished: metrics.runFinished } : {}),
    });
    // Shutdown drains the worker (runs finish or are requeued) before the bus and database close.
    closers.unshift(() => jobs.stop(Math.max(0, config.shutdownTimeoutMs - 2000)));
    // NOTE: with Redis unreachable the BullMQ worker waits for it indefinitely. The node still
    // starts (the API answers, /health/ready says what is down); the worker joins once Redis is back.
    const workerStarted = jobs.start().catch((err: unknown) => logger.error({ err }, 'job worker failed to start'));
    if (!(await settlesWithin(workerStarted, 5000))) logger.warn('job worker is waiting for the queue backend');

    if (config.metricsEnabled) registerJobGauges(metrics.registry, () => jobs.stats());

    const schedules = createSchedulesModule({
      db: database.db,
      logger,
      runner: createJobsScheduleRunner(jobs),
      owners: { actorOf: (kind, id) => identity.actorOf(kind, id) },
      audit: identity.audit,
      events,
      misfireGraceSeconds: config.schedulerMisfireGraceSeconds,
      pollMs: config.schedulerPollMs,
      metricsRegistry: config.metricsEnabled ? metrics.registry : null,
    });
    // Every node serves the API; only `scheduler` nodes claim ticks. Stops before jobs and the database close.
    if (config.roles.includes('scheduler')) {
      schedules.scheduler.start();
      closers.unshift(() => schedules.scheduler.stop());
      // Scheduled repository syncs: claimed per repository by compare-and-set (configs/sync-scheduler.ts).
      closers.unshift(configs.syncScheduler.start(10_000));
    }

    // The engine drives executions once jobs exist; it stops before jobs and the database close.
    workflows.start();
    closers.unshift(() => workflows.stop());

    for (const m of [
      system,
      settings,
      parsers,
      credentials,
      inventory,
      templates,
      eventsModule,
      jobs,
      schedules,
      configs,
      integrations,
      alerts,
      files,
      workflows,
      discovery,
    ]) {
      identity.registerPermissions(m.permissions);
    }
    // The audit list hides entries about other teams' objects (docs/architecture.md "Team scoping").
    for (const m of [credentials, jobs, schedules, files, workflows]) identity.audit.registerTeamScoped(m.teamScoped);
    cachePrefetch.register('identity', identity.warmCache);
    cachePrefetch.register('parsers', () => parsers.customTemplates.store.list());
    settingsStore.onChange('cache', () => void cachePrefetch.settingsChanged());
    await cachePrefetch.start();
    const plugins: RoutePlugin[] = [
      ...system.plugins,
      ...identity.plugins,
      ...settings.plugins,
      ...parsers.plugins,
      ...credentials.plugins,
      ...inventory.plugins,
      ...templates.plugins,
      ...jobs.plugins,
      ...schedules.plugins,
      ...eventsModule.plugins,
      ...configs.plugins,
      ...integrations.plugins,
      ...alerts.plugins,
      ...files.plugins,
      ...workflows.plugins,
      ...discovery.plugins,
    ];
    return {
      config,
      logger,
      metrics,
      egress,
      database,
      bus,
      cache,
      events,
      eventsModule,
      system,
      settings,
      settingsStore,
      systemLogs,
      cachePrefetch,
      identity,
      parsers,
      credentials,
      inventory,
      templates,
      jobs,
      schedules,
      configs,
      integrations,
      alerts,
      files,
      workflows,
      plugins,
      rateLimitStore,
      authenticator: identity.authenticator,
      /** Closes everything in reverse order of creation. */
      async close(): Promise<void> {
        for (const close of closers) {
          try {
            await close();
          } catch (err) {
            logger.warn({ err }, 'error while closing');
          }
        }
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => undefined);
    throw err;
  }
}

export type Modules = Awaited<ReturnType<typeof createModules>>;

/** The port a server ends up listening on (OPSDECK_PORT=0 picks one) is refused as an outbound target. */
export function listenersJoinEgress(server: Server, listeners: OwnListeners): void {
  server.on('listening', () => {
    const address = server.address();
    if (typeof address === 'object' && address) listeners.add(address.port);
  });
}

/** Modules plus the HTTP app over them: what `serve` runs and what tests drive. */
export async function createServer(
  config: Config,
  logger: Logger,
  options: ModulesOptions = {},
): Promise<{ app: App; modules: Modules; close(): Promise<void> }> {
  const modules = await createModules(config, logger, options);
  try {
    const app = await buildApp({
      config,
      logger,
      metrics: modules.metrics,
      authenticator: modules.authenticator,
      plugins: modules.plugins,
      version: VERSION,
      asyncApi: { url: ASYNCAPI_URL, document: buildAsyncApi(VERSION) },
      rateLimit: { max: config.rateLimitPerMinute, store: modules.rateLimitStore },
      requestLog: () => modules.settingsStore.current('general').request_log,
    });
    listenersJoinEgress(app.server, modules.egress.listeners);
    return {
      app,
      modules,
      async close() {
        await app.close();
        await modules.close();
      },
    };
  } catch (err) {
    await modules.close();
    throw err;
  }
}
