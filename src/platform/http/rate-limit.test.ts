import { describe, expect, it } from 'vitest';
import { buildPlainApp } from '../../../test/helpers/http-app.js';
import { SYSTEM_ACTOR, type Actor } from './auth.js';
import { createMemoryRateLimitStore, registerPrincipalRateLimit, type RateLimitStore } from './rate-limit.js';

describe('the in-memory rate-limit store', () => {
  it('counts hits per key in a window opened by the first hit, and starts over once it closes', async () => {
    let now = 1_000_000;
    const store = createMemoryRateLimitStore(() => now);
    expect(await store.hit('a', 60_000)).toEqual({ count: 1, resetMs: 60_000 });
    now += 10_000;
    expect(await store.hit('a', 60_000)).toEqual({ count: 2, resetMs: 50_000 });
    expect(await store.hit('b', 60_000)).toEqual({ count: 1, resetMs: 60_000 });
    now += 50_000;
    expect(await store.hit('a', 60_000)).toEqual({ count: 1, resetMs: 60_000 });
    await store.close();
  });
});

describe('registerPrincipalRateLimit', () => {
  const user: Actor = { ...SYSTEM_ACTOR, kind: 'user', id: '01900000-0000-7000-8000-000000000001', name: 'u' };
  const build = async (store: RateLimitStore, errors: unknown[]) =>
    (
      await buildPlainApp(
        [
          {
            prefix: '',
            plugin: async (app) => {
              registerPrincipalRateLimit(app, { max: 2, store, onError: (err) => errors.push(err) });
              app.get('/limited', { config: { permission: 'x:read' } }, async () => ({ ok: true }));
            },
          },
        ],
        { authenticator: { authenticate: async () => user } },
      )
    ).app;

  it('lets requests through (fail open) when the store fails, and reports the error', async () => {
    const errors: unknown[] = [];
    const app = await build({ hit: async () => Promise.reject(new Error('store down')), close: async () => undefined }, errors);
    for (let i = 0; i < 4; i += 1) {
      const res = await app.inject({ url: '/limited' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    expect(errors).toHaveLength(4);
    await app.close();
  });

  it('answers 429 problem+json with Retry-After past the limit', async () => {
    const app = await build(createMemoryRateLimitStore(), []);
    expect((await app.inject({ url: '/limited' })).headers['ratelimit-remaining']).toBe('1');
    expect((await app.inject({ url: '/limited' })).headers['ratelimit-remaining']).toBe('0');
    const over = await app.inject({ url: '/limited' });
    expect(over.statusCode).toBe(429);
    expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    await app.close();
  });
});
