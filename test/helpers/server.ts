import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/platform/observability/logger.js';
import { createServer } from '../../src/modules.js';
import type { Dialect } from '../../src/platform/db/database.js';
import type { Resolver } from '../../src/platform/egress/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { redisTestUrl } from './redis.js';

export const TEST_ADMIN_PASSWORD = 'Correct-Horse-Test-9147';
export const TEST_JWT_SECRET = 'test-jwt-secret-shared-by-cluster-nodes-0123456789';
export const TEST_MASTER_KEY = `ktest:${Buffer.alloc(32, 7).toString('base64')}`;

/** Every log line written during the test file, for asserting that no secret leaks. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestServer {
  app: Awaited<ReturnType<typeof createServer>>['app'];
  modules: Awaited<ReturnType<typeof createServer>>['modules'];
  config: Config;
  logger: Logger;
  logs: LogCapture;
  db: TestDatabase;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** cluster mode: Redis bus/cache (and later BullMQ) */
  cluster?: boolean;
  /** share a database with another test server (second node) */
  db?: TestDatabase;
  /** Outbound HTTP name resolution (never the machine's DNS in tests): names mapped to loopback addresses. */
  resolve?: Resolver;
  /** Identity's and the alerts module's clock (token and API key expiry, grouping windows), to move time instead of sleeping. */
  clock?: () => number;
}

/** A real app over a fresh database of the dialect (in-process, via inject or listen). */
export async function createTestServer(dialect: Dialect, options: TestServerOptions = {}): Promise<TestServer> {
  const db = options.db ?? (await createTestDatabase(dialect, { migrate: false }));
  const config = loadConfig({
    OPSDECK_DATA_DIR: db.dataDir,
    OPSDECK_LOG_LEVEL: 'info',
    OPSDECK_PORT: '0',
    // Known first-start admin password (test/helpers/auth.ts signs in with it).
    OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    // In cluster mode the per-IP /auth limit lives in Redis, shared by every test file running at
    // once from 127.0.0.1; tests of the limit itself set their own low value.
    OPSDECK_AUTH_RATE_LIMIT: '100000',
    // Likewise the per-principal limit: busy test files make thousands of calls a minute.
    OPSDECK_RATE_LIMIT_PER_MINUTE: '10000000',
    ...(db.url ? { OPSDECK_DATABASE_URL: db.url } : {}),
    // Cluster nodes must share the JWT secret (a single node generates one in its data dir).
    ...(options.cluster ? { OPSDECK_REDIS_URL: redisTestUrl() } : {}),
    ...(options.cluster || options.env?.OPSDECK_REDIS_URL ? { OPSDECK_JWT_SECRET: TEST_JWT_SECRET } : {}),
    // …and the vault master key, which cluster mode requires.
    ...(options.cluster || options.env?.OPSDECK_REDIS_URL ? { OPSDECK_MASTER_KEY: TEST_MASTER_KEY } : {}),
    ...options.env,
  });
  const logs = new LogCapture();
  const logger = createLogger({ level: config.logLevel, destination: logs });
  const server = await createServer(config, logger, {
    ...(options.resolve ? { resolve: options.resolve } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    app: server.app,
    modules: server.modules,
    config,
    logger,
    logs,
    db,
    async close() {
      await server.close();
      if (!options.db) await db.drop();
    },
  };
}

/** beforeAll/afterAll wrapper around createTestServer. */
export function useTestServer(dialect: Dialect, options: TestServerOptions = {}): () => TestServer {
  let s: TestServer | undefined;
  beforeAll(async () => {
    s = await createTestServer(dialect, options);
  });
  afterAll(async () => {
    await s?.close();
  });
  return () => {
    if (!s) throw new Error('test server not ready');
    return s;
  };
}
