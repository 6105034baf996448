import { createHash } from 'node:crypto';
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { Duration, IANAZone } from 'luxon';
import type { FieldError } from '../../platform/errors.js';

/**
 * Pure schedule timing: which ticks a schedule has, when each is due (tick + jitter), and what
 * to do with the ticks found due after a pause (misfire). No I/O, no clock: callers pass times
 * as epoch milliseconds. DST behaviour is cron-parser's, which matches what cron users expect
 * (checked in schedules.fns.test.ts): a local time skipped by spring-forward runs once at the
 * first valid instant after the gap; a local time repeated by fall-back runs once, on its
 * first occurrence.
 */
export type ScheduleKind = 'cron' | 'interval' | 'once';
export type MisfirePolicy = 'skip' | 'run_once';

export interface Timing {
  kind: ScheduleKind;
  cron: string | null;
  timezone: string;
  intervalSeconds: number | null;
  /** epoch ms */
  anchorAt: number | null;
  at: number | null;
  startAt: number | null;
  endAt: number | null;
}

export const MAX_INTERVAL_SECONDS = 366 * 24 * 3600;

export function isValidTimezone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/** Parses a 5-field (minute first) or 6-field (second first) expression, or a named error for `path`. */
export function parseCron(expression: string, timezone: string, path = 'body.cron'): { cron: CronExpression } | { error: FieldError } {
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/);
  if (!trimmed.startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    return {
      error: {
        path,
        message: `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got ${trimmed === '' ? 0 : fields.length}`,
      },
    };
  }
  try {
    const cron = CronExpressionParser.parse(trimmed, { tz: timezone, currentDate: new Date(0) });
    // An expression that parses but can never match (e.g. 30 February) fails here.
    cron.next();
    return { cron };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { error: { path, message: `invalid cron expression: ${reason.slice(0, 300)}` } };
  }
}

/** `PT15M`, `P1D`, `PT1H30M` → seconds. Years and months have no fixed length: use cron for those. */
export function parseIsoInterval(text: string, path = 'body.interval'): { seconds: number } | { error: FieldError } {
  const d = Duration.fromISO(text);
  if (!d.isValid) return { error: { path, message: `'${text.slice(0, 64)}' is not an ISO 8601 duration like PT15M or P1D` } };
  if (d.years !== 0 || d.months !== 0) return { error: { path, message: 'years and months have no fixed length; use a cron schedule' } };
  const ms = d.as('milliseconds');
  if (!Number.isInteger(ms / 1000) || ms < 1000 || ms / 1000 > MAX_INTERVAL_SECONDS) {
    return { error: { path, message: `must be a whole number of seconds from 1 to ${MAX_INTERVAL_SECONDS}` } };
  }
  return { seconds: ms / 1000 };
}

/** Seconds → the shortest ISO 8601 duration (`PT90S` → `PT1M30S`), for responses. */
export function isoInterval(seconds: number): string {
  const d = Duration.fromObject({ seconds }).shiftTo('days', 'hours', 'minutes', 'seconds');
  const parts = [d.days ? `${d.days}D` : ''];
  const time = [d.hours ? `${d.hours}H` : '', d.minutes ? `${d.minutes}M` : '', d.seconds ? `${d.seconds}S` : ''].join('');
  return `P${parts.join('')}${time ? `T${time}` : ''}`;
}

function cronAfter(timing: Timing, afterMs: number): number | null {
  const cron = CronExpressionParser.parse(timing.cron ?? '', { tz: timing.timezone, currentDate: new Date(afterMs) });
  try {
    return cron.next().getTime();
  } catch {
    return null;
  }
}

/** The first tick strictly after `afterMs` inside the start/end window, or null when there is none. */
export function nextTick(timing: Timing, afterMs: number): number | null {
  const from = timing.startAt !== null ? Math.max(afterMs, timing.startAt - 1) : afterMs;
  let tick: number | null;
  switch (timing.kind) {
    case 'once':
      tick = timing.at !== null && timing.at > from ? timing.at : null;
      break;
    case 'interval': {
      const step = (timing.intervalSeconds ?? 0) * 1000;
      const anchor = timing.anchorAt ?? 0;
      if (step <= 0) return null;
      const k = from < anchor ? 0 : Math.floor((from - anchor) / step) + 1;
      tick = anchor + k * step;
      break;
    }
    case 'cron':
      tick = cronAfter(timing, from);
      break;
  }
  if (tick === null || (timing.endAt !== null && tick > timing.endAt)) return null;
  return tick;
}

