import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** The Redis the tests use: `OPSDECK_TEST_REDIS_URL` (set by test/global-setup.ts to its throwaway one unless given); benches default to :6379. */
export function redisTestUrl(): string {
  return process.env.OPSDECK_TEST_REDIS_URL ?? DEFAULT_URL;
}

/** A connection that fails fast instead of retrying, for probes and test clean-up. */
export function testRedisClient(url = redisTestUrl()): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The failure surfaces through the rejected command; this keeps ioredis from also printing it.
  client.on('error', () => {});
  return client;
}

const probes = new Map<string, Promise<void>>();

/**
 * Rejects (so the calling test FAILS, never skips) when Redis is not reachable. Call it in
 * `beforeEach` of every suite that needs Redis: each test then fails saying what to do,
 * instead of the whole suite showing up as "skipped". The probe runs once per URL and file.
 */
export function requireRedis(url = redisTestUrl()): Promise<void> {
  let probe = probes.get(url);
  if (probe === undefined) {
    probe = probeRedis(url);
    probes.set(url, probe);
  }
  return probe;
}

async function probeRedis(url: string): Promise<void> {
  const client = testRedisClient(url);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${url}. Unset OPSDECK_TEST_REDIS_URL to let the test run start a throwaway Redis ` +
        `(test/global-setup.ts), or point it at a running one.`,
      { cause: err },
    );
  } finally {
    client.disconnect();
  }
}

/** A key/channel prefix unique to one test file run, so files running in parallel never collide. */
export function uniqueRedisPrefix(label: string): string {
  return `opsdeck-test:${label}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteRedisKeys(prefix: string, url = redisTestUrl()): Promise<void> {
  const client = testRedisClient(url);
  try {
    await client.connect();
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) {
        await client.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
