import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigError } from '../config.js';

/**
 * A Redis connection for health probes; fails fast instead of queueing commands while down.
 * Readiness is a write: a Redis that answers PING but refuses writes (out of memory, a read-only
 * replica after a failover, a full disk with stop-writes-on-bgsave-error) cannot take jobs, so
 * the probe sets a key of its own under `prefix` with a short TTL.
 */
export function createRedisProbe(url: string, prefix = 'opsdeck') {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
  client.on('error', () => undefined);
  const key = `${prefix}:health:${randomUUID()}`;
  return {
    async ping(): Promise<number> {
      const t = performance.now();
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      await client.set(key, '1', 'PX', 10_000);
      return performance.now() - t;
    },
    async close(): Promise<void> {
      client.disconnect();
    },
  };
}

/**
 * Cluster mode keeps queue state in Redis: a Redis that evicts keys under memory pressure drops
 * jobs and locks silently (BullMQ only warns). Start-up refuses any `maxmemory-policy` but
 * `noeviction`. A Redis that cannot be asked (down, or CONFIG disabled by a managed service)
 * is reported and not refused: the node starts and its readiness says what is down.
 */
export async function requireNoEviction(url: string, logger: { warn(obj: object, msg: string): void }): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: () => null });
  client.on('error', () => undefined);
  let policy: string | undefined;
  try {
    await client.connect();
    policy = ((await client.config('GET', 'maxmemory-policy')) as string[])[1];
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read Redis maxmemory-policy; it must be noeviction');
  } finally {
    client.disconnect();
  }
  if (policy !== undefined && policy !== 'noeviction') {
    throw new ConfigError([
      `Redis maxmemory-policy is ${policy}: cluster mode needs noeviction (evicted keys lose queued jobs); run CONFIG SET maxmemory-policy noeviction and set it in redis.conf`,
    ]);
  }
}
