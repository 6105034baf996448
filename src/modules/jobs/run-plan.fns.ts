/**
 * The rule of a new run, as pure functions: what a request may ask for (deadline, parameters,
 * ad-hoc hosts, bounds) and the run row it becomes. The service adds what needs other modules
 * (credentials, inventory selectors, the per-person limit) and stores the plan.
 */
import { ForbiddenError, ValidationError, type FieldError } from '../../platform/errors.js';
import { hasPermission, type Actor } from '../../platform/http/auth.js';
import type { Executor, ExecutorSettings } from './executors/executor.js';
import type { CreateRunBody, TargetSpec } from './jobs.schemas.js';
import { runSettingsOf, validateParams } from './run-input.fns.js';
import type { TriggerKind } from './run-state.fns.js';
import type { Run, TargetRow } from './runs.repository.js';
import type { TargetIdentity } from './targets.js';

export type RunInput = Omit<CreateRunBody, 'template_id'> & { type: string };

export interface CreateRunOptions {
  idempotencyKey?: string | undefined;
  /** Fingerprint of the request made with `idempotencyKey` (`requestFingerprint`): a reuse of the key with another request is refused. */
  requestHash?: string | undefined;
  /** Internal callers (scheduler, workflows, webhooks) say who triggered the run. */
  trigger?: { kind: Exclude<TriggerKind, 'user' | 'api_key'>; id?: string } | undefined;
  templateId?: string | null;
  /** The template's team: the run belongs to it (docs/architecture.md "Team scoping"). */
  templateTeamId?: string | null;
}

export interface RunLimits {
  maxTargets: number;
  maxProbes: number;
  maxActivePerUser: number;
}

export const UNLIMITED: RunLimits = {
  maxTargets: Number.POSITIVE_INFINITY,
  maxProbes: Number.POSITIVE_INFINITY,
  maxActivePerUser: Number.POSITIVE_INFINITY,
};

/** A target row stored with a new run: a host (or `local`), or a retried run's resolved row. */
export type NewTarget = { host: string; deviceId: string | null } & Partial<TargetIdentity>;

export function invalid(code: string, message: string, errors: FieldError[]): never {
  throw new ValidationError(code, message, errors);
}

/**
 * The stored idempotency key: scoped by the actor, or for internal triggers (a schedule's tick)
 * by the trigger, so a tick repaired after its schedule changed owner lands on the run it made.
 */
export function idempotencyKeyOf(actor: Actor, options: CreateRunOptions): string | null {
  if (!options.idempotencyKey) return null;
  const scope = options.trigger ? `trigger:${options.trigger.kind}:${options.trigger.id ?? ''}` : actor.id;
  return `${scope}:${options.idempotencyKey}`;
}

/**
 * The run an Idempotency-Key already made, if `requestHash` is the request that made it; a reuse
 * of the key with another request is a client error (draft-ietf-httpapi-idempotency-key-header: 422).
 */
export function sameRequest(existing: Run, requestHash: string | null | undefined): Run {
  if (requestHash != null && existing.requestHash !== null && existing.requestHash !== requestHash) {
    invalid('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request; use a new key for a new run', [
      { path: 'headers.idempotency-key', message: `already used by run ${existing.id} with a different body` },
    ]);
  }
  return existing;
}

/** A deadline must leave the run a chance to start: after now, and after `not_before`. */
function checkDeadline(input: { expires_at?: string | undefined; not_before?: string | undefined }, now: number): void {
  if (!input.expires_at) return;
  const deadline = Date.parse(input.expires_at);
  if (!(deadline > now)) invalid('JOB_DEADLINE_PASSED', 'expires_at is in the past', [{ path: 'body.expires_at', message: 'must be in the future' }]);
  if (input.not_before && Date.parse(input.not_before) >= deadline) {
    invalid('JOB_DEADLINE_BEFORE_START', 'expires_at is not after not_before', [{ path: 'body.expires_at', message: 'must be after not_before' }]);
  }
}

/** Host names and addresses outside the inventory need `jobs:run_adhoc`; inventory selectors only `jobs:run`. */
export function checkAdhoc(actor: Actor, specs: readonly TargetSpec[]): void {
  if (specs.some((s) => typeof s === 'string') && !hasPermission(actor, 'jobs:run_adhoc')) {
    throw new ForbiddenError(
      'JOB_ADHOC_FORBIDDEN',
      "Targets outside the inventory (host names, addresses) need the 'jobs:run_adhoc' permission; target inventory devices instead",
    );
  }
}

/** Per-run bounds: targets named, and probes (targets × ports of a scan). */
function checkBounds(executor: Executor, params: Record<string, unknown>, specs: readonly TargetSpec[], limits: RunLimits): void {
  if (specs.length > limits.maxTargets) {
    invalid('JOB_TOO_MANY_TARGETS', `A run may name at most ${limits.maxTargets} targets`, [
      { path: 'body.targets', message: `${specs.length} targets; the limit is ${limits.maxTargets} (OPSDECK_RUN_MAX_TARGETS)` },
    ]);
  }
  const perTarget = executor.probesPerTarget?.(params) ?? 1;
  const probes = Math.max(1, specs.length) * perTarget;
  if (probes > limits.maxProbes) {
    invalid('JOB_TOO_MANY_PROBES', `A run may make at most ${limits.maxProbes} probes (targets × ports)`, [
      {
        path: perTarget > 1 ? 'body.params.ports' : 'body.targets',
        message: `${specs.length} targets × ${perTarget} = ${probes} probes; the limit is ${limits.maxProbes} (OPSDECK_RUN_MAX_PROBES)`,
      },
    ]);
  }
}

