import { describe, expect, it } from 'vitest';
import { DIALECTS, useTestDatabase } from '../../../test/helpers/db.js';
import { newId, nowIso } from '../../platform/ids.js';
import { createLogsRepository } from './logs.repository.js';
import { createRunsRepository, type Run } from './runs.repository.js';

/** A timestamp `ms` from now: the repository takes `now` from its caller, so tests move time by passing a later one, never by sleeping. */
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

function newRun(over: Partial<Run> = {}): Run {
  const now = nowIso();
  return {
    id: newId(),
    type: 'noop',
    status: 'queued',
    params: {},
    targets: ['h'],
    credentialId: null,
    templateId: null,
    teamId: null,
    retryOf: null,
    priority: 5,
    timeoutMs: 1000,
    targetTimeoutMs: 1000,
    targetConcurrency: 1,
    maxAttempts: 1,
    backoffMs: 10,
    attempt: 0,
    changesDevices: false,
    triggerKind: 'system',
    triggeredBy: null,
    idempotencyKey: null,
    requestHash: null,
    expiresAt: null,
    notBefore: null,
    blockedBy: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    workerId: null,
    cancelRequested: false,
    reason: null,
    output: null,
    logNextSeq: 1,
    logDropped: 0,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
    initiatorKind: null,
    initiatorId: null,
    initiatorUserId: null,
    ...over,
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
    await runs.claim(run.id, lease('dead', 60_000));
    expect(await runs.recover(run.id, 'dead', 'queued', { reason: 'worker lost', notBefore: null, now: nowIso() })).toBe(false);
    expect(await runs.expiredLeases(nowIso())).not.toContainEqual(expect.objectContaining({ id: run.id }));
    const now = at(120_000);
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

describe.each(DIALECTS)('lease fencing of run writes on %s', (dialect) => {
  const db = useTestDatabase(dialect);
  const target = (idx: number) => ({
    idx,
    host: `h${idx}`,
    deviceId: null,
    status: 'pending',
    attempt: 0,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    output: null,
    parsed: null,
    error: null,
  });

  it('lets a worker whose lease was taken over write nothing: targets, logs, log state', async () => {
    const runs = createRunsRepository(db().database.db);
    const logs = createLogsRepository(db().database.db);
    const run = newRun({ maxAttempts: 2 });
    await runs.insert([{ run, targets: [target(0), target(1)] }]);
    const stale = (await runs.claim(run.id, { owner: 'paused', workerId: 'w1', until: at(60_000), now: nowIso() }))!;
    expect(await runs.updateTarget(run.id, 0, 'paused', { status: 'running', attempt: stale.attempt })).toBe(true);
    expect(await logs.insert(run.id, 'paused', [{ seq: 1, ts: nowIso(), level: 'info', target: null, message: 'attempt 1' }])).toBe(true);
    // The lease expires, the run is recovered and claimed again by another worker.
    expect(await runs.recover(run.id, 'paused', 'queued', { reason: 'worker lost', notBefore: null, now: at(120_000) })).toBe(true);
    const fresh = (await runs.claim(run.id, { owner: 'fresh', workerId: 'w2', until: new Date(Date.now() + 60_000).toISOString(), now: nowIso() }))!;
    expect(await runs.updateTarget(run.id, 0, 'fresh', { status: 'running', attempt: fresh.attempt, output: null })).toBe(true);
    expect(await logs.insert(run.id, 'fresh', [{ seq: 2, ts: nowIso(), level: 'info', target: null, message: 'attempt 2' }])).toBe(true);

    // The paused worker wakes up and writes its results: nothing changes.
    expect(await runs.updateTarget(run.id, 0, 'paused', { status: 'succeeded', output: 'stale result', error: null })).toBe(false);
    expect(await runs.updateTarget(run.id, 1, 'paused', { status: 'failed', error: 'stale failure' })).toBe(false);
    await runs.closeOpenTargets(run.id, 'paused', 'failed', 'stale close', nowIso());
    expect(
      await logs.insert(run.id, 'paused', [
        { seq: 2, ts: nowIso(), level: 'error', target: null, message: 'stale line' },
        { seq: 3, ts: nowIso(), level: 'error', target: null, message: 'stale line' },
      ]),
    ).toBe(false);
    expect(await runs.setLogState(run.id, 'paused', 99, 7)).toBe(false);
    await runs.setBlockedBy(run.id, 'device_lock: stale', { owner: 'paused' });
    expect(await runs.finish(run.id, 'paused', 'succeeded', { reason: null, output: { stale: true }, now: nowIso() })).toBe(false);

    const targets = await runs.targets(run.id);
    expect(targets.map((t) => [t.status, t.output, t.error, t.attempt])).toEqual([
      ['running', null, null, 2],
      ['pending', null, null, 0],
    ]);
    expect((await logs.read(run.id, 0, 100)).map((l) => l.message)).toEqual(['attempt 1', 'attempt 2']);
    const after = (await runs.find(run.id))!;
    expect([after.status, after.leaseOwner, after.logNextSeq, after.logDropped, after.output, after.blockedBy]).toEqual(['running', 'fresh', 1, 0, null, null]);

    // The new holder's writes go through, and the recoverer closes targets once the run ended.
    expect(await runs.updateTarget(run.id, 0, 'fresh', { status: 'succeeded', output: 'ok' })).toBe(true);
    expect(await runs.setLogState(run.id, 'fresh', 3, 0)).toBe(true);
    expect(await runs.finish(run.id, 'fresh', 'partially_failed', { reason: null, output: null, now: nowIso() })).toBe(true);
    await runs.closeOpenTargets(run.id, null, 'failed', 'never ran', nowIso());
    expect((await runs.targets(run.id)).map((t) => [t.status, t.error])).toEqual([
      ['succeeded', null],
      ['failed', 'never ran'],
    ]);
  });

  it('writes the target rows a run resolves at execution only for the lease holder, all or none', async () => {
    const runs = createRunsRepository(db().database.db);
    const run = newRun({ maxAttempts: 2 });
    await runs.insert([{ run, targets: [] }]);
    const identity = { deviceName: null, networkDriver: null, selector: null, credentialId: null, credentialProfileId: null, credentialSource: null };
    const rows = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ ...target(i), ...identity, host: `${prefix}${i}`, selector: 'tag:core' }));
    // Not running yet: nobody holds the lease.
    expect(await runs.insertTargets(run.id, 'paused', rows('queued', 1))).toBe(false);
    await runs.claim(run.id, { owner: 'paused', workerId: 'w1', until: at(60_000), now: nowIso() });
    expect(await runs.recover(run.id, 'paused', 'queued', { reason: 'worker lost', notBefore: null, now: at(120_000) })).toBe(true);
    await runs.claim(run.id, { owner: 'fresh', workerId: 'w2', until: new Date(Date.now() + 60_000).toISOString(), now: nowIso() });

    // The paused worker wakes with what it resolved before it lost the lease: nothing is written.
    expect(await runs.insertTargets(run.id, 'paused', rows('stale', 3))).toBe(false);
    expect(await runs.targets(run.id)).toEqual([]);
    // The holder's rows go through, past one insert batch (200 rows).
    expect(await runs.insertTargets(run.id, 'fresh', rows('new', 250))).toBe(true);
    const stored = await runs.targets(run.id);
    expect([stored.length, stored[0]!.host, stored[249]!.host, stored[0]!.selector]).toEqual([250, 'new0', 'new249', 'tag:core']);
  });
});

describe.each(DIALECTS)('job run batches on %s', (dialect) => {
  const db = useTestDatabase(dialect);

  it('stores a batch of runs with their targets, and ranks queued runs by priority then age', async () => {
    const runs = createRunsRepository(db().database.db);
    const target = (idx: number, host: string) => ({
      idx,
      host,
      deviceId: null,
      status: 'pending',
      attempt: 0,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      output: null,
      parsed: null,
      error: null,
    });
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
