import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';
import { createMemoryRateLimitStore, type RateLimitStore } from '../../platform/http/rate-limit.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { AuditRecorder } from './audit.js';

/** Denied subscriptions a principal (and a connection) may have per window before its socket is closed with 4429. */
export const DENIALS_PER_WINDOW = 10;
const WINDOW_MS = 60_000;

/** A connection's own count of denied subscriptions in its current window. */
export interface ConnectionDenials {
  count: number;
  since: number;
}

/**
 * Counts denied WebSocket subscriptions (guessed run ids, channels without permission) per
 * connection and per principal — the latter in the platform rate-limit store, so in Redis and
 * shared by every node in a cluster. Past the limit the connection is to be closed; the burst is
 * logged and audited once (by whichever hit first crosses the limit: Redis INCR is atomic), not
 * per frame. With the store down, the connection's own count still limits.
 */
export function createDenialLimiter(deps: {
  db: Db;
  audit?: AuditRecorder | undefined;
  logger: Pick<Logger, 'warn'>;
  store?: RateLimitStore | undefined;
  clock?: () => number;
}) {
  const store = deps.store ?? createMemoryRateLimitStore();
  const clock = deps.clock ?? Date.now;

  async function report(actor: Actor, denials: number, channel: string): Promise<void> {
    deps.logger.warn({ actorKind: actor.kind, actorId: actor.id, denials, channel }, 'too many denied stream subscriptions; connection closed');
    await deps.audit?.record(deps.db, {
      actor,
      action: 'stream.subscriptions_denied',
      resourceType: 'stream',
      resourceId: null,
      outcome: 'denied',
      changes: { denials, window_seconds: WINDOW_MS / 1000, last_channel: channel },
    });
  }

  return {
    /** Counts one denial; true when the connection must be closed (4429). */
    async deny(actor: Actor, connection: ConnectionDenials, channel: string): Promise<boolean> {
      const now = clock();
      if (now - connection.since >= WINDOW_MS) [connection.count, connection.since] = [0, now];
      connection.count += 1;
      let principal = 0;
      try {
        principal = (await store.hit(`stream-denied:${actor.kind}:${actor.id}`, WINDOW_MS)).count;
      } catch (err) {
        deps.logger.warn({ err }, 'stream denial count unavailable; limiting per connection only');
      }
      const over = connection.count > DENIALS_PER_WINDOW || principal > DENIALS_PER_WINDOW;
      const firstOver = principal === DENIALS_PER_WINDOW + 1 || (principal === 0 && connection.count === DENIALS_PER_WINDOW + 1);
      if (firstOver) {
        await report(actor, Math.max(principal, connection.count), channel).catch((err: unknown) => deps.logger.warn({ err }, 'stream denial audit failed'));
      }
      return over;
    },
  };
}

export type DenialLimiter = ReturnType<typeof createDenialLimiter>;
