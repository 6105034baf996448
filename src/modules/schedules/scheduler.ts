import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { AppError } from '../../platform/errors.js';
import { hasPermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { planFires, runKey, type MisfirePolicy } from './schedules.fns.js';
import { createSchedulesRepository, isUniqueViolation, type FireRow, type ScheduleRow } from './schedules.repository.js';
import type { Outcome } from './schedules.schemas.js';
import type { Clock, ScheduleRunner } from './schedule-runner.js';
import { timingOf } from './schedule-view.js';
import type { AuditPort } from './schedules.service.js';

/** Identity's slice: a user as they are now (null when deleted or disabled). */
export interface Owners {
  actorOf(kind: 'user', id: string): Promise<Actor | null>;
}

export interface SchedulerOptions {
  db: Db;
  runner: ScheduleRunner;
  clock: Clock;
  logger: Logger;
  /** Names this process in `schedule_fires.claimed_by`. */
  nodeId: string;
  /** A tick processed later than this after it was due is a misfire (downtime). */
  graceMs: number;
  /** Longest sleep between passes: how soon changes made on other nodes are seen. */
  pollMs: number;
  /** A claimed fire still without a run after this long is repaired by any node. */
  repairAfterMs?: number;
  batchSize?: number;
  /** Schedules claimed at once in a pass (keep below the database pool size). */
  concurrency?: number;
  /** Reported for every run created: how long after the tick was due it was enqueued. */
  onEnqueued?: (lagMs: number) => void;
  onFire?: (outcome: Outcome) => void;
  /** The schedule's owner as they are now; without it (tests of timing alone) runs act as the system. */
  owners?: Owners;
  audit?: AuditPort;
  /** Domain events: a misfire records `schedule.misfired` in the transaction that claims it. */
  events?: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Schedules owned by the system (made by it, or before owners were checked) act as the system, named for the schedule. */
function systemActorFor(s: Pick<ScheduleRow, 'id' | 'name' | 'teamId'>): Actor {
  return { ...SYSTEM_ACTOR, name: `schedule:${s.name}`.slice(0, 200), teamIds: s.teamId ? [s.teamId] : [] };
}

/** Errors of a scheduled run's creation that say the owner may not run it (rather than that the run is malformed). */
function isRefusal(err: AppError): boolean {
  return err.status === 403 || err.status === 404 || err.code === 'JOB_CREDENTIAL_NOT_FOUND';
}

/**
 * The scheduler loop. State lives in the database: each schedule's next tick (`next_due_at`,
 * indexed) drives one in-process timer that sleeps until the earliest due tick (or `pollMs`).
 * A due tick is claimed by advancing the schedule with a compare-and-set and inserting a
 * `schedule_fires` row under UNIQUE (schedule_id, trigger, fire_at), in one transaction: only
 * the node whose transaction commits creates the run, so any number of scheduler processes
 * fire each tick once. The run is created after commit with the idempotency key
 * `schedule:<id>:<fire_at>`; a fire left `pending` by a crash is re-enqueued with the same key.
 */
export function createScheduler(options: SchedulerOptions) {
  const { runner, clock, logger } = options;
  const repo = createSchedulesRepository(options.db);
  const uow = createUnitOfWork(
    options.db,
    (db) => ({ ...createSchedulesRepository(db), db }),
    (err) => logger.warn({ err }, 'schedule after-commit failed'),
  );
  const batch = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 4;
  const repairAfterMs = options.repairAfterMs ?? 5_000;
  const inFlight = new Set<string>();
  let running = false;
  let timer: unknown = null;
  let passing: Promise<void> | null = null;
  let again = false;

  /**
   * Who a fire acts for: the schedule's owner as they are now (current roles and teams). A
   * deleted or disabled owner, or one without `jobs:run`, refuses it.
   */
  async function ownerOf(s: ScheduleRow): Promise<Actor | string> {
    if (!options.owners || s.ownerId === SYSTEM_ACTOR.id) return systemActorFor(s);
    const owner = await options.owners.actorOf('user', s.ownerId);
    if (!owner) return `its owner (user ${s.ownerId}) no longer exists or is disabled`;
    if (!hasPermission(owner, 'jobs:run')) return `its owner ${owner.name} may no longer run jobs (jobs:run)`;
    return owner;
  }

  /**
   * The owner may no longer run the schedule: it is disabled with the reason shown on it, the fire
   * is recorded as refused, and the system audits the pause (naming the owner). Nothing runs.
   */
  async function pause(fire: FireRow, s: ScheduleRow, why: string): Promise<void> {
    const reason = `paused: ${why}`.slice(0, 1000);
    const paused = await uow(async (r) => {
      if (!(await r.settleFire(fire.id, ['pending'], { outcome: 'refused', reason }))) return false;
      await r.update(s.id, { enabled: false, nextFireAt: null, nextDueAt: null, pausedReason: reason });
      await options.audit?.record(r.db, {
        actor: SYSTEM_ACTOR,
        action: 'schedule.paused',
        resourceType: 'schedule',
        resourceId: s.id,
        outcome: 'success',
        changes: { owner_id: s.ownerId, reason, fire_id: fire.id },
      });
      return true;
    });
    if (!paused) return;
    options.onFire?.('refused');
    logger.warn({ scheduleId: s.id, fireId: fire.id, ownerId: s.ownerId }, 'schedule paused: its owner may no longer run it');
  }

  async function dispatch(fire: FireRow, s: ScheduleRow): Promise<void> {
    if (inFlight.has(fire.id)) return;
    inFlight.add(fire.id);
    let actor: Actor | null = null;
    try {
      const owner = await ownerOf(s);
      if (typeof owner === 'string') return await pause(fire, s, owner);
      actor = owner;
      const { runId } = await runner.runTemplate(owner, s.templateId, {
        overrides: s.overrides,
        scheduleId: s.id,
        idempotencyKey: runKey(s.id, fire.trigger === 'manual' ? 'manual' : 'schedule', fire.fireAt),
      });
      const now = clock.now();
      if (await repo.settleFire(fire.id, ['pending'], { outcome: 'enqueued', runId, enqueuedAt: iso(now) })) {
        options.onEnqueued?.(now - Date.parse(fire.dueAt));
        options.onFire?.('enqueued');
      }
    } catch (err) {
      if (actor && actor.kind !== 'system' && err instanceof AppError && isRefusal(err)) {
        await pause(fire, s, `the run was refused for its owner ${actor.name}: ${err.message}`);
      } else if (err instanceof AppError && err.status < 500) {
        // The run can never be created as things stand (template deleted, parameters invalid).
        await repo.settleFire(fire.id, ['pending'], { outcome: 'failed', reason: err.message.slice(0, 1000) });
        options.onFire?.('failed');
        logger.warn({ scheduleId: s.id, fireId: fire.id, code: err.code }, 'scheduled run refused');
      } else {
        // Left pending: a later pass (here or on another node) retries with the same key.
        logger.warn({ err, scheduleId: s.id, fireId: fire.id }, 'scheduled run not created yet');
      }
    } finally {
      inFlight.delete(fire.id);
    }
  }

  /** Claims every due tick of one schedule, then creates the runs it owns. */
  async function fireSchedule(s: ScheduleRow, now: number): Promise<void> {
    if (s.nextFireAt === null) return;
    const plan = planFires({
      scheduleId: s.id,
      timing: timingOf(s),
      jitterSeconds: s.jitterSeconds,
      misfire: s.misfire as MisfirePolicy,
      nextFireAt: Date.parse(s.nextFireAt),
      now,
      graceMs: options.graceMs,
    });
    const firstRun = plan.fires.find((f) => f.action === 'run');
    // Overlap is decided before the claim, so the claim writes the final outcome of each tick.
    const busy =
      s.overlap !== 'allow' && firstRun ? (await runner.activeRunsOfSchedule(s.id)) + (await repo.countOpenBefore(s.id, iso(firstRun.fireAt))) > 0 : false;
    let runsSoFar = 0;
    const rows: FireRow[] = plan.fires.map((f) => {
      let outcome: Outcome = 'missed';
      if (f.action === 'run') {
        const overlapping = busy || runsSoFar > 0;
        outcome = s.overlap === 'allow' || !overlapping ? 'pending' : s.overlap === 'skip' ? 'skipped_overlap' : 'waiting';
        runsSoFar += 1;
      }
      return {
        id: newId(),
        scheduleId: s.id,
        trigger: 'schedule',
        fireAt: iso(f.fireAt),
        dueAt: iso(f.dueAt),
        outcome,
        missedCount: f.missedCount,
        runId: null,
        reason: outcome === 'skipped_overlap' ? 'the previous run of this schedule is still active' : null,
        claimedBy: options.nodeId,
        claimedAt: iso(now),
        enqueuedAt: null,
      };
    });
    const lastFire = rows[rows.length - 1];
    let claimed: boolean;
    try {
      claimed = await uow(async (r) => {
        const advanced = await r.advance(s.id, s.nextFireAt!, {
          nextFireAt: plan.next ? iso(plan.next.fireAt) : null,
          nextDueAt: plan.next ? iso(plan.next.dueAt) : null,
          lastFireAt: lastFire?.fireAt ?? s.lastFireAt ?? s.nextFireAt!,
        });
        if (!advanced) return false;
        await r.insertFires(rows);
        // Ticks missed while no scheduler ran (a misfire episode, whatever the policy did about
        // it) are announced with the claim, so they raise an alert exactly when they are recorded.
        const misfire = rows.find((row) => row.missedCount > 0);
        if (misfire && options.events) {
          await options.events.record(r.db, 'schedule.misfired', {
            id: s.id,
            name: s.name,
            template_id: s.templateId,
            policy: s.misfire,
            missed_count: misfire.missedCount,
            fire_at: misfire.fireAt,
            outcome: misfire.outcome,
          });
        }
        return true;
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      claimed = false;
    }
    if (!claimed) return;
    if (options.events && rows.some((row) => row.missedCount > 0)) void options.events.relay().catch(() => undefined);
    for (const row of rows) if (row.outcome !== 'pending') options.onFire?.(row.outcome as Outcome);
    for (const row of rows) if (row.outcome === 'pending') await dispatch(row, s);
  }

  /** Repairs fires left pending by a crashed claimer and releases `queue` fires whose turn came. */
  async function settleOpen(now: number): Promise<void> {
    const open = await repo.openFires(batch);
    const seen = new Set<string>();
    for (const f of open) {
      const first = !seen.has(f.scheduleId);
      seen.add(f.scheduleId);
      if (f.outcome === 'pending') {
        if (inFlight.has(f.id) || now - Date.parse(f.claimedAt) < repairAfterMs) continue;
      } else if (!first || (await runner.activeRunsOfSchedule(f.scheduleId)) > 0) {
        continue;
      } else if (!(await repo.settleFire(f.id, ['waiting'], { outcome: 'pending' }))) {
        continue;
      }
      const s = await repo.find(f.scheduleId);
      if (s) await dispatch({ ...f, outcome: 'pending' }, s);
    }
  }

  /** One pass at the clock's current time: claim everything due, then settle open fires. */
  async function pass(): Promise<void> {
    const now = clock.now();
    for (;;) {
      const due = await repo.due(iso(now), batch);
      // Schedules are independent (each claim is its own compare-and-set), so a burst of due
      // ticks is claimed a few at a time instead of one round trip chain after another.
      let next = 0;
      const worker = async () => {
        while (next < due.length) {
          const s = due[next++]!;
          try {
            await fireSchedule(s, now);
          } catch (err) {
            logger.warn({ err, scheduleId: s.id }, 'schedule tick not claimed; retrying on the next pass');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
      if (due.length < batch) break;
    }
    await settleOpen(now);
  }

  async function nextWait(): Promise<number> {
    const earliest = await repo.earliestDue();
    if (earliest === null) return options.pollMs;
    return Math.min(options.pollMs, Math.max(0, Date.parse(earliest) - clock.now()));
  }

  function arm(ms: number): void {
    if (timer !== null) clock.clearTimer(timer);
    timer = clock.setTimer(() => {
      timer = null;
      loop();
    }, ms);
  }

  function loop(): void {
    if (!running || passing) return;
    passing = (async () => {
      let wait = options.pollMs;
      try {
        await pass();
        wait = await nextWait();
      } catch (err) {
        logger.warn({ err }, 'scheduler pass failed');
      }
      passing = null;
      if (running) arm(again ? 0 : wait);
      again = false;
    })();
  }

  return {
    pass,
    /** Starts the loop (scheduler role only). */
    start(): void {
      if (running) return;
      running = true;
      logger.info({ nodeId: options.nodeId }, 'scheduler started');
      arm(0);
    },
    /** A schedule changed here: look again now instead of at the next poll. */
    wake(): void {
      if (!running) return;
      if (passing) again = true;
      else arm(0);
    },
    /** Stops the loop and waits for the pass in progress; call before the database closes. */
    async stop(): Promise<void> {
      running = false;
      if (timer !== null) clock.clearTimer(timer);
      timer = null;
      await passing;
    },
    /** Creates the run of a fire claimed outside the loop (manual trigger). */
    dispatch,
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
