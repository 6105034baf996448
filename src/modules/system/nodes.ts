import { Redis } from 'ioredis';
import type { NodeSeen } from './system.schemas.js';

export interface NodePresenceOptions {
  /** Cluster mode: each node writes a key with a TTL; without it this process is the only node. */
  redisUrl?: string;
  /** Key prefix (the deployment's `OPSDECK_REDIS_PREFIX` plus `:`). */
  prefix: string;
  self: Omit<NodeSeen, 'last_seen'>;
  refreshMs?: number;
  /** A node not seen for this long drops out of the list (its key expires). */
  ttlMs?: number;
  logger: { warn(obj: object, msg: string): void };
}

/**
 * Which nodes of the cluster are alive: every node refreshes `<prefix>nodes:<id>` (its roles,
 * version, start time and `last_seen`) every `refreshMs` with a TTL of `ttlMs`, so a node that
 * stopped or lost Redis is gone from the list within `ttlMs`. Single-node mode lists itself.
 */
export function createNodePresence(options: NodePresenceOptions) {
  const refreshMs = options.refreshMs ?? 5000;
  const ttlMs = options.ttlMs ?? 15_000;
  const pattern = `${options.prefix}nodes:`;
  const client = options.redisUrl ? new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'opsdeck-nodes' }) : null;
  client?.on('error', () => undefined);
  let timer: NodeJS.Timeout | null = null;
  const now = (): NodeSeen => ({ ...options.self, last_seen: new Date().toISOString() });

  async function beat(): Promise<void> {
    if (client) await client.set(`${pattern}${options.self.id}`, JSON.stringify(now()), 'PX', ttlMs);
  }

  return {
    start(): void {
      if (!client || timer) return;
      // Reported once per outage, not every beat (the warning goes to the system log).
      let failing = false;
      const tick = () =>
        void beat().then(
          () => (failing = false),
          (err: unknown) => {
            if (!failing) options.logger.warn({ err }, 'node heartbeat failed; other nodes will not list this one until Redis answers');
            failing = true;
          },
        );
      tick();
      timer = setInterval(tick, refreshMs);
      timer.unref();
    },
    /** The nodes seen within `ttlMs`, by id. */
    async list(): Promise<NodeSeen[]> {
      if (!client) return [now()];
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${pattern.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 200);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      const values = keys.length ? await client.mget(keys) : [];
      const seen = values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeSeen);
      if (!seen.some((n) => n.id === options.self.id)) seen.push(now());
      return seen.sort((a, b) => a.id.localeCompare(b.id));
    },
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      if (client) {
        // Bounded: with Redis down the key expires by itself; shutdown does not wait for it.
        const gone = client.del(`${pattern}${options.self.id}`).catch(() => undefined);
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        client.disconnect();
      }
    },
  };
}

export type NodePresence = ReturnType<typeof createNodePresence>;
