import { Redis } from 'ioredis';

/** A Redis connection for health probes; fails fast instead of queueing commands while down. */
export function createRedisProbe(url: string) {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
  client.on('error', () => undefined);
  return {
    async ping(): Promise<number> {
      const t = performance.now();
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      await client.ping();
      return performance.now() - t;
    },
    async close(): Promise<void> {
      client.disconnect();
    },
  };
}
