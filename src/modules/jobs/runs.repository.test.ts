import { describe, expect, it } from 'vitest';
import { DIALECTS, useTestDatabase } from '../../../test/helpers/db.js';
import { newId, nowIso } from '../../platform/ids.js';
import { createRunsRepository, type Run } from './runs.repository.js';

function newRun(over: Partial<Run> = {}): Run {
  const now = nowIso();
  return {
    id: newId(), type: 'noop', status: 'queued', params: {}, targets: ['h'], credentialId: null, templateId: null, retryOf: null, priority: 5, timeoutMs: 1000,
    targetTimeoutMs: 1000, targetConcurrency: 1, maxAttempts: 1, backoffMs: 10, attempt: 0, changesDevices: false, triggerKind: 'system', triggeredBy: null,
    idempotencyKey: null, notBefore: null, blockedBy: null, leaseOwner: null, leaseExpiresAt: null, workerId: null, cancelRequested: false, reason: null,
    output: null, logNextSeq: 1, logDropped: 0, createdAt: now, startedAt: null, finishedAt: null, updatedAt: now, ...over,
  };
}

describe.each(DIALECTS)('job run state writes on %s', (dialect) => {
  const db = useTestDatabase(dialect);
  const lease = (owner: string, ms = 60_000) => ({ owner, workerId: 'w', until: new Date(Date.now() + ms).toISOString(), now: nowIso() });

  it('lets exactly one claim win, and only the lease holder end the run', async () => {
    const runs = createRunsRepository(db().database.db);
    const run = newRun();
    await runs.insert([{ run, targets: [] }]);
    const claims = await Promise.all([runs.claim(run.id, lease('a')), runs.claim(run.id, lease('b'))]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims.find(Boolean)!.leaseOwner!;
    const loser = winner === 'a' ? 'b' : 'a';
    expect(await runs.finish(run.id, loser, 'failed', { reason: 'x', output: null, now: nowIso() })).toBe(false);
    expect(await runs.finish(run.id, winner, 'succeeded', { reason: null, output: null, now: nowIso() })).toBe(true);
    // A late heartbeat, a second finish or a recovery cannot touch a terminal run.
    expect(await runs.renewLease(run.id, winner, nowIso())).toBeUndefined();
    expect(await runs.finish(run.id, winner, 'failed', { reason: 'late', output: null, now: nowIso() })).toBe(false);
    expect(await runs.recover(run.id, winner, 'failed', { reason: 'worker lost', notBefore: null, now: new Date(Date.now() + 1e9).toISOString() })).toBe(false);
    expect(await runs.cancelQueued(run.id, nowIso())).toBe(false);
    expect((await runs.find(run.id))?.status).toBe('succeeded');
  });

  it('recovers only an expired lease, once, and never a due-later or cancelled run by claim', async () => {
    const runs = createRunsRepository(db().database.db);
    const run = newRun();
    await runs.insert([{ run, targets: [] }]);
    await runs.claim(run.id, lease('dead', 50));
    expect(await runs.recover(run.id, 'dead', 'queued', { reason: 'worker lost', notBefore: null, now: nowIso() })).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    const now = nowIso();
    expect((await runs.expiredLeases(now)).map((r) => r.id)).toContain(run.id);
    expect(await runs.recover(run.id, 'dead', 'queued', { reason: 'worker lost', notBefore: null, now })).toBe(true);
    expect(await runs.recover(run.id, 'dead', 'failed', { reason: 'worker lost', notBefore: null, now })).toBe(false);
    const later = newRun({ notBefore: new Date(Date.now() + 60_000).toISOString() });
    await runs.insert([{ run: later, targets: [] }]);
    expect(await runs.claim(later.id, lease('x'))).toBeUndefined();
    const cancelled = newRun();
    await runs.insert([{ run: cancelled, targets: [] }]);
    expect(await runs.cancelQueued(cancelled.id, nowIso())).toBe(true);
    expect(await runs.claim(cancelled.id, lease('x'))).toBeUndefined();
  });
});

describe.each(DIALECTS)('job run batches on %s', (dialect) => {
  const db = useTestDatabase(dialect);

  it('stores a batch of runs with their targets, and ranks queued runs by priority then age', async () => {
    const runs = createRunsRepository(db().database.db);
    const target = (idx: number, host: string) => ({ idx, host, deviceId: null, status: 'pending', attempt: 0, startedAt: null, finishedAt: null, durationMs: null, output: null, parsed: null, error: null });
    const low = newRun({ priority: 1 });
    const high = newRun({ priority: 9 });
    const mid1 = newRun();
    const mid2 = newRun();
    const running = newRun({ status: 'running', priority: 10 });
    await runs.insert([
      { run: low, targets: [target(0, 'a'), target(1, 'b')] },
      { run: high, targets: [] },
      { run: mid1, targets: [target(0, 'c')] },
      { run: mid2, targets: [] },
      { run: running, targets: [] },
    ]);
    expect((await runs.targets(low.id)).map((t) => t.host)).toEqual(['a', 'b']);
    expect((await runs.targets(mid1.id)).map((t) => t.host)).toEqual(['c']);
    expect((await runs.find(mid2.id))?.status).toBe('queued');
    // Running runs do not count; a run not stored is ranked where it would be.
    const unsaved = { id: newId(), priority: 5 };
    expect(await runs.positions([mid2, low, high, mid1, unsaved])).toEqual([2, 3, 0, 1, 3]);
    expect(await runs.positions([])).toEqual([]);
  });
});
