import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

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
