import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EventBus } from '../../platform/bus/index.js';
import type { Logger } from '../../platform/observability/logger.js';

const CHANNEL = 'identity:changed';
/** Bounds how long a memoised answer may outlive a change whose bus message was lost. */
const MAX_AGE_MS = 1_000;
/**
 * After another node's change, fills wait this long: the bus message may overtake the cache's
 * own invalidation message (two connections), and a fill from a still-stale L1 must not stick.
 */
const SETTLE_MS = 1_000;

/**
 * What a credential resolved to (the actor without request context), remembered per raw
 * credential so that a repeat request costs a map lookup and no await. Sound because every
 * change to users, roles, teams or API keys goes through `invalidate`: this node forgets
 * everything before and after the cache invalidation (and refuses fills that started
 * before it), and the other nodes forget on the bus message. Revocations of access tokens are
 * not memoised; the caller checks the in-memory revocation list on every request.
 * NOTE: keys are raw credentials (JWTs, API keys), like the verified-token LRU: memory only.
 */
export function createAuthMemo<V>(deps: { bus: EventBus; logger: Pick<Logger, 'warn'>; clock: () => number }) {
  const origin = randomUUID();
  const entries = new LRUCache<string, { value: V; until: number }>({ max: 10_000 });
  let epoch = 0;
  let fillsFrom = 0;
  /** Remote changes reach us only while subscribed; nothing is memoised before. */
  let listening = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  let closed = false;

  function forget(): void {
    epoch += 1;
    entries.clear();
  }

  return {
    /** Not awaited by start-up: with Redis down the node starts, and credentials are not memoised until subscribed. */
    start(): void {
      deps.bus
        .subscribe(CHANNEL, (message) => {
          if ((message as { origin?: string }).origin === origin) return;
          forget();
          fillsFrom = deps.clock() + SETTLE_MS;
        })
        .then(
          (off) => {
            if (closed) void off();
            else [unsubscribe, listening] = [off, true];
          },
          (err: unknown) => deps.logger.warn({ err }, 'identity change subscription failed; credentials are not memoised'),
        );
    },
    get(credential: string): V | undefined {
      const entry = entries.get(credential);
      if (entry === undefined) return undefined;
      if (entry.until > deps.clock()) return entry.value;
      entries.delete(credential);
      return undefined;
    },
    /** Taken before resolving a credential; `set` ignores the result if a change happened since. */
    epoch: () => epoch,
    set(credential: string, value: V, expiresAt: number, since: number): void {
      const now = deps.clock();
      if (!listening || since !== epoch || now < fillsFrom) return;
      entries.set(credential, { value, until: Math.min(expiresAt, now + MAX_AGE_MS) });
    },
    /** Runs a cache invalidation of identity data, forgetting around it here and on every node. */
    async invalidate(run: () => Promise<void>): Promise<void> {
      forget();
      try {
        await run();
      } finally {
        forget();
      }
      await deps.bus.publish(CHANNEL, { origin });
    },
    async close(): Promise<void> {
      closed = true;
      listening = false;
      forget();
      await unsubscribe?.().catch(() => undefined);
    },
  };
}
export type AuthMemo<V> = ReturnType<typeof createAuthMemo<V>>;
