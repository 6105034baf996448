import { describe, expect, it } from 'vitest';
import { requireRedis } from './redis.js';

describe('requireRedis', () => {
  it('fails fast with the start command when nothing listens at the URL', async () => {
    const started = performance.now();
    await expect(requireRedis('redis://127.0.0.1:1')).rejects.toThrow(
      "Redis is not reachable at redis://127.0.0.1:1 — start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
    );
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('resolves when Redis answers, probing once per URL', async () => {
    await expect(requireRedis()).resolves.toBeUndefined();
    expect(requireRedis()).toBe(requireRedis());
  });
});
