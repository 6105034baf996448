import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { TooManyRequestsError } from '../errors.js';

/** A fixed window per key, opened by the key's first hit. */
export interface RateLimitStore {
  /** Counts one hit; returns the hits in the current window and the ms until it closes. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  close(): Promise<void>;
}

/** In-process windows (single node). Expired windows are dropped as they are met and once a minute. */
export function createMemoryRateLimitStore(clock: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sweep = setInterval(() => {
    const now = clock();
    for (const [key, w] of windows) if (w.resetAt <= now) windows.delete(key);
  }, 60_000);
  sweep.unref();
  return {
    async hit(key, windowMs) {
      const now = clock();
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
      }
      w.count += 1;
      return { count: w.count, resetMs: w.resetAt - now };
    },
    async close() {
      clearInterval(sweep);
      windows.clear();
    },
  };
}

// INCR and the expiry of a new window in one step, so a crash between them cannot leave a key without TTL.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { n, ttl }
`;

/** Windows in Redis under `prefix`, shared by every node of a cluster. */
export function createRedisRateLimitStore(client: Redis, prefix: string): RateLimitStore {
  return {
    async hit(key, windowMs) {
      const [count, resetMs] = (await client.eval(HIT_SCRIPT, 1, `${prefix}${key}`, String(windowMs))) as [number, number];
      return { count, resetMs };
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
}

export interface PrincipalRateLimitOptions {
  /** Requests per principal per window. */
  max: number;
  windowMs?: number;
  store: RateLimitStore;
  /** Called when the store fails; the request is then let through (fail open). */
  onError(err: unknown): void;
}

/**
 * Limits every authenticated request per principal (user or API key), after authentication and
 * the permission check in `auth.ts`. Public routes (login and refresh carry their own strict
 * per-IP limit) are not counted. Answers carry the IETF draft `RateLimit-*` headers; a request
 * over the limit gets 429 problem+json with `Retry-After`.
 */
export function registerPrincipalRateLimit(app: FastifyInstance, options: PrincipalRateLimitOptions): void {
  const windowMs = options.windowMs ?? 60_000;
  app.addHook('onRequest', async (request, reply) => {
    const actor = request.actor as typeof request.actor | null;
    if (!actor || actor.kind === 'system') return;
    let hit: { count: number; resetMs: number };
    try {
      hit = await options.store.hit(`${actor.kind}:${actor.id}`, windowMs);
    } catch (err) {
      options.onError(err);
      return;
    }
    const resetSeconds = Math.max(1, Math.ceil(hit.resetMs / 1000));
    void reply.header('ratelimit-limit', options.max);
    void reply.header('ratelimit-remaining', Math.max(0, options.max - hit.count));
    void reply.header('ratelimit-reset', resetSeconds);
    if (hit.count > options.max) {
      throw new TooManyRequestsError('RATE_LIMITED', `More than ${options.max} requests a minute from this principal; slow down`, resetSeconds);
    }
  });
}
