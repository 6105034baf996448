import { describe, expect, it } from 'vitest';
import { ForbiddenError, ValidationError } from '../../platform/errors.js';
import { SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { pingExecutor } from './executors/ping.js';
import { checkTargets, hostTargets, idempotencyKeyOf, planRetry, planRun, sameRequest, UNLIMITED } from './run-plan.fns.js';
import type { Run, TargetRow } from './runs.repository.js';

const user: Actor = { kind: 'user', id: 'u1', name: 'ann', permissions: new Set(['jobs:run']), teamIds: [] };
const key: Actor = { kind: 'api_key', id: 'k1', userId: 'u1', name: 'ci', permissions: new Set(['jobs:run', 'jobs:run_adhoc']), teamIds: [] };

function run(actor: Actor, targets: unknown[] = ['10.0.0.1']): Run {
  const input = { type: 'ping', targets: targets as string[] };
  return planRun({
    id: 'r1',
    now: '2026-01-01T00:00:00.000Z',
    actor,
    executor: pingExecutor,
    input,
    params: {},
    options: {},
    idempotencyKey: null,
    teamId: null,
  });
}

function row(host: string, status: string, deviceId: string | null = null): TargetRow {
  return { host, status, deviceId, credentialSource: null } as TargetRow;
}

describe('run plan', () => {
  it('scopes an idempotency key by the actor, or by the trigger for internal callers', () => {
    expect(idempotencyKeyOf(user, {})).toBeNull();
    expect(idempotencyKeyOf(user, { idempotencyKey: 'a' })).toBe('u1:a');
    expect(idempotencyKeyOf(user, { idempotencyKey: 'a', trigger: { kind: 'schedule', id: 's1' } })).toBe('trigger:schedule:s1:a');
  });

  it('refuses a reused idempotency key with another request, and accepts the same one', () => {
    const first = { ...run(user), requestHash: 'h1' };
    expect(sameRequest(first, 'h1')).toBe(first);
    expect(sameRequest(first, undefined)).toBe(first);
    expect(() => sameRequest(first, 'h2')).toThrow(ValidationError);
  });

  it('queues a new run for its initiator: an API key acts for the user behind it, the system for no one', () => {
    expect(run(key)).toMatchObject({
      status: 'queued',
      attempt: 0,
      triggerKind: 'api_key',
      initiatorKind: 'api_key',
      initiatorId: 'k1',
      initiatorUserId: 'u1',
    });
    expect(run(SYSTEM_ACTOR)).toMatchObject({ triggerKind: 'system', initiatorKind: null, initiatorId: null, initiatorUserId: null });
  });

  it('needs jobs:run_adhoc for host targets and keeps within the bounds', () => {
    expect(() => checkTargets(user, pingExecutor, {}, ['10.0.0.1'], UNLIMITED)).toThrow(ForbiddenError);
    expect(() => checkTargets(user, pingExecutor, {}, [{ device: 'r1' }], UNLIMITED)).not.toThrow();
    expect(() => checkTargets(key, pingExecutor, {}, ['a', 'b'], { ...UNLIMITED, maxTargets: 1 })).toThrow(ValidationError);
  });

  it('stores host targets as rows, none for selectors', () => {
    expect(hostTargets(pingExecutor, ['a', 'b'], false).map((t) => t.host)).toEqual(['a', 'b']);
    expect(hostTargets(pingExecutor, [{ device: 'r1' }], true)).toEqual([]);
  });

  it('retries only the targets that did not succeed, and nothing when all did', () => {
    const source = { ...run(key, ['a', 'b']), status: 'partially_failed', attempt: 2 };
    const plan = planRetry({
      id: 'r2',
      now: '2026-01-02T00:00:00.000Z',
      actor: user,
      source,
      rows: [row('a', 'succeeded'), row('b', 'failed')],
      onlyFailed: true,
    });
    expect(plan?.run).toMatchObject({ id: 'r2', retryOf: 'r1', status: 'queued', attempt: 0, targets: ['b'], initiatorId: 'u1', triggerKind: 'user' });
    expect(plan?.adhoc).toEqual(['b']);
    expect(planRetry({ id: 'r3', now: '2026-01-02T00:00:00.000Z', actor: user, source, rows: [row('a', 'succeeded')], onlyFailed: true })).toBeNull();
  });

  it('retries unresolved selectors afresh', () => {
    const source = { ...run(user, [{ group: 'core' }]), status: 'failed' };
    const plan = planRetry({ id: 'r2', now: '2026-01-02T00:00:00.000Z', actor: user, source, rows: [], onlyFailed: true });
    expect(plan?.run.targets).toEqual([{ group: 'core' }]);
    expect(plan?.targets).toEqual([]);
  });
});
