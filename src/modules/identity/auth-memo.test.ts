import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../platform/bus/index.js';
import { createAuthMemo } from './auth-memo.js';

describe('credential memo', () => {
  let now = 1_000_000;
  const clock = () => now;
  const bus = createMemoryBus();
  const memos: ReturnType<typeof createAuthMemo<string>>[] = [];
  /** A memo as one node has it, subscribed to the shared bus. */
  async function node() {
    const memo = createAuthMemo<string>({ bus, logger: { warn: () => undefined }, clock });
    memos.push(memo);
    memo.start();
    await vi.waitFor(() => {
      memo.set('probe', 'x', Infinity, memo.epoch());
      expect(memo.get('probe')).toBe('x');
    });
    return memo;
  }
  afterEach(async () => {
    await Promise.all(memos.splice(0).map((m) => m.close()));
  });

  it('answers until the credential expires, and at most a second without re-checking', async () => {
    const memo = await node();
    memo.set('a', 'alice', now + 500, memo.epoch());
    memo.set('b', 'bob', now + 60_000, memo.epoch());
    expect([memo.get('a'), memo.get('b')]).toEqual(['alice', 'bob']);
    now += 500;
    expect([memo.get('a'), memo.get('b')]).toEqual([undefined, 'bob']);
    now += 500;
    expect(memo.get('b')).toBeUndefined();
  });

  it('memoises nothing before its subscription is active', () => {
    const memo = createAuthMemo<string>({ bus, logger: { warn: () => undefined }, clock });
    memos.push(memo);
    memo.set('a', 'alice', Infinity, memo.epoch());
    expect(memo.get('a')).toBeUndefined();
  });

  it('forgets during and after an invalidation here, and drops a resolution that started before it', async () => {
    const memo = await node();
    memo.set('a', 'alice', Infinity, memo.epoch());
    const started = memo.epoch();
    await memo.invalidate(async () => {
      expect(memo.get('a')).toBeUndefined();
      // A resolution finishing while the cache is being invalidated read possibly stale data.
      memo.set('b', 'stale', Infinity, memo.epoch());
    });
    expect(memo.get('b')).toBeUndefined();
    memo.set('c', 'stale', Infinity, started);
    expect(memo.get('c')).toBeUndefined();
    memo.set('c', 'fresh', Infinity, memo.epoch());
    expect(memo.get('c')).toBe('fresh');
  });

  it('forgets when another node changes identity data, and memoises again once that settled', async () => {
    const here = await node();
    const there = await node();
    here.set('a', 'alice', Infinity, here.epoch());
    there.set('a', 'alice', Infinity, there.epoch());
    await there.invalidate(async () => undefined);
    await vi.waitFor(() => expect(here.get('a')).toBeUndefined());
    // Its own message does not hold the invalidating node back.
    there.set('a', 'alice', Infinity, there.epoch());
    expect(there.get('a')).toBe('alice');
    // The bus may overtake the cache's own invalidation, so fills wait a moment here.
    here.set('a', 'alice', Infinity, here.epoch());
    expect(here.get('a')).toBeUndefined();
    now += 1_000;
    here.set('a', 'alice', Infinity, here.epoch());
    expect(here.get('a')).toBe('alice');
  });
});
