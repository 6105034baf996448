import { describe, expect, it } from 'vitest';
import { backoffMs, defaultDedupKey, deviceRefOf, fromAlertmanager, maskSecrets, matchesRule, needsDevice, releaseTime, severityOf } from './alerts.fns.js';
import { alertFromEvent } from './sources.js';

const at = (iso: string) => Date.parse(iso);

describe('quiet hours (releaseTime) with an injected clock', () => {
  const night = { start: '22:00', end: '07:00', timezone: 'Europe/Paris' };
  it.each([
    ['outside the window: now', '2026-12-07T12:00:00Z', 'warning', '2026-12-07T12:00:00.000Z'],
    ['inside, before midnight: the next morning', '2026-12-07T22:30:00Z', 'warning', '2026-12-08T06:00:00.000Z'],
    ['inside, after midnight: the same morning', '2026-12-08T02:00:00Z', 'minor', '2026-12-08T06:00:00.000Z'],
    ['critical is excepted by default', '2026-12-07T22:30:00Z', 'critical', '2026-12-07T22:30:00.000Z'],
    ['the end itself is outside', '2026-12-08T06:00:00Z', 'info', '2026-12-08T06:00:00.000Z'],
  ])('%s', (_name, now, severity, expected) => {
    expect(new Date(releaseTime(night, severity, at(now))).toISOString()).toBe(expected);
  });
  it('honours a window within one day and an explicit except list', () => {
    const lunch = { start: '12:00', end: '13:00', timezone: 'UTC', except: [] };
    expect(new Date(releaseTime(lunch, 'critical', at('2026-12-07T12:15:00Z'))).toISOString()).toBe('2026-12-07T13:00:00.000Z');
    expect(releaseTime(null, 'info', 5)).toBe(5);
  });
  it('follows daylight saving time (New York, the night clocks go back)', () => {
    const q = { start: '01:00', end: '03:00', timezone: 'America/New_York' };
    // 2026-11-01 05:30Z is 01:30 EDT; the window ends at 03:00 EST = 08:00Z.
    expect(new Date(releaseTime(q, 'info', at('2026-11-01T05:30:00Z'))).toISOString()).toBe('2026-11-01T08:00:00.000Z');
  });
});

describe('routing matches', () => {
  const alert = { source: 'prometheus', severity: 'major', labels: { team: 'net', site: 'par' } };
  it.each([
    [{}, true],
    [{ sources: ['prometheus'] }, true],
    [{ sources: ['jobs'] }, false],
    [{ severities: ['critical', 'major'] as const }, true],
    [{ severities: ['info'] as const }, false],
    [{ labels: { team: 'net' } }, true],
    [{ labels: { team: 'net', site: 'lon' } }, false],
    [{ labels: { missing: 'x' } }, false],
  ])('%j → %s', (match, expected) => {
    expect(matchesRule(match as never, alert)).toBe(expected);
  });
});

describe('rule matching on device, location and team', () => {
  const alert = { source: 's', severity: 'major', labels: { device_id: 'd1', team_id: 't1' } };
  // The device's location and its ancestors, as the inventory port reports them.
  const device = { deviceId: 'd1', locationIds: ['site', 'region'] };
  it.each([
    ['device id', { device_ids: ['d1', 'd2'] }, device, true],
    ['another device', { device_ids: ['d2'] }, device, false],
    ['device rule, alert about no known device', { device_ids: ['d1'] }, null, false],
    ['the location itself', { location_ids: ['site'] }, device, true],
    ['an ancestor location', { location_ids: ['region'] }, device, true],
    ['an unrelated location', { location_ids: ['elsewhere'] }, device, false],
    ['location rule, no device', { location_ids: ['region'] }, null, false],
    ['team label', { team_ids: ['t1'] }, null, true],
    ['another team', { team_ids: ['t2'] }, device, false],
    ['all parts must hold', { device_ids: ['d1'], location_ids: ['region'], team_ids: ['t2'] }, device, false],
    ['empty lists match all', { device_ids: [], location_ids: [], team_ids: [] }, null, true],
  ])('%s', (_name, match, ctx, expected) => {
    expect(matchesRule(match, alert, ctx)).toBe(expected);
  });
  it('matches team_ids only against a team_id label', () => {
    expect(matchesRule({ team_ids: ['t1'] }, { source: 's', severity: 'info', labels: {} })).toBe(false);
  });
  it('looks devices up only for device or location rules, by device_id before device name', () => {
    expect(needsDevice({ team_ids: ['t'], labels: { a: 'b' } })).toBe(false);
    expect(needsDevice({ location_ids: ['l'] })).toBe(true);
    expect(needsDevice({ device_ids: ['d'] })).toBe(true);
    expect(deviceRefOf({ device_id: 'x', device: 'r1' })).toEqual({ deviceId: 'x' });
    expect(deviceRefOf({ device: 'r1' })).toEqual({ name: 'r1' });
    expect(deviceRefOf({ host: 'r1' })).toBeNull();
  });
});

