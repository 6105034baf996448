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
    await runs.insert(run, []);
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
    await runs.insert(run, []);
    await runs.claim(run.id, lease('dead', 50));
    expect(await runs.recover(run.id, 'dead', 'queued', { reason: 'worker lost', notBefore: null, now: nowIso() })).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    const now = nowIso();
    expect((await runs.expiredLeases(now)).map((r) => r.id)).toContain(run.id);
    expect(await runs.recover(run.id, 'dead', 'queued', { reason: 'worker lost', notBefore: null, now })).toBe(true);
    expect(await runs.recover(run.id, 'dead', 'failed', { reason: 'worker lost', notBefore: null, now })).toBe(false);
    const later = newRun({ notBefore: new Date(Date.now() + 60_000).toISOString() });
    await runs.insert(later, []);
    expect(await runs.claim(later.id, lease('x'))).toBeUndefined();
    const cancelled = newRun();
    await runs.insert(cancelled, []);
    expect(await runs.cancelQueued(cancelled.id, nowIso())).toBe(true);
    expect(await runs.claim(cancelled.id, lease('x'))).toBeUndefined();
  });
});
