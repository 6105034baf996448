/**
 * The composition root: builds config-dependent infrastructure and every module once, by
 * hand, in dependency order. Nothing else constructs modules.
 */
import type { Config } from './config.js';
import { buildApp, type App, type RoutePlugin } from './app.js';
import type { Logger } from './platform/observability/logger.js';
import { createMetrics } from './platform/observability/metrics.js';
import { createDatabase } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { createEventBus } from './platform/bus/index.js';
import { createCache } from './platform/cache/index.js';
import { createDomainEvents } from './platform/events/domain-events.js';
import { createRedisProbe } from './platform/redis.js';
import { allowAllAuthenticator } from './platform/http/auth.js';
import { createSystemModule, type DependencyProbe } from './modules/system/index.js';
import { VERSION } from './version.js';

export interface ModulesOptions {
  /** Run pending migrations before building modules (default true). */
  migrate?: boolean;
}

export async function createModules(config: Config, logger: Logger, options: ModulesOptions = {}) {
  const metrics = createMetrics();
  const database = createDatabase({
    dialect: config.databaseDialect,
    sqlitePath: config.sqlitePath,
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
    poolSize: config.dbPoolSize,
    onQuery: (ms, ok) => metrics.dbQueryDuration.observe({ dialect: config.databaseDialect, outcome: ok ? 'ok' : 'error' }, ms / 1000),
  });
  const closers: (() => Promise<void>)[] = [() => database.destroy()];
  try {
    if (options.migrate !== false) {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    }
    const bus = createEventBus({ ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), logger });
    closers.unshift(() => bus.close());
    const cache = createCache({ ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), metrics: metrics.cacheHooks, logger });
    closers.unshift(() => cache.close());
    const events = createDomainEvents({ db: database.db, bus, logger });

    const probes: DependencyProbe[] = [{ name: 'database', ping: () => database.ping() }];
    if (config.redisUrl) {
      const redis = createRedisProbe(config.redisUrl);
      closers.unshift(() => redis.close());
      probes.push({ name: 'redis', ping: () => redis.ping() });
    }
    const system = createSystemModule({
      probes,
      metricsRegistry: config.metricsEnabled ? metrics.registry : null,
      info: { version: VERSION, mode: config.mode, database_dialect: config.databaseDialect, roles: [...config.roles] },
    });

    const plugins: RoutePlugin[] = [...system.plugins];
    return {
      config,
      logger,
      metrics,
      database,
      bus,
      cache,
      events,
      system,
      plugins,
      authenticator: allowAllAuthenticator,
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

/** Modules plus the HTTP app over them: what `serve` runs and what tests drive. */
export async function createServer(config: Config, logger: Logger, options: ModulesOptions = {}): Promise<{ app: App; modules: Modules; close(): Promise<void> }> {
  const modules = await createModules(config, logger, options);
  try {
    const app = await buildApp({
      config,
      logger,
      metrics: modules.metrics,
      authenticator: modules.authenticator,
      plugins: modules.plugins,
      version: VERSION,
    });
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
