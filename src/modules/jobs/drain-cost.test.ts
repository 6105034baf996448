import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, useTestDatabase } from '../../../test/helpers/db.js';
import { statementCounter } from '../../../test/helpers/statements.js';
import { createMemoryBus } from '../../platform/bus/index.js';
import { newId, nowIso } from '../../platform/ids.js';
import { createLogger } from '../../platform/observability/logger.js';
import { noopExecutor } from './executors/noop.js';
import type { Executor, ExecutorSettings } from './executors/executor.js';
import { createRunEngine } from './jobs.engine.js';
import { createLocksRepository } from './locks.repository.js';
import { createLogsRepository } from './logs.repository.js';
import { createRunsRepository, type NewRun } from './runs.repository.js';

/**
 * What a worker's run costs the database (README "Worker drain"): statements counted at the
 * driver while the engine takes one queued no-op run on one target to `succeeded`, with nothing
 * else running on the database; and the device-slot upsert that replaced delete-then-insert.
 */
const counter = statementCounter();
afterAll(() => counter.restore());

function queuedRun(host: string): {
  run: NewRun;
  targets: {
    idx: number;
    host: string;
    deviceId: null;
    status: string;
    attempt: number;
    startedAt: null;
    finishedAt: null;
    durationMs: null;
    output: null;
    parsed: null;
    error: null;
  }[];
} {
  const now = nowIso();
  const id = newId();
  return {
    run: {
      id,
      type: 'noop',
      status: 'queued',
      params: {},
      targets: [host],
      credentialId: null,
      templateId: null,
      teamId: null,
      retryOf: null,
      priority: 5,
      timeoutMs: 30_000,
      targetTimeoutMs: 30_000,
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
      initiatorKind: null,
      initiatorId: null,
      initiatorUserId: null,
    },
    targets: [
      {
        idx: 0,
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
      },
    ],
  };
}

describe.each(DIALECTS)('worker drain cost on %s', (dialect) => {
  const tdb = useTestDatabase(dialect);
  const db = () => tdb().database.db;

  it('takes a no-op run from queued to succeeded in 13 statements besides its log batches, its log and log state complete', async () => {
    const runs = createRunsRepository(db());
    const logs = createLogsRepository(db());
    const engine = createRunEngine({
      db: db(),
      runs,
      logs,
      locks: createLocksRepository(db()),
      bus: createMemoryBus(),
      dispatch: Object.assign(async () => undefined, { many: async () => undefined }) as never,
      credentials: { resolve: () => Promise.reject(new Error('no credentials here')), exists: async () => false } as never,
      executors: new Map([['noop', noopExecutor as Executor]]),
      settings: {} as ExecutorSettings,
      limits: { concurrency: 1, perType: {}, leaseMs: 60_000, logLinesMax: 1000, deviceSessions: 1 },
      workerId: 'w1',
      logger: createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    });
    const queued = [queuedRun('warm.example'), queuedRun('a.example')];
    await runs.insert(queued);
    await engine.handle(queued[0]!.run.id); // warm-up: first statements prepare
    const { n, sql } = await counter.count(() => engine.handle(queued[1]!.run.id));
    const run = await runs.find(queued[1]!.run.id);
    expect(run?.status).toBe('succeeded');
    // Log lines are batched by timing (whatever accumulated while the last batch was written): each
    // batch is one statement on PostgreSQL, four on SQLite (begin, fence, insert, commit).
    const logBatches = sql.filter((q) => q.includes('job_logs')).length;
    const withoutLog = n - logBatches * (dialect === 'postgres' ? 1 : 4);
    // Before: 15 on SQLite, 18 on PostgreSQL (targets read three times, the log state its own write, max(seq) read on a first
    // attempt, delete-then-insert for the device slot, a run-wide lock release after every lane released).
    expect(withoutLog, sql.join('\n')).toBeLessThanOrEqual(13);
    const lines = await logs.read(run!.id, 0, 100);
    expect(logBatches).toBeLessThanOrEqual(lines.length);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(run!.logNextSeq).toBe(lines.length + 1);
  });

  it('takes a free or expired device slot in one statement, never a live one', async () => {
    const locks = createLocksRepository(db());
    const runs = createRunsRepository(db());
    const [a, b, c] = [queuedRun('x'), queuedRun('y'), queuedRun('z')];
    await runs.insert([a, b, c]);
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const take = (runId: string, expiresMs: number, nowMs = 0) => locks.tryAcquire('dev:1', 1, { runId, targetIdx: 0 }, at(expiresMs), at(nowMs));
    const first = await counter.count(() => take(a.run.id, 60_000));
    expect(first.n).toBe(1);
    expect(await take(b.run.id, 60_000)).toEqual({ ok: false, heldBy: a.run.id });
    // Later, past a's expiry: b takes the slot over in place.
    expect(await take(b.run.id, 200_000, 120_000)).toEqual({ ok: true });
    expect(await take(c.run.id, 200_000, 120_000)).toEqual({ ok: false, heldBy: b.run.id });
    expect(await locks.allHeld(['dev:1'], 1, at(120_000))).toBe(b.run.id);
  });
});
