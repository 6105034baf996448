import { describe, expect, it } from 'vitest';
import { requireRedis } from './redis.js';

describe('requireRedis', () => {
  it('fails fast, saying what to do, when nothing listens at the URL', async () => {
    const started = performance.now();
    await expect(requireRedis('redis://127.0.0.1:1')).rejects.toThrow(
      'Redis is not reachable at redis://127.0.0.1:1. Unset OPSDECK_TEST_REDIS_URL to let the test run start a throwaway Redis (test/global-setup.ts), or point it at a running one.',
    );
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('resolves when Redis answers, probing once per URL', async () => {
    await expect(requireRedis()).resolves.toBeUndefined();
    expect(requireRedis()).toBe(requireRedis());
  });
});