describe('mapping and helpers', () => {
  it('maps Alertmanager alerts: fingerprint dedup, severity aliases, summary as title', () => {
    const r = fromAlertmanager(
      { status: 'resolved', labels: { alertname: 'X', severity: 'error' }, annotations: { summary: 'sum', description: 'desc' }, fingerprint: 'f1' },
      { job: 'node' },
    );
    expect(r).toEqual({
      source: 'alertmanager',
      title: 'sum',
      description: 'desc',
      severity: 'major',
      labels: { job: 'node', alertname: 'X', severity: 'error' },
      dedup_key: 'alertmanager:f1',
      status: 'resolved',
    });
    expect(fromAlertmanager({ status: 'firing', labels: { b: '2', a: '1' } }, {}).dedup_key).toBe('alertmanager:a=1,b=2');
    expect(severityOf('PAGE')).toBe('critical');
    expect(severityOf('unknown')).toBe('warning');
  });
  it('builds a default dedup key independent of label order', () => {
    expect(defaultDedupKey({ source: 's', title: 't', labels: { b: '2', a: '1' } })).toBe(
      defaultDedupKey({ source: 's', title: 't', labels: { a: '1', b: '2' } }),
    );
  });
  it('masks secrets, URL-encoded too', () => {
    expect(maskSecrets('to https://h/a b?x=tok%2Fen and tok/en', ['tok/en'])).toBe('to https://h/a b?x=*** and ***');
  });
  it('backs off exponentially, capped at an hour', () => {
    expect([1, 2, 3].map((n) => backoffMs(n, 100))).toEqual([100, 200, 400]);
    expect(backoffMs(40, 1000)).toBe(3_600_000);
  });
  it('turns domain events into alerts with stable dedup keys', () => {
    expect(alertFromEvent('run.failed', { run_id: 'r', type: 'command', status: 'failed', template_id: 't' })).toMatchObject({
      source: 'jobs',
      severity: 'major',
      dedup_key: 'jobs:template:t',
    });
    expect(alertFromEvent('run.succeeded', { run_id: 'r', template_id: 't' })).toMatchObject({ status: 'resolved', dedup_key: 'jobs:template:t' });
    expect(alertFromEvent('run.succeeded', { run_id: 'r' })).toBeNull();
    expect(alertFromEvent('credential.expired', { id: 'c', name: 'core', type: 'ssh', expiresAt: 'x' })).toMatchObject({
      dedup_key: 'credentials:expired:c',
      severity: 'warning',
    });
    expect(
      alertFromEvent('schedule.misfired', { id: 's1', name: 'nightly', policy: 'skip', missed_count: 10, fire_at: '2026-05-06T10:10:00.000Z' }),
    ).toMatchObject({
      source: 'schedules',
      title: 'Schedule nightly missed 10 tick(s)',
      severity: 'warning',
      labels: { schedule_id: 's1', misfire: 'skip' },
      dedup_key: 'schedules:misfired:s1',
    });
    expect(alertFromEvent('run.succeeded', { run_id: 'r', type: 'discovery', summary: { probed: 16, alive: 3, identified: 2 } })).toMatchObject({
      source: 'discovery',
      title: 'Discovery found 3 live host(s), 2 identified',
      severity: 'info',
      dedup_key: 'discovery:run:r',
    });
    expect(alertFromEvent('run.succeeded', { run_id: 'r', type: 'discovery', summary: { probed: 16, alive: 0, identified: 0 } })).toBeNull();
    expect(alertFromEvent('workflow.execution.failed', { workflow_id: 'w', execution_id: 'e', error: 'node ping1 failed' })).toMatchObject({
      source: 'workflows',
      severity: 'major',
      description: 'Execution e failed: node ping1 failed',
      dedup_key: 'workflows:failed:w',
    });
    expect(alertFromEvent('workflow.execution.succeeded', { workflow_id: 'w', execution_id: 'e2' })).toMatchObject({
      status: 'resolved',
      dedup_key: 'workflows:failed:w',
    });
    expect(alertFromEvent('device.created', {})).toBeNull();
  });
});
