import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { isoInterval, jitterMs, nextTick, parseCron, parseIsoInterval, planFires, upcomingTicks, type Timing } from './schedules.fns.js';

const t = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const cron = (expr: string, timezone = 'UTC', extra: Partial<Timing> = {}): Timing => ({
  kind: 'cron',
  cron: expr,
  timezone,
  intervalSeconds: null,
  anchorAt: null,
  at: null,
  startAt: null,
  endAt: null,
  ...extra,
});
const interval = (seconds: number, anchor: string, extra: Partial<Timing> = {}): Timing => ({
  ...cron(''),
  kind: 'interval',
  cron: null,
  intervalSeconds: seconds,
  anchorAt: t(anchor),
  ...extra,
});
const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZZ');

describe('DST: a 02:30 daily job in Europe/Berlin', () => {
  const berlin = cron('30 2 * * *', 'Europe/Berlin');

  it('runs exactly once on spring-forward day (02:00–03:00 does not exist), right after the gap', () => {
    const ticks = upcomingTicks(berlin, t('2026-03-28T12:00:00Z'), 3);
    const onDay = ticks.filter((x) => local(x, 'Europe/Berlin').startsWith('2026-03-29'));
    expect(onDay).toHaveLength(1);
    expect(local(onDay[0]!, 'Europe/Berlin')).toBe('2026-03-29 03:30:00 +0200');
    // the days around it keep their 02:30
    expect(ticks.map((x) => local(x, 'Europe/Berlin'))).toEqual(['2026-03-29 03:30:00 +0200', '2026-03-30 02:30:00 +0200', '2026-03-31 02:30:00 +0200']);
  });

  it('runs exactly once on fall-back day (02:00–03:00 happens twice), on the first 02:30', () => {
    const ticks = upcomingTicks(berlin, t('2026-10-24T12:00:00Z'), 3);
    const onDay = ticks.filter((x) => local(x, 'Europe/Berlin').startsWith('2026-10-25'));
    expect(onDay).toHaveLength(1);
    expect(iso(onDay[0]!)).toBe('2026-10-25T00:30:00.000Z');
    expect(local(ticks[1]!, 'Europe/Berlin')).toBe('2026-10-26 02:30:00 +0100');
  });

  it('the same with a 6-field expression (seconds first)', () => {
    const ticks = upcomingTicks(cron('0 30 2 * * *', 'Europe/Berlin'), t('2026-03-28T12:00:00Z'), 2);
    expect(ticks.map(iso)).toEqual(['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('an hourly job fires every real hour across fall-back (25 ticks that day) and spring-forward (23)', () => {
    const hourly = cron('0 * * * *', 'Europe/Berlin');
    const count = (from: string, to: string) => upcomingTicks(hourly, t(from) - 1, 30).filter((x) => x < t(to)).length;
    expect(count('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z')).toBe(25);
    expect(count('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z')).toBe(23);
  });

  it('UTC needs no special case and New York has its own transition dates', () => {
    expect(upcomingTicks(cron('30 2 * * *'), t('2026-03-29T00:00:00Z'), 1).map(iso)).toEqual(['2026-03-29T02:30:00.000Z']);
    const ny = upcomingTicks(cron('30 2 * * *', 'America/New_York'), t('2026-03-07T12:00:00Z'), 3).map((x) => local(x, 'America/New_York'));
    expect(ny).toEqual(['2026-03-08 03:30:00 -0400', '2026-03-09 02:30:00 -0400', '2026-03-10 02:30:00 -0400']);
  });
});

describe('cron validation', () => {
  it.each([
    ['* * * *', /expected 5 fields .* got 4/],
    ['* * * * * * *', /got 7/],
    ['', /got 0/],
    ['61 * * * *', /invalid cron expression: .*61/],
    ['a b c d e', /invalid cron expression/],
    ['0 0 30 2 *', /invalid cron expression/],
  ])('%j is refused with a message naming body.cron', (expr, message) => {
    const r = parseCron(expr, 'UTC');
    expect('error' in r).toBe(true);
    if ('error' in r) {
      expect(r.error.path).toBe('body.cron');
      expect(r.error.message).toMatch(message);
    }
  });

  it.each(['*/5 * * * *', '0 9 * * 1-5', '15 3 1 */2 *', '*/10 * * * * *', '@daily'])('%j is accepted', (expr) => {
    expect('cron' in parseCron(expr, 'Europe/Berlin')).toBe(true);
  });
});

describe('interval and once ticks', () => {
  it('interval ticks fall on anchor + k × interval, strictly after the given time', () => {
    const every = interval(3600, '2026-01-01T00:15:00Z');
    expect(iso(nextTick(every, t('2026-05-05T10:00:00Z'))!)).toBe('2026-05-05T10:15:00.000Z');
    expect(iso(nextTick(every, t('2026-05-05T10:15:00Z'))!)).toBe('2026-05-05T11:15:00.000Z');
    // an anchor in the future is the first tick
    expect(iso(nextTick(every, t('2025-12-01T00:00:00Z'))!)).toBe('2026-01-01T00:15:00.000Z');
  });

  it('start and end windows bound every kind', () => {
    const every = interval(60, '2026-01-01T00:00:00Z', { startAt: t('2026-01-01T01:00:00Z'), endAt: t('2026-01-01T01:02:00Z') });
    expect(upcomingTicks(every, t('2026-01-01T00:00:00Z'), 10).map(iso)).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T01:01:00.000Z',
      '2026-01-01T01:02:00.000Z',
    ]);
    const once: Timing = { ...every, kind: 'once', intervalSeconds: null, at: t('2026-06-01T00:00:00Z'), startAt: null, endAt: null };
    expect(upcomingTicks(once, t('2026-01-01T00:00:00Z'), 5).map(iso)).toEqual(['2026-06-01T00:00:00.000Z']);
    expect(nextTick(once, t('2026-06-01T00:00:00Z'))).toBeNull();
  });

  it('ISO 8601 durations convert to seconds; calendar units are refused', () => {
    expect(parseIsoInterval('PT15M')).toEqual({ seconds: 900 });
    expect(parseIsoInterval('P1DT2H')).toEqual({ seconds: 93600 });
    expect(parseIsoInterval('P1M')).toMatchObject({ error: { path: 'body.interval' } });
    expect(parseIsoInterval('fifteen')).toMatchObject({ error: { path: 'body.interval' } });
    expect(parseIsoInterval('PT0.5S')).toMatchObject({ error: { path: 'body.interval' } });
    expect(isoInterval(93600)).toBe('P1DT2H');
    expect(isoInterval(90)).toBe('PT1M30S');
  });
});

