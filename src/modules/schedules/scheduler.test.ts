import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { DIALECTS, useTestDatabase } from '../../../test/helpers/db.js';
import { LogCapture } from '../../../test/helpers/server.js';
import { createDatabase, type Database } from '../../platform/db/database.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import { createLogger } from '../../platform/observability/logger.js';
import { createSchedulesModule, type Clock } from './index.js';
import { createRunnerDouble, type RunnerDouble } from '../../../test/helpers/schedule-runner-double.js';
import type { CreateScheduleBody } from './schedules.schemas.js';
import type { SchedulesTables } from './schedules.tables.js';

const actor = SYSTEM_ACTOR;
const t = (s: string) => Date.parse(s);

/** Time moves only when a test says so; timers never fire on their own (tests call pass()). */
function fakeClock(start: string): Clock & { set(iso: string | number): void; advance(ms: number): void } {
  let now = t(start);
  return {
    now: () => now,
    setTimer: () => null,
    clearTimer: () => undefined,
    set: (v) => {
      now = typeof v === 'number' ? v : t(v);
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

describe.each(DIALECTS)('scheduler on %s', (dialect) => {
  const getDb = useTestDatabase(dialect);
  const logs = new LogCapture();
  const logger = createLogger({ level: 'warn', destination: logs });
  let runner: RunnerDouble;
  let second: Database;

  beforeAll(() => {
    runner = createRunnerDouble(getDb().database.db);
    const tdb = getDb();
    // NOTE: a second better-sqlite3 connection in the same thread would busy-wait on the first's
    // write lock while blocking it; SQLite nodes share one connection (Kysely serialises them).
    second = dialect === 'postgres' ? createDatabase({ dialect, url: tdb.url!, poolSize: 5 }) : tdb.database;
  });
  afterAll(async () => {
    if (dialect === 'postgres') await second.destroy();
  });
  // Each test sees only its own schedule: a pass claims every due schedule in the database.
  beforeEach(async () => {
    await getDb().database.db.withTables<SchedulesTables>().deleteFrom('schedules').execute();
  });

  /** Domain events the nodes record (a double of the events module's outbox). */
  const recorded: { name: string; payload: Record<string, unknown> }[] = [];
  const events = {
    record: async (_db: unknown, name: string, payload: unknown) => void recorded.push({ name, payload: payload as Record<string, unknown> }),
    relay: async () => undefined,
  };
  const misfires = (scheduleId: string) => recorded.filter((e) => e.name === 'schedule.misfired' && e.payload.id === scheduleId).map((e) => e.payload);

  /** A scheduler node over its own connection pool: several of them race like separate processes. */
  function node(clock: Clock, name: string, db = getDb().database.db, nodeRunner: RunnerDouble = runner) {
    return createSchedulesModule({ db, logger, runner: nodeRunner, clock, misfireGraceSeconds: 30, pollMs: 1000, nodeId: name, events });
  }

  async function setup(start: string, body: Partial<CreateScheduleBody>) {
    const clock = fakeClock(start);
    const a = node(clock, 'node-a');
    const templateId = await runner.createTemplate();
    const schedule = await a.service.create(actor, {
      name: `s-${Math.random()}`,
      template_id: templateId,
      kind: 'interval',
      interval_seconds: 60,
      ...body,
    } as CreateScheduleBody);
    const fires = async () => (await a.service.history(actor, schedule.id, { limit: 1000, sort: 'fire_at' })).items;
    return { clock, a, schedule, templateId, fires, runs: () => runner.runsOf(schedule.id) };
  }

  it('fires an interval schedule once per tick, with trigger schedule and a per-tick idempotency key', async () => {
    const { clock, a, schedule, fires, runs } = await setup('2026-05-01T10:00:00Z', { anchor_at: '2026-05-01T10:00:00Z', overlap: 'allow' });
    expect(schedule.next_fire_at).toBe('2026-05-01T10:01:00.000Z');
    await a.scheduler.pass();
    expect(await fires()).toHaveLength(0);
    for (let i = 1; i <= 3; i += 1) {
      clock.set(`2026-05-01T10:0${i}:00.050Z`);
      await a.scheduler.pass();
      await a.scheduler.pass(); // a second look at the same time changes nothing
    }
    const f = await fires();
    expect(f.map((x) => [x.fire_at, x.outcome, x.trigger])).toEqual([
      ['2026-05-01T10:01:00.000Z', 'enqueued', 'schedule'],
      ['2026-05-01T10:02:00.000Z', 'enqueued', 'schedule'],
      ['2026-05-01T10:03:00.000Z', 'enqueued', 'schedule'],
    ]);
    const r = await runs();
    expect(r).toHaveLength(3);
    expect(r.map((x) => x.idempotencyKey)).toEqual(f.map((x) => `schedule:${schedule.id}:${x.fire_at}`));
    expect(r.every((x) => x.triggerKind === 'schedule')).toBe(true);
    expect(f.map((x) => x.run_id)).toEqual(r.map((x) => x.id));
    expect(f[0]!.run_status).toBe('queued');
    expect((await a.service.get(actor, schedule.id)).next_fire_at).toBe('2026-05-01T10:04:00.000Z');
  });

  it('three nodes racing on the same ticks create exactly one fire and one run per tick', async () => {
    const { clock, schedule, fires, runs } = await setup('2026-05-02T10:00:00Z', { anchor_at: '2026-05-02T10:00:00Z', interval_seconds: 1, overlap: 'allow' });
    const nodes = [node(clock, 'n1'), node(clock, 'n2', second.db), node(clock, 'n3', second.db)];
    for (let i = 1; i <= 20; i += 1) {
      clock.set(t('2026-05-02T10:00:00Z') + i * 1000 + 10);
      await Promise.all(nodes.map((n) => n.scheduler.pass()));
    }
    const f = await fires();
    expect(f).toHaveLength(20);
    expect(new Set(f.map((x) => x.fire_at)).size).toBe(20);
    expect(f.every((x) => x.outcome === 'enqueued')).toBe(true);
    expect(await runs()).toHaveLength(20);
    expect(schedule.id).toBeTruthy();
  });

  it('overlap skip: a tick while the previous run is active is recorded as skipped and runs nothing', async () => {
    const { clock, a, fires, runs } = await setup('2026-05-03T10:00:00Z', { anchor_at: '2026-05-03T10:00:00Z', overlap: 'skip' });
    clock.set('2026-05-03T10:01:00Z');
    await a.scheduler.pass();
    clock.set('2026-05-03T10:02:00Z');
    await a.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['enqueued', 'skipped_overlap']);
    await runner.finish((await runs())[0]!.id);
    clock.set('2026-05-03T10:03:00Z');
    await a.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['enqueued', 'skipped_overlap', 'enqueued']);
    expect(await runs()).toHaveLength(2);
    expect((await fires())[0]!.run_status).toBe('succeeded');
  });

  it('overlap queue: a tick while the previous run is active waits, then runs when it ends', async () => {
    const { clock, a, fires, runs } = await setup('2026-05-04T10:00:00Z', { anchor_at: '2026-05-04T10:00:00Z', overlap: 'queue' });
    clock.set('2026-05-04T10:01:00Z');
    await a.scheduler.pass();
    clock.set('2026-05-04T10:02:00Z');
    await a.scheduler.pass();
    clock.set('2026-05-04T10:02:30Z');
    await a.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['enqueued', 'waiting']);
    expect(await runs()).toHaveLength(1);
    await runner.finish((await runs())[0]!.id);
    await a.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['enqueued', 'enqueued']);
    expect(await runs()).toHaveLength(2);
  });

  it('overlap allow: ticks run even while earlier runs are active', async () => {
    const { clock, a, runs } = await setup('2026-05-05T10:00:00Z', { anchor_at: '2026-05-05T10:00:00Z', overlap: 'allow' });
    for (const m of ['01', '02', '03']) {
      clock.set(`2026-05-05T10:${m}:00Z`);
      await a.scheduler.pass();
    }
    const r = await runs();
    expect(r).toHaveLength(3);
    expect(r.every((x) => x.status === 'queued')).toBe(true);
  });

  it('misfire skip: ticks missed during downtime are recorded once and run nothing', async () => {
    const { clock, a, schedule, fires, runs } = await setup('2026-05-06T10:00:00Z', { anchor_at: '2026-05-06T10:00:00Z', misfire: 'skip', overlap: 'allow' });
    clock.set('2026-05-06T10:10:40Z'); // 10 minutes without a scheduler; grace is 30 s
    await a.scheduler.pass();
    const f = await fires();
    expect(f.map((x) => [x.fire_at, x.outcome, x.missed_count])).toEqual([['2026-05-06T10:10:00.000Z', 'missed', 10]]);
    expect(await runs()).toHaveLength(0);
    // The misfire is announced (the alerts module raises an alert from it), once.
    expect(misfires(schedule.id)).toEqual([
      {
        id: schedule.id,
        name: schedule.name,
        template_id: schedule.template_id,
        policy: 'skip',
        missed_count: 10,
        fire_at: '2026-05-06T10:10:00.000Z',
        outcome: 'missed',
      },
    ]);
    clock.set('2026-05-06T10:11:00Z');
    await a.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['missed', 'enqueued']);
    expect(misfires(schedule.id)).toHaveLength(1);
  });

  it('misfire run_once: missed ticks are caught up with a single run', async () => {
    const { clock, a, schedule, fires, runs } = await setup('2026-05-07T10:00:00Z', {
      anchor_at: '2026-05-07T10:00:00Z',
      misfire: 'run_once',
      overlap: 'allow',
    });
    clock.set('2026-05-07T12:00:45Z');
    await a.scheduler.pass();
    const f = await fires();
    expect(f.map((x) => [x.fire_at, x.outcome, x.missed_count])).toEqual([['2026-05-07T12:00:00.000Z', 'enqueued', 120]]);
    expect(await runs()).toHaveLength(1);
    expect(misfires(schedule.id)).toMatchObject([{ policy: 'run_once', missed_count: 120, outcome: 'pending' }]);
  });

  it('restart: a node that stops and restarts within the grace period loses and doubles no tick', async () => {
    const { clock, a, fires, runs } = await setup('2026-05-08T10:00:00Z', { anchor_at: '2026-05-08T10:00:00Z', interval_seconds: 5, overlap: 'allow' });
    clock.set('2026-05-08T10:00:10Z');
    await a.scheduler.pass(); // ticks :05 and :10
    await a.scheduler.stop();
    clock.set('2026-05-08T10:00:27Z'); // down for 17 s: ticks :15 :20 :25 due meanwhile
    const restarted = node(clock, 'node-a-restarted', second.db);
    await restarted.scheduler.pass();
    clock.set('2026-05-08T10:00:30Z');
    await restarted.scheduler.pass();
    const f = await fires();
    expect(f.map((x) => x.fire_at.slice(17, 19))).toEqual(['05', '10', '15', '20', '25', '30']);
    expect(f.every((x) => x.outcome === 'enqueued' && x.missed_count === 0)).toBe(true);
    expect(await runs()).toHaveLength(6);
  });

  it('a crash between claim and enqueue is repaired with the same key: one run, never two', async () => {
    const { clock, a, schedule, fires, runs } = await setup('2026-05-09T10:00:00Z', { anchor_at: '2026-05-09T10:00:00Z', overlap: 'allow' });
    runner.crash(schedule.id, 'before');
    clock.set('2026-05-09T10:01:00Z');
    await a.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['pending']);
    expect(await runs()).toHaveLength(0);
    // another node does not touch a fresh claim (its owner may still be working on it)…
    const b = node(clock, 'node-b', second.db);
    await b.scheduler.pass();
    expect(await runs()).toHaveLength(0);
    // …but repairs it once the claim is old
    clock.set('2026-05-09T10:01:10Z');
    await b.scheduler.pass();
    expect((await fires()).map((x) => x.outcome)).toEqual(['enqueued']);
    expect(await runs()).toHaveLength(1);

    // the run was created but the answer lost: the repair finds the same run by its key
    runner.crash(schedule.id, 'after');
    clock.set('2026-05-09T10:02:00Z');
    await a.scheduler.pass();
    expect(await runs()).toHaveLength(2);
    clock.set('2026-05-09T10:02:10Z');
    await b.scheduler.pass();
    const f = await fires();
    expect(f.map((x) => x.outcome)).toEqual(['enqueued', 'enqueued']);
    expect(await runs()).toHaveLength(2);
    expect(new Set(f.map((x) => x.run_id)).size).toBe(2);
  });

  it('a once schedule fires once and then has no next tick', async () => {
    const { clock, a, schedule, fires, runs } = await setup('2026-05-10T10:00:00Z', { kind: 'once', interval_seconds: undefined, at: '2026-05-10T11:00:00Z' });
    expect(schedule.next_fire_at).toBe('2026-05-10T11:00:00.000Z');
    clock.set('2026-05-10T11:00:00.100Z');
    await a.scheduler.pass();
    clock.set('2026-05-11T11:00:00Z');
    await a.scheduler.pass();
    expect(await fires()).toHaveLength(1);
    expect(await runs()).toHaveLength(1);
    expect((await a.service.get(actor, schedule.id)).next_fire_at).toBeNull();
  });

  it('DST: a 02:30 Europe/Berlin cron job walked through spring-forward and fall-back days fires once each day', async () => {
    const { clock, a, fires } = await setup('2026-03-28T12:00:00Z', {
      kind: 'cron',
      interval_seconds: undefined,
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      overlap: 'allow',
    });
    const walk = async (from: string, to: string) => {
      for (let now = t(from); now <= t(to); now += 10 * 60_000) {
        clock.set(now);
        await a.scheduler.pass();
      }
    };
    await walk('2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z');
    let local = (await fires()).map((f) => DateTime.fromISO(f.fire_at, { zone: 'Europe/Berlin' }).toFormat('MM-dd HH:mm'));
    expect(local).toEqual(['03-29 03:30', '03-30 02:30']);
    // jump to October (disable/enable so the months between are not a misfire episode)
    await a.service.setEnabled(actor, (await fires())[0]!.schedule_id, false);
    clock.set('2026-10-24T12:00:00Z');
    await a.service.setEnabled(actor, (await fires())[0]!.schedule_id, true);
    await walk('2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z');
    local = (await fires()).slice(2).map((f) => DateTime.fromISO(f.fire_at, { zone: 'Europe/Berlin' }).toFormat('MM-dd HH:mm ZZ'));
    expect(local).toEqual(['10-25 02:30 +02:00', '10-26 02:30 +01:00']);
    expect((await fires()).every((f) => f.outcome === 'enqueued' && f.missed_count === 0)).toBe(true);
  });

  it('jitter delays each tick by a stable amount within the bound, never before it is due', async () => {
    const { clock, a, schedule, fires } = await setup('2026-05-12T10:00:00Z', {
      anchor_at: '2026-05-12T10:00:00Z',
      interval_seconds: 600,
      jitter_seconds: 300,
    });
    const preview = await a.service.preview(actor, schedule.id, 5);
    const offsets = preview.items.map((p) => t(p.due_at) - t(p.fire_at));
    expect(offsets.every((o) => o >= 0 && o < 300_000)).toBe(true);
    const first = preview.items[0]!;
    clock.set(t(first.due_at) - 1);
    await a.scheduler.pass();
    expect(await fires()).toHaveLength(0);
    clock.set(t(first.due_at));
    await a.scheduler.pass();
    expect((await fires()).map((f) => [f.fire_at, f.due_at])).toEqual([[first.fire_at, first.due_at]]);
  });

  it('a tick whose template was deleted is recorded as failed with the reason, once', async () => {
    const { clock, a, templateId, fires } = await setup('2026-05-13T10:00:00Z', { anchor_at: '2026-05-13T10:00:00Z' });
    await runner.deleteTemplate(templateId);
    clock.set('2026-05-13T10:01:00Z');
    await a.scheduler.pass();
    clock.set('2026-05-13T10:01:30Z');
    await a.scheduler.pass();
    const f = await fires();
    expect(f.map((x) => x.outcome)).toEqual(['failed']);
    expect(f[0]!.reason).toMatch(/does not exist/);
  });

  it('a disabled schedule does not fire, and re-enabling does not replay the ticks it was off for', async () => {
    const { clock, a, schedule, fires } = await setup('2026-05-14T10:00:00Z', { anchor_at: '2026-05-14T10:00:00Z' });
    const off = await a.service.setEnabled(actor, schedule.id, false);
    expect(off.next_fire_at).toBeNull();
    clock.set('2026-05-14T10:05:10Z');
    await a.scheduler.pass();
    const on = await a.service.setEnabled(actor, schedule.id, true);
    expect(on.next_fire_at).toBe('2026-05-14T10:06:00.000Z');
    await a.scheduler.pass();
    expect(await fires()).toHaveLength(0);
  });

  it('the real timer loop fires on its own and stops cleanly', async () => {
    const clock: Clock = { now: () => Date.now(), setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) };
    const m = node(clock, 'timer-node');
    const templateId = await runner.createTemplate();
    const s = await m.service.create(actor, {
      name: `timer-${Math.random()}`,
      template_id: templateId,
      kind: 'interval',
      interval_seconds: 1,
      overlap: 'allow',
    });
    m.scheduler.start();
    await expect.poll(async () => (await runner.runsOf(s.id)).length, { timeout: 10_000, interval: 100 }).toBeGreaterThanOrEqual(2);
    await m.scheduler.stop();
    const after = (await runner.runsOf(s.id)).length;
    const f = (await m.service.history(actor, s.id, { limit: 100 })).items;
    expect(f).toHaveLength(after);
    expect(new Set(f.map((x) => x.fire_at)).size).toBe(after);
  });
});