/** The next `count` ticks after `afterMs`. */
export function upcomingTicks(timing: Timing, afterMs: number, count: number): number[] {
  const out: number[] = [];
  let t = nextTick(timing, afterMs);
  while (t !== null && out.length < count) {
    out.push(t);
    t = nextTick(timing, t);
  }
  return out;
}

/**
 * A deterministic offset in [0, jitterSeconds) for one tick: every node computes the same due
 * time for the same tick, so a repair on another node agrees with the original claimer.
 */
export function jitterMs(scheduleId: string, fireAt: number, jitterSeconds: number): number {
  if (jitterSeconds <= 0) return 0;
  const h = createHash('sha256').update(`${scheduleId}:${fireAt}`).digest();
  return Math.floor((h.readUInt32BE(0) / 0x1_0000_0000) * jitterSeconds * 1000);
}

export interface PlannedFire {
  fireAt: number;
  dueAt: number;
  /** `run`: enqueue a run (subject to overlap); `missed`: recorded only (misfire skip). */
  action: 'run' | 'missed';
  /** Ticks this fire stands for beyond itself (a misfire episode), 0 for an on-time tick. */
  missedCount: number;
}

export interface FirePlan {
  fires: PlannedFire[];
  next: { fireAt: number; dueAt: number } | null;
}

export interface PlanInput {
  scheduleId: string;
  timing: Timing;
  jitterSeconds: number;
  misfire: MisfirePolicy;
  /** The schedule's stored next tick (nominal). */
  nextFireAt: number;
  now: number;
  /** A tick processed later than this after it was due counts as missed (downtime). */
  graceMs: number;
  /** At most this many ticks are walked; beyond it, older missed ticks are counted approximately. */
  cap?: number;
}

/**
 * What to do with a due schedule: every tick due by `now` is either fired (on time: within the
 * grace period) or missed. Missed ticks collapse into one recorded fire: with `run_once` it
 * runs (one catch-up run), with `skip` it is recorded as missed and runs nothing.
 */
export function planFires(input: PlanInput): FirePlan {
  const cap = input.cap ?? 1000;
  const due = (t: number) => t + jitterMs(input.scheduleId, t, input.jitterSeconds);
  const ticks: number[] = [];
  let t: number | null = input.nextFireAt;
  let overflow = 0;
  while (t !== null && due(t) <= input.now) {
    if (ticks.length === cap) {
      // A long outage: skip the walk to the present. Ticks dropped here are counted as one.
      overflow = 1;
      t = nextTick(input.timing, input.now);
      break;
    }
    ticks.push(t);
    t = nextTick(input.timing, t);
  }
  const late = (x: number) => input.now - due(x) > input.graceMs;
  const missed = ticks.filter(late);
  const onTime = ticks.filter((x) => !late(x));
  const fires: PlannedFire[] = [];
  const lastMissed = missed[missed.length - 1];
  if (lastMissed !== undefined) {
    fires.push({
      fireAt: lastMissed,
      dueAt: due(lastMissed),
      action: input.misfire === 'run_once' ? 'run' : 'missed',
      missedCount: missed.length + overflow,
    });
  }
  for (const x of onTime) fires.push({ fireAt: x, dueAt: due(x), action: 'run', missedCount: 0 });
  return { fires, next: t === null ? null : { fireAt: t, dueAt: due(t) } };
}

/** The idempotency key of the run a tick creates: the same on every node and after a restart. */
export function runKey(scheduleId: string, trigger: 'schedule' | 'manual', fireAt: string): string {
  return `schedule:${scheduleId}:${trigger === 'manual' ? 'manual:' : ''}${fireAt}`;
}