describe('jitter', () => {
  it('is stable per tick, bounded, and spreads ticks', () => {
    const values = Array.from({ length: 200 }, (_, i) => jitterMs('sched-a', i * 60_000, 30));
    expect(values.every((v) => v >= 0 && v < 30_000)).toBe(true);
    expect(jitterMs('sched-a', 60_000, 30)).toBe(values[1]);
    expect(new Set(values.map((v) => Math.floor(v / 3000))).size).toBeGreaterThan(5);
    expect(jitterMs('sched-a', 60_000, 0)).toBe(0);
  });
});

describe('planFires (what a pass does with a due schedule)', () => {
  const every = interval(60, '2026-01-01T00:00:00Z');
  const base = { scheduleId: 's', timing: every, jitterSeconds: 0, graceMs: 30_000 };

  it('fires an on-time tick and points at the next', () => {
    const plan = planFires({ ...base, misfire: 'skip', nextFireAt: t('2026-01-01T00:01:00Z'), now: t('2026-01-01T00:01:00.200Z') });
    expect(plan.fires).toEqual([{ fireAt: t('2026-01-01T00:01:00Z'), dueAt: t('2026-01-01T00:01:00Z'), action: 'run', missedCount: 0 }]);
    expect(iso(plan.next!.fireAt)).toBe('2026-01-01T00:02:00.000Z');
  });

  it('after downtime, misfire skip records the missed ticks once and runs nothing for them', () => {
    const plan = planFires({ ...base, misfire: 'skip', nextFireAt: t('2026-01-01T00:01:00Z'), now: t('2026-01-01T01:00:40Z') });
    expect(plan.fires).toEqual([{ fireAt: t('2026-01-01T01:00:00Z'), dueAt: t('2026-01-01T01:00:00Z'), action: 'missed', missedCount: 60 }]);
    expect(iso(plan.next!.fireAt)).toBe('2026-01-01T01:01:00.000Z');
  });

  it('after downtime, run_once catches up with a single run; ticks within the grace still run', () => {
    const plan = planFires({ ...base, misfire: 'run_once', nextFireAt: t('2026-01-01T00:01:00Z'), now: t('2026-01-01T01:00:10Z') });
    expect(plan.fires.map((f) => [iso(f.fireAt), f.action, f.missedCount])).toEqual([
      ['2026-01-01T00:59:00.000Z', 'run', 59],
      ['2026-01-01T01:00:00.000Z', 'run', 0],
    ]);
  });

  it('walks at most `cap` ticks of a long outage and jumps to the present', () => {
    const plan = planFires({ ...base, misfire: 'skip', nextFireAt: t('2026-01-01T00:01:00Z'), now: t('2026-01-10T00:00:30Z'), cap: 100 });
    expect(plan.fires).toHaveLength(1);
    expect(plan.fires[0]!.missedCount).toBe(101);
    expect(iso(plan.next!.fireAt)).toBe('2026-01-10T00:01:00.000Z');
  });

  it('a tick is not due before its jitter has passed', () => {
    const j = jitterMs('s', t('2026-01-01T00:01:00Z'), 20);
    const plan = planFires({ ...base, jitterSeconds: 20, misfire: 'skip', nextFireAt: t('2026-01-01T00:01:00Z'), now: t('2026-01-01T00:01:00Z') + j - 1 });
    expect(plan.fires).toEqual([]);
    expect(plan.next?.fireAt).toBe(t('2026-01-01T00:01:00Z'));
  });
});
