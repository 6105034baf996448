import { describe, expect, it } from 'vitest';
import { backoffDelayMs, blockedBy, canTransition, isExpired, outcomeOf, queueBefore, rankQueued, RUN_STATUSES, TERMINAL_STATUSES } from './run-state.fns.js';

describe('run state machine', () => {
  it('never leaves a terminal state', () => {
    for (const from of TERMINAL_STATUSES) for (const to of RUN_STATUSES) expect(canTransition(from, to)).toBe(false);
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('queued', 'succeeded')).toBe(false);
    expect(canTransition('running', 'queued')).toBe(true);
    expect(canTransition('queued', 'expired')).toBe(true);
    expect(canTransition('running', 'expired')).toBe(false);
    expect(TERMINAL_STATUSES).toContain('expired');
  });
  it('expires only a queued run whose deadline has come', () => {
    const at = '1970-01-01T00:00:05.000Z';
    expect(isExpired({ status: 'queued', expiresAt: at }, 5_000)).toBe(true);
    expect(isExpired({ status: 'queued', expiresAt: at }, 4_999)).toBe(false);
    expect(isExpired({ status: 'queued', expiresAt: null }, 9e12)).toBe(false);
    expect(isExpired({ status: 'running', expiresAt: at }, 9e12)).toBe(false);
  });
  it('derives the outcome from targets', () => {
    expect(outcomeOf(['succeeded', 'succeeded'])).toBe('succeeded');
    expect(outcomeOf(['succeeded', 'failed'])).toBe('partially_failed');
    expect(outcomeOf(['timed_out', 'failed'])).toBe('failed');
  });
  it('backs off exponentially with jitter within bounds', () => {
    expect(backoffDelayMs(1000, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(1000, 3, () => 1)).toBe(4000);
    expect(backoffDelayMs(1000, 30, () => 1)).toBe(3_600_000);
  });
  it('always explains a queued run', () => {
    const base = {
      status: 'queued',
      attempt: 0,
      notBefore: null,
      storedBlockedBy: null,
      liveWorkers: 1,
      running: 0,
      runningOfType: 0,
      capacity: 10,
      typeLimit: 10,
      position: 0,
      now: 1_000,
    };
    expect(blockedBy(base)).toBe('dispatching');
    expect(blockedBy({ ...base, liveWorkers: 0 })).toBe('no_worker');
    expect(blockedBy({ ...base, running: 10 })).toBe('concurrency_limit');
    expect(blockedBy({ ...base, position: 3 })).toBe('concurrency_limit');
    expect(blockedBy({ ...base, storedBlockedBy: 'device_lock: r1' })).toBe('device_lock: r1');
    expect(blockedBy({ ...base, notBefore: '1970-01-01T00:00:05.000Z' })).toBe('scheduled_for 1970-01-01T00:00:05.000Z');
    expect(blockedBy({ ...base, attempt: 1, notBefore: '1970-01-01T00:00:05.000Z' })).toBe('retry_backoff until 1970-01-01T00:00:05.000Z');
    expect(blockedBy({ ...base, status: 'succeeded' })).toBeNull();
  });
});

describe('rankQueued', () => {
  it('adds what was queued ahead to the unwritten runs ahead, by priority then id', () => {
    const runs = [
      { id: 'b', priority: 5 },
      { id: 'd', priority: 9 },
      { id: 'a', priority: 5 },
      { id: 'c', priority: 1 },
    ];
    // Before: 7 runs ahead of the oldest new priority-5 run, and 'aa' (queued concurrently) after it;
    // 2 ahead of the priority-9 one; 20 ahead of the priority-1 one.
    const before = queueBefore([
      { priority: 5, id: null, n: '7' },
      { priority: 5, id: 'aa', n: 0 },
      { priority: '9', id: null, n: 2 },
      { priority: 1, id: null, n: 20 },
    ]);
    expect(rankQueued(runs, before)).toEqual([7 + 1 + 2, 2, 7 + 0 + 1, 20 + 3]);
    expect(rankQueued([], before)).toEqual([]);
    // Stored runs are in the tail already: only what was queued counts.
    const stored = queueBefore([{ priority: 5, id: null, n: 7 }, ...['a', 'aa', 'b'].map((id) => ({ priority: 5, id, n: 0 }))]);
    expect(
      rankQueued(
        [
          { id: 'b', priority: 5 },
          { id: 'a', priority: 5 },
        ],
        stored,
        [],
      ),
    ).toEqual([9, 7]);
  });
});
