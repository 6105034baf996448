import type { Redis } from 'ioredis';
import type { BusLogger } from './event-bus.js';

/** Escapes Redis glob metacharacters so a literal string matches only itself in PSUBSCRIBE/SCAN. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * Logs connection errors once per outage: ioredis emits one per reconnect attempt, which
 * would flood the log while Redis is down. Without any listener ioredis prints to stderr.
 */
export function watchErrors(client: Redis, logger: BusLogger, name: string): void {
  let reported = false;
  client.on('error', (err: Error) => {
    if (!reported) {
      reported = true;
      logger.warn({ err, connection: name }, 'redis connection error');
    }
  });
  client.on('ready', () => {
    reported = false;
  });
}

/** Quits gracefully when connected; otherwise drops the socket and stops reconnecting, so no handle stays open. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') {
    return;
  }
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