/** A request's deadline and parameters (against the executor's schema): the parameters to store, defaults applied. */
export function checkRequest(executor: Executor, input: RunInput, settings: ExecutorSettings, now: number): Record<string, unknown> {
  checkDeadline(input, now);
  const checked = validateParams(executor, input.params, settings);
  if (!checked.ok) invalid('JOB_PARAMS_INVALID', `Parameters do not match the '${executor.type}' schema`, checked.errors);
  return checked.params;
}

/** What a request may target: ad-hoc hosts only with `jobs:run_adhoc`, and within the per-run bounds. */
export function checkTargets(actor: Actor, executor: Executor, params: Record<string, unknown>, specs: readonly TargetSpec[], limits: RunLimits): void {
  checkAdhoc(actor, specs);
  checkBounds(executor, params, specs, limits);
}

/**
 * The target rows stored with a new run: its hosts, or `local` for an executor that needs none;
 * none when it names inventory selectors (resolved when it executes, run-targets.ts).
 */
export function hostTargets(executor: Executor, specs: readonly TargetSpec[], hasSelectors: boolean, path = 'body.targets'): NewTarget[] {
  if (hasSelectors) return [];
  const hosts = specs.filter((s): s is string => typeof s === 'string').map((host) => ({ host, deviceId: null }));
  if (hosts.length === 0 && executor.targets === 'required') {
    invalid('JOB_TARGETS_REQUIRED', `'${executor.type}' needs at least one target`, [{ path, message: 'at least one target is required' }]);
  }
  return hosts.length === 0 ? [{ host: 'local', deviceId: null }] : hosts;
}

/**
 * Who a run acts for, stored on it and re-checked when it executes (run-targets.ts#initiatorOf):
 * a user, or an API key and the user behind it; null for the system (workflows, the CLI).
 */
export function initiatorOf(actor: Actor): Pick<Run, 'initiatorKind' | 'initiatorId' | 'initiatorUserId'> {
  if (actor.kind === 'system') return { initiatorKind: null, initiatorId: null, initiatorUserId: null };
  return { initiatorKind: actor.kind, initiatorId: actor.id, initiatorUserId: actor.userId ?? (actor.kind === 'user' ? actor.id : null) };
}

/** The lifecycle columns of a run that was never claimed (a new run, a retry), stored at `now`. */
function unstartedState(now: string) {
  return {
    status: 'queued',
    attempt: 0,
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
  } satisfies Partial<Run>;
}

/** The new run a checked request becomes, queued at `now` for `actor`. */
export function planRun(p: {
  id: string;
  now: string;
  actor: Actor;
  executor: Executor;
  input: RunInput;
  params: Record<string, unknown>;
  options: CreateRunOptions;
  idempotencyKey: string | null;
  teamId: string | null;
}): Run {
  const { actor, input, options, idempotencyKey } = p;
  return {
    id: p.id,
    type: p.executor.type,
    params: p.params,
    targets: input.targets ?? [],
    credentialId: input.credential_id ?? null,
    templateId: options.templateId ?? null,
    teamId: p.teamId,
    retryOf: null,
    ...runSettingsOf(input),
    changesDevices: p.executor.changesDevices(p.params),
    triggerKind: options.trigger?.kind ?? (actor.kind === 'system' ? 'system' : actor.kind),
    triggeredBy: options.trigger?.id ?? actor.id,
    idempotencyKey,
    requestHash: idempotencyKey ? (options.requestHash ?? null) : null,
    expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
    notBefore: input.not_before ? new Date(input.not_before).toISOString() : null,
    ...unstartedState(p.now),
    ...initiatorOf(actor),
  };
}

/**
 * A retry: a new run of `source` by `actor` on its targets that did not succeed (all of them
 * with `onlyFailed` false), keeping its team. Selectors never resolved (the run was refused
 * before) are resolved afresh. `adhoc` is what the retry names outside the inventory.
 */
export function planRetry(p: {
  id: string;
  now: string;
  actor: Actor;
  source: Run;
  rows: readonly TargetRow[];
  onlyFailed: boolean;
}): { run: Run; targets: NewTarget[]; adhoc: TargetSpec[] } | null {
  const { source, actor } = p;
  const rows = p.rows.filter((t) => !p.onlyFailed || t.status !== 'succeeded');
  const specs = source.targets as TargetSpec[];
  const unresolved = p.rows.length === 0 && specs.some((s) => typeof s !== 'string');
  if (rows.length === 0 && !unresolved) return null;
  const run: Run = {
    ...source,
    id: p.id,
    retryOf: source.id,
    idempotencyKey: null,
    requestHash: null,
    expiresAt: null,
    notBefore: null,
    ...unstartedState(p.now),
    triggerKind: actor.kind === 'system' ? 'system' : actor.kind,
    triggeredBy: actor.id,
    ...initiatorOf(actor),
    targets: unresolved ? source.targets : rows.map((t) => (t.deviceId ? { device_id: t.deviceId } : t.host)),
  };
  const targets = rows.map((t) => ({
    host: t.host,
    deviceId: t.deviceId,
    deviceName: t.deviceName,
    networkDriver: t.networkDriver,
    selector: t.selector,
    credentialId: t.credentialId,
    credentialProfileId: t.credentialProfileId,
    credentialSource: t.credentialSource as TargetIdentity['credentialSource'],
  }));
  const adhoc = unresolved ? specs : rows.filter((t) => !t.deviceId && t.host !== 'local').map((t) => t.host);
  return { run, targets, adhoc };
}
