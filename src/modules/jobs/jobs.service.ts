import { LRUCache } from 'lru-cache';
import type { EventBus } from '../../platform/bus/event-bus.js';
import { createBatcher } from '../../platform/db/batcher.js';
import { writeAtomically, type Db, type Write } from '../../platform/db/database.js';
import { ConflictError, ForbiddenError, NotFoundError, TooManyRequestsError, ValidationError, type FieldError } from '../../platform/errors.js';
import { hasPermission, requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { CredentialResolver } from './credentials.js';
import type { Dispatch } from './dispatch.js';
import type { Executor, ExecutorSettings } from './executors/executor.js';
import { RUN_FILTERS, RUN_SORTS, type CreateRunBody, type TargetSpec } from './jobs.schemas.js';
import { logView, runTargetView, runView, targetView } from './jobs.views.fns.js';
import type { LocksRepository } from './locks.repository.js';
import type { LogsRepository } from './logs.repository.js';
import { RUN_DEFAULTS, validateParams } from './run-input.fns.js';
import { blockedBy, isTerminal, queueBefore, rankQueued, type TriggerKind } from './run-state.fns.js';
import { createRunsRepository, type Run, type RunsRepository } from './runs.repository.js';
import { CANCEL_CHANNEL, WORKER_STALE_MS } from './jobs.worker.js';
import { isSelector, NO_IDENTITY, type TargetIdentity, type TargetResolver } from './targets.js';
import { inTeamScope, teamScope } from '../../platform/db/team-scope.js';

/** Identity's audit log: written in the same transaction as the change it describes. */
export interface AuditEntry {
  actor: Actor;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  outcome: 'success' | 'failure' | 'denied';
  changes?: Record<string, unknown> | null;
}

/** Identity's audit log: written in the same transaction as the change it describes. */
export interface AuditRecorder {
  record(db: Db, entry: AuditEntry): Promise<void>;
  /** The write recording entries, to run within the caller's own atomic write. */
  recordWrite(entries: readonly AuditEntry[]): Write;
}

export interface JobsServiceDeps {
  /** Called once per run cancelled while still queued (the engine and the worker report the other endings). */
  onFinished?: (type: string, status: string, seconds: number | null) => void;
  runs: RunsRepository;
  logs: LogsRepository;
  locks: LocksRepository;
  db: Db;
  unitOfWork: <T>(work: (repos: { runs: RunsRepository; db: Db }) => Promise<T>) => Promise<T>;
  bus: EventBus;
  dispatch: Dispatch;
  executors: Map<string, Executor>;
  settings: ExecutorSettings;
  credentials: CredentialResolver;
  targetResolver?: TargetResolver | undefined;
  audit?: AuditRecorder | undefined;
  limits: { concurrency: number; perType: Readonly<Record<string, number>> };
  /** Per-run bounds and the per-person concurrency limit (OPSDECK_RUN_MAX_*). */
  runLimits?: RunLimits | undefined;
  logger?: Logger | undefined;
}

export interface RunLimits {
  maxTargets: number;
  maxProbes: number;
  maxActivePerUser: number;
}

const UNLIMITED: RunLimits = { maxTargets: Number.POSITIVE_INFINITY, maxProbes: Number.POSITIVE_INFINITY, maxActivePerUser: Number.POSITIVE_INFINITY };
/** Target specs the `job_run.created` audit entry lists; past this it gives the count. */
const AUDITED_TARGETS = 50;

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

export type RunInput = Omit<CreateRunBody, 'template_id'> & { type: string };

/** Queued runs ahead past which a new run's position is estimated, not counted (see `store`). */
const POSITION_COUNT_LIMIT = 1000;

function invalid(code: string, message: string, errors: FieldError[]): never {
  throw new ValidationError(code, message, errors);
}

/**
 * The run an Idempotency-Key already made, if `requestHash` is the request that made it; a reuse
 * of the key with another request is a client error (draft-ietf-httpapi-idempotency-key-header: 422).
 */
function sameRequest(existing: Run, requestHash: string | undefined): Run {
  if (requestHash !== undefined && existing.requestHash !== null && existing.requestHash !== requestHash) {
    invalid('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request; use a new key for a new run', [
      { path: 'headers.idempotency-key', message: `already used by run ${existing.id} with a different body` },
    ]);
  }
  return existing;
}

/** A deadline must leave the run a chance to start: after now, and after `not_before`. */
function checkDeadline(input: { expires_at?: string | undefined; not_before?: string | undefined }): void {
  if (!input.expires_at) return;
  const deadline = Date.parse(input.expires_at);
  if (!(deadline > Date.now())) invalid('JOB_DEADLINE_PASSED', 'expires_at is in the past', [{ path: 'body.expires_at', message: 'must be in the future' }]);
  if (input.not_before && Date.parse(input.not_before) >= deadline) {
    invalid('JOB_DEADLINE_BEFORE_START', 'expires_at is not after not_before', [{ path: 'body.expires_at', message: 'must be after not_before' }]);
  }
}

/**
 * Who a run acts for, stored on it and re-checked when it executes (run-targets.ts#initiatorOf):
 * a user, or an API key and the user behind it; null for the system (workflows, the CLI).
 */
function initiatorOf(actor: Actor): Pick<Run, 'initiatorKind' | 'initiatorId' | 'initiatorUserId'> {
  if (actor.kind === 'system') return { initiatorKind: null, initiatorId: null, initiatorUserId: null };
  return { initiatorKind: actor.kind, initiatorId: actor.id, initiatorUserId: actor.userId ?? (actor.kind === 'user' ? actor.id : null) };
}

/**
 * The targets a `job_run.created` audit entry records: hosts as given and selectors as
 * `key=value` (`device_id=…`, `group=core`), capped, with the total when capped.
 */
function auditedTargets(specs: readonly TargetSpec[]): Record<string, unknown> {
  const shown = specs.slice(0, AUDITED_TARGETS).map((s) =>
    typeof s === 'string'
      ? s
      : Object.entries(s)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(',')
          .slice(0, 200),
  );
  return { target_specs: shown, ...(specs.length > AUDITED_TARGETS ? { target_specs_total: specs.length } : {}) };
}

/** Runs: create (ad hoc or from a template), read, cancel, retry, logs and output. */
/** The lifecycle columns of a run that was never claimed (a new run, a retry), stored at `now`. */
function unstartedState(now: string) {
  return {
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

export function createJobsService(deps: JobsServiceDeps) {
  const { runs } = deps;
  const runLimits = deps.runLimits ?? UNLIMITED;

  /** The run if it exists and, given an actor, is in their team scope: another team's run is absent (404). */
  /** The team of runs live streams watch (see `mayRead`). */
  const runTeams = new LRUCache<string, { teamId: string | null }>({ max: 10_000 });

  async function load(id: string, actor?: Actor): Promise<Run> {
    const run = await runs.find(id);
    if (!run || (actor && !inTeamScope(teamScope(actor), run.teamId))) throw new NotFoundError('JOB_RUN_NOT_FOUND', `Job run ${id} does not exist`);
    return run;
  }

  /**
   * A run's team: its template's, else its credential's, else the initiator's when they have
   * exactly one team, else none (shared).
   */
  async function runTeam(actor: Actor, credentialId: string | undefined, templateTeamId: string | null | undefined): Promise<string | null> {
    if (templateTeamId) return templateTeamId;
    const credentialTeam = credentialId ? (await deps.credentials.teamsOf?.([credentialId]))?.get(credentialId.toLowerCase()) : null;
    if (credentialTeam) return credentialTeam;
    return actor.teamIds.length === 1 ? actor.teamIds[0]! : null;
  }

  /** Credential/profile ids among `ids` outside the actor's teams: views show them as null. */
  async function hiddenCredentials(actor: Actor, ids: readonly (string | null)[]): Promise<Set<string>> {
    const scope = teamScope(actor);
    const wanted = ids.filter((id): id is string => id !== null);
    if (scope === 'all' || wanted.length === 0 || !deps.credentials.teamsOf) return new Set();
    const teams = await deps.credentials.teamsOf(wanted);
    return new Set([...teams].filter(([, team]) => !inTeamScope(scope, team)).map(([id]) => id));
  }

  function redactRun<T extends { credential_id: string | null; credential_restricted: boolean }>(view: T, hidden: Set<string>): T {
    return view.credential_id !== null && hidden.has(view.credential_id.toLowerCase()) ? { ...view, credential_id: null, credential_restricted: true } : view;
  }

  function redactTarget<T extends { credential_id: string | null; credential_profile_id: string | null }>(view: T, hidden: Set<string>): T {
    const hide = (id: string | null) => (id !== null && hidden.has(id.toLowerCase()) ? null : id);
    return { ...view, credential_id: hide(view.credential_id), credential_profile_id: hide(view.credential_profile_id) };
  }

  type QueueContext = {
    workers: { count: number; capacity: number };
    running: Map<string, number>;
    total: number;
    /** Queued runs per priority when counted, and the runs this node stored since (see `store`). */
    queued: Map<number, number>;
    storedSince: Map<number, number>;
  };
  let cached: { at: number; value: Promise<QueueContext> } | null = null;

  /** Counts behind every blocked_by explanation; reused for 250 ms so a burst of creates does not recount. */
  function queueContext(): Promise<QueueContext> {
    if (cached && Date.now() - cached.at < 250) return cached.value;
    const value = Promise.all([deps.locks.liveWorkers(new Date(Date.now() - WORKER_STALE_MS).toISOString()), runs.runningCounts(), runs.queuedCounts()]).then(
      ([workers, running, queued]) => ({
        workers,
        running,
        total: [...running.values()].reduce((a, b) => a + b, 0),
        queued,
        storedSince: new Map<number, number>(),
      }),
    );
    cached = { at: Date.now(), value };
    value.catch(() => (cached = null));
    return value;
  }

  /**
   * Queued runs at or above each priority of `list` by the last count of the queue (at most
   * 250 ms old) plus what this node stored since; `list` is then counted as stored.
   */
  function estimateAhead(ctx: QueueContext, list: readonly Run[]): Map<number, number> {
    const ahead = new Map<number, number>();
    for (const priority of new Set(list.map((r) => r.priority))) {
      let n = 0;
      for (const counts of [ctx.queued, ctx.storedSince]) for (const [p, c] of counts) if (p >= priority) n += c;
      ahead.set(priority, n);
    }
    return ahead;
  }

  // Concurrent views (a list page, a burst of creates) share one position query.
  const positionOf = createBatcher((list: Run[]) => runs.positions(list));

  type NewTarget = { host: string; deviceId: string | null } & Partial<TargetIdentity>;
  /**
   * Group commit of new runs: concurrent creates share one atomic write (runs, targets and audit
   * rows, and what is queued ahead of them: one prepared statement on PostgreSQL).
   */
  const store = createBatcher(async (batch: { actor: Actor; run: Run; targets: NewTarget[] }[]) => {
    const list = batch.map((b) => b.run);
    // Where the new runs stand: counted in the write while the queue ahead of them is short;
    // past POSITION_COUNT_LIMIT, counting it in every batch of creates would cost O(queue) each,
    // so the position is the estimate (a run read back, GET or list, is ranked exactly).
    const ctx = await queueContext();
    const estimate = estimateAhead(ctx, list);
    const count = [...estimate.values()].every((n) => n < POSITION_COUNT_LIMIT);
    const before = await writeAtomically(
      deps.db,
      [
        ...runs.insertWrites(
          batch.map(({ run, targets }) => ({
            run,
            targets: targets.map((t, idx) => ({
              ...NO_IDENTITY,
              ...t,
              idx,
              status: 'pending',
              attempt: 0,
              startedAt: null,
              finishedAt: null,
              durationMs: null,
              output: null,
              parsed: null,
              error: null,
            })),
          })),
        ),
        ...(deps.audit
          ? [
              deps.audit.recordWrite(
                batch.map(({ actor, run, targets }) => ({
                  actor,
                  action: 'job_run.created',
                  resourceType: 'job_run',
                  resourceId: run.id,
                  outcome: 'success' as const,
                  changes: {
                    type: run.type,
                    targets: targets.length,
                    retry_of: run.retryOf,
                    ...auditedTargets(run.targets as TargetSpec[]),
                    ...(run.triggerKind === 'schedule' ? { schedule_id: run.triggeredBy } : {}),
                  },
                })),
              ),
            ]
          : []),
      ],
      count ? (db) => createRunsRepository(db).positionsRead(list) : undefined,
    );
    for (const r of list) ctx.storedSince.set(r.priority, (ctx.storedSince.get(r.priority) ?? 0) + 1);
    const positions = rankQueued(list, count ? queueBefore(before) : { ahead: estimate, tail: new Map() });
    return positions.map((position) => ({ position, ctx }));
  });
  /**
   * Stored runs go on the queue in batches, one queue round trip each, after their creator has
   * its answer: the database is the record (202 Accepted), the queue only the delivery. A failed
   * enqueue is logged and the worker's reconcile offers the run again.
   */
  const enqueue = createBatcher(async (batch: Run[]) => {
    await deps.dispatch.many(batch);
    return batch.map(() => undefined);
  });

  async function view(run: Run, ctx?: Awaited<ReturnType<typeof queueContext>>, knownPosition?: number) {
    if (run.status !== 'queued') {
      return runView(run, {
        blockedBy: blockedBy({
          status: run.status,
          attempt: run.attempt,
          notBefore: run.notBefore,
          storedBlockedBy: run.blockedBy,
          liveWorkers: 1,
          running: 0,
          runningOfType: 0,
          capacity: 1,
          typeLimit: 1,
          position: 0,
          now: Date.now(),
        }),
        position: null,
      });
    }
    const c = ctx ?? (await queueContext());
    const position = knownPosition ?? (await positionOf(run));
    return runView(run, {
      blockedBy: blockedBy({
        status: run.status,
        attempt: run.attempt,
        notBefore: run.notBefore,
        storedBlockedBy: run.blockedBy,
        liveWorkers: c.workers.count,
        running: c.total,
        runningOfType: c.running.get(run.type) ?? 0,
        capacity: Math.max(c.workers.capacity, 0),
        typeLimit: deps.limits.perType[run.type] ?? Number.POSITIVE_INFINITY,
        position,
        now: Date.now(),
      }),
      position,
    });
  }

  /**
   * Target rows to store with the run. Inventory selectors are only checked here (every unknown
   * name or bad filter field is a 422 naming it) and resolved when the run executes
   * (run-targets.ts#prepareTargets): a run with any selector is stored without rows.
   */
  async function checkSelectors(actor: Actor, specs: readonly TargetSpec[], path: string): Promise<boolean> {
    const selectors = specs.flatMap((s, index) => (isSelector(s) ? [{ index, selector: s }] : []));
    if (selectors.length === 0) return false;
    if (!deps.targetResolver) {
      invalid('JOB_TARGETS_UNRESOLVABLE', 'Inventory targets need the inventory module', [
        { path, message: 'inventory selectors are not available; give hosts' },
      ]);
    }
    const errors = await deps.targetResolver.check(actor, selectors, path);
    if (errors.length > 0) invalid('JOB_TARGETS_UNRESOLVABLE', 'Some targets name nothing in the inventory', errors);
    return true;
  }

  async function resolveTargets(actor: Actor, executor: Executor, specs: TargetSpec[], path = 'body.targets'): Promise<NewTarget[]> {
    if (await checkSelectors(actor, specs, path)) return [];
    const out = (specs as string[]).map((host) => ({ host, deviceId: null }));
    if (out.length === 0 && executor.targets === 'required') {
      invalid('JOB_TARGETS_REQUIRED', `'${executor.type}' needs at least one target`, [{ path, message: 'at least one target is required' }]);
    }
    return out.length === 0 ? [{ host: 'local', deviceId: null }] : out;
  }

  /**
   * A run's credential may be a credential or a credential profile; with inventory targets it may
   * be omitted (devices bring theirs). Using one is reading it: the actor needs `credentials:use`
   * and the credential in their team scope; one outside it "does not exist", exactly like a typo.
   */
  async function checkCredential(
    actor: Actor,
    executor: Executor,
    credentialId: string | undefined,
    specs: readonly TargetSpec[],
    path = 'body.credential_id',
  ): Promise<void> {
    if (executor.credential === 'required' && !credentialId && !specs.some(isSelector)) {
      invalid('JOB_CREDENTIAL_REQUIRED', `'${executor.type}' needs a credential`, [
        { path, message: 'a credential is required for this type (or target inventory devices, which bring their own)' },
      ]);
    }
    if (executor.credential === 'none' && credentialId) {
      invalid('JOB_CREDENTIAL_UNUSED', `'${executor.type}' takes no credential`, [{ path, message: 'this type uses no credential' }]);
    }
    if (credentialId) await checkCredentialUse(actor, credentialId, path);
  }

  async function checkCredentialUse(actor: Actor, credentialId: string, path: string): Promise<void> {
    requirePermission(actor, 'credentials:use');
    if (!(await deps.credentials.canUse(actor, credentialId))) {
      invalid('JOB_CREDENTIAL_NOT_FOUND', `Credential ${credentialId} does not exist`, [{ path, message: 'no such credential or credential profile' }]);
    }
  }

  /** Host names and addresses outside the inventory need `jobs:run_adhoc`; inventory selectors only `jobs:run`. */
  function checkAdhoc(actor: Actor, specs: readonly TargetSpec[]): void {
    if (specs.some((s) => typeof s === 'string') && !hasPermission(actor, 'jobs:run_adhoc')) {
      throw new ForbiddenError(
        'JOB_ADHOC_FORBIDDEN',
        "Targets outside the inventory (host names, addresses) need the 'jobs:run_adhoc' permission; target inventory devices instead",
      );
    }
  }

  /** Per-run bounds: targets named, and probes (targets × ports of a scan). */
  function checkBounds(executor: Executor, params: Record<string, unknown>, specs: readonly TargetSpec[]): void {
    if (specs.length > runLimits.maxTargets) {
      invalid('JOB_TOO_MANY_TARGETS', `A run may name at most ${runLimits.maxTargets} targets`, [
        { path: 'body.targets', message: `${specs.length} targets; the limit is ${runLimits.maxTargets} (OPSDECK_RUN_MAX_TARGETS)` },
      ]);
    }
    const perTarget = executor.probesPerTarget?.(params) ?? 1;
    const probes = Math.max(1, specs.length) * perTarget;
    if (probes > runLimits.maxProbes) {
      invalid('JOB_TOO_MANY_PROBES', `A run may make at most ${runLimits.maxProbes} probes (targets × ports)`, [
        {
          path: perTarget > 1 ? 'body.params.ports' : 'body.targets',
          message: `${specs.length} targets × ${perTarget} = ${probes} probes; the limit is ${runLimits.maxProbes} (OPSDECK_RUN_MAX_PROBES)`,
        },
      ]);
    }
  }

  /** A person's queued and running runs are bounded (their API keys' and schedules' count too): 429 with Retry-After. */
  async function checkActive(actor: Actor): Promise<void> {
    const userId = initiatorOf(actor).initiatorUserId;
    if (!userId || !Number.isFinite(runLimits.maxActivePerUser)) return;
    const active = await runs.activeOfUser(userId);
    if (active >= runLimits.maxActivePerUser) {
      throw new TooManyRequestsError(
        'JOB_RUNS_LIMIT',
        `You already have ${active} queued or running runs; the limit is ${runLimits.maxActivePerUser} (OPSDECK_RUN_MAX_ACTIVE_PER_USER). Wait for some to finish or cancel them`,
        30,
      );
    }
  }

  const service = {
    executor(type: string, path = 'body.type'): Executor {
      const executor = deps.executors.get(type);
      if (!executor) {
        invalid('JOB_TYPE_UNKNOWN', `Unknown job type '${type}'`, [{ path, message: `unknown type; one of: ${[...deps.executors.keys()].join(', ')}` }]);
      }
      return executor;
    },

    /** Credential/profile ids among `ids` outside the actor's teams (templates redact them too). */
    hiddenCredentials,
    redactRun,

    /** Checks a definition's inventory selectors (templates store selectors, resolved per run). */
    async checkSelectors(actor: Actor, specs: readonly TargetSpec[], path = 'body.targets'): Promise<void> {
      await checkSelectors(actor, specs, path);
    },

    /** Checks that the actor may use a credential a definition names (templates): 422 "does not exist" otherwise. */
    async checkCredentialUse(actor: Actor, credentialId: string, path = 'body.credential_id'): Promise<void> {
      await checkCredentialUse(actor, credentialId, path);
    },

    /** Validates, stores and enqueues a run; with an idempotency key a repeat returns the first run. */
    async createRun(actor: Actor, input: RunInput, options: CreateRunOptions = {}): Promise<{ run: Awaited<ReturnType<typeof view>>; created: boolean }> {
      requirePermission(actor, 'jobs:run');
      // Internal triggers (a schedule's tick) key by the trigger, not the actor: whoever owns the
      // schedule when a crashed claim is repaired, the tick lands on the run it already made.
      const key = options.idempotencyKey
        ? `${options.trigger ? `trigger:${options.trigger.kind}:${options.trigger.id ?? ''}` : actor.id}:${options.idempotencyKey}`
        : null;
      if (key) {
        const existing = await runs.findByIdempotencyKey(key);
        if (existing) return { run: await view(sameRequest(existing, options.requestHash)), created: false };
      }
      const executor = service.executor(input.type);
      checkDeadline(input);
      const checked = validateParams(executor, input.params, deps.settings);
      if (!checked.ok) invalid('JOB_PARAMS_INVALID', `Parameters do not match the '${executor.type}' schema`, checked.errors);
      const ruleErrors = (await executor.validate?.(actor, checked.params)) ?? [];
      if (ruleErrors.length > 0) invalid('JOB_PARAMS_INVALID', `Parameters do not match the '${executor.type}' rules`, ruleErrors);
      checkAdhoc(actor, input.targets ?? []);
      checkBounds(executor, checked.params, input.targets ?? []);
      await checkCredential(actor, executor, input.credential_id, input.targets ?? []);
      const targets = await resolveTargets(actor, executor, input.targets ?? []);
      await checkActive(actor);
      const teamId = await runTeam(actor, input.credential_id, options.templateTeamId);
      const now = nowIso();
      const run: Run = {
        id: newId(),
        type: executor.type,
        status: 'queued',
        params: checked.params,
        targets: input.targets ?? [],
        credentialId: input.credential_id ?? null,
        templateId: options.templateId ?? null,
        teamId,
        retryOf: null,
        priority: input.priority ?? RUN_DEFAULTS.priority,
        timeoutMs: input.timeout_ms ?? RUN_DEFAULTS.timeout_ms,
        targetTimeoutMs: input.target_timeout_ms ?? RUN_DEFAULTS.target_timeout_ms,
        targetConcurrency: input.target_concurrency ?? RUN_DEFAULTS.target_concurrency,
        maxAttempts: input.max_attempts ?? RUN_DEFAULTS.max_attempts,
        backoffMs: input.backoff_ms ?? RUN_DEFAULTS.backoff_ms,
        attempt: 0,
        changesDevices: executor.changesDevices(checked.params),
        triggerKind: options.trigger?.kind ?? (actor.kind === 'system' ? 'system' : actor.kind),
        triggeredBy: options.trigger?.id ?? actor.id,
        idempotencyKey: key,
        requestHash: key ? (options.requestHash ?? null) : null,
        expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
        notBefore: input.not_before ? new Date(input.not_before).toISOString() : null,
        ...unstartedState(now),
        ...initiatorOf(actor),
      };
      return service.insertRun(actor, run, targets);
    },

    /** Stores a prepared run and enqueues it after commit (also used by retry). */
    async insertRun(actor: Actor, run: Run, targets: NewTarget[]) {
      let stored: { position: number; ctx: QueueContext };
      try {
        stored = await store({ actor, run, targets });
      } catch (err) {
        // Two requests with one idempotency key raced: the loser answers with the winner's run.
        const existing = run.idempotencyKey ? await runs.findByIdempotencyKey(run.idempotencyKey) : undefined;
        if (existing) return { run: await view(sameRequest(existing, run.requestHash ?? undefined)), created: false };
        throw err;
      }
      enqueue(run).catch((err: unknown) => deps.logger?.warn({ err, runId: run.id }, 'job run stored but not queued yet; the worker reconcile will queue it'));
      return { run: await view(run, stored.ctx, stored.position), created: true };
    },

    /** Resolves once every stored run handed to the queue so far has been enqueued (or failed to). */
    settled(): Promise<void> {
      return enqueue.idle();
    },

    async getRun(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:read');
      const run = await load(id, actor);
      return redactRun(await view(run), await hiddenCredentials(actor, [run.credentialId]));
    },

    /** Runs in the actor's team scope; a filter by a credential outside it matches nothing. */
    async listRuns(actor: Actor, query: Record<string, unknown> & { limit?: number; cursor?: string; sort?: string }) {
      requirePermission(actor, 'jobs:read');
      const keys = parseSort(query.sort, RUN_SORTS, 'id', '-created_at');
      const byCredential = Object.entries(query)
        .filter(([k]) => k === 'credential_id' || k.startsWith('credential_id__'))
        .flatMap(([, v]) => [v].flat().flatMap((x) => (typeof x === 'string' ? x.split(',') : [])));
      if ((await hiddenCredentials(actor, byCredential)).size > 0) return { items: [], next_cursor: null };
      const page = await runs.list(teamScope(actor), parseFilters(query, RUN_FILTERS), keys, query.cursor, query.limit ?? 50);
      const ctx = page.items.some((r) => r.status === 'queued') ? await queueContext() : undefined;
      const hidden = await hiddenCredentials(
        actor,
        page.items.map((r) => r.credentialId),
      );
      return { items: await Promise.all(page.items.map(async (r) => redactRun(await view(r, ctx), hidden))), next_cursor: page.next_cursor };
    },

    /** Queued: cancelled at once. Running: flagged and signalled; its worker stops it within a heartbeat. */
    async cancelRun(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:run');
      const run = await load(id, actor);
      if (isTerminal(run.status)) throw new ConflictError('JOB_RUN_FINISHED', `Job run ${id} already ended (${run.status})`);
      const now = nowIso();
      const direct = await deps.unitOfWork(async ({ runs: tx, db }) => {
        const cancelled = await tx.cancelQueued(id, now);
        if (!cancelled) await tx.requestCancel(id, now);
        await deps.audit?.record(db, {
          actor,
          action: 'job_run.cancelled',
          resourceType: 'job_run',
          resourceId: id,
          outcome: 'success',
          changes: { status: run.status },
        });
        return cancelled;
      });
      if (direct) {
        deps.onFinished?.(run.type, 'cancelled', null);
        await deps.bus.publish(`job-run:${id}`, { kind: 'status', status: 'cancelled', reason: 'cancelled before it started', attempt: run.attempt });
      } else await deps.bus.publish(CANCEL_CHANNEL, { runId: id });
      return view(await load(id));
    },

    /** A new run from a finished one; by default only the targets that did not succeed. */
    async retryRun(actor: Actor, id: string, onlyFailed = true) {
      requirePermission(actor, 'jobs:run');
      const source = await load(id, actor);
      if (!isTerminal(source.status)) throw new ConflictError('JOB_RUN_NOT_FINISHED', `Job run ${id} has not ended yet`);
      const rows = await runs.targets(id);
      const targets = rows.filter((t) => !onlyFailed || t.status !== 'succeeded');
      // Selectors never resolved (the run was refused before): the retry resolves them afresh.
      const unresolved = rows.length === 0 && (source.targets as TargetSpec[]).some(isSelector);
      if (targets.length === 0 && !unresolved) throw new ConflictError('JOB_RUN_NOTHING_TO_RETRY', 'Every target of this run succeeded');
      // A retry is a new run by this actor: the same rules as creating one.
      checkAdhoc(actor, (unresolved ? source.targets : targets.filter((t) => !t.deviceId && t.host !== 'local').map((t) => t.host)) as TargetSpec[]);
      if (source.credentialId) await checkCredentialUse(actor, source.credentialId, 'body');
      await checkActive(actor);
      const now = nowIso();
      const run: Run = {
        ...source,
        id: newId(),
        status: 'queued',
        retryOf: id,
        attempt: 0,
        idempotencyKey: null,
        requestHash: null,
        expiresAt: null,
        notBefore: null,
        ...unstartedState(now),
        triggerKind: actor.kind === 'system' ? 'system' : actor.kind,
        triggeredBy: actor.id,
        ...initiatorOf(actor),
        targets: unresolved ? source.targets : targets.map((t) => (t.deviceId ? { device_id: t.deviceId } : t.host)),
      };
      return (
        await service.insertRun(
          actor,
          run,
          targets.map((t) => ({
            host: t.host,
            deviceId: t.deviceId,
            deviceName: t.deviceName,
            networkDriver: t.networkDriver,
            selector: t.selector,
            credentialId: t.credentialId,
            credentialProfileId: t.credentialProfileId,
            credentialSource: t.credentialSource as TargetIdentity['credentialSource'],
          })),
        )
      ).run;
    },

    async logs(actor: Actor, id: string, after: number, limit: number) {
      requirePermission(actor, 'jobs:read');
      await load(id, actor);
      const lines = await deps.logs.read(id, after, limit + 1);
      const items = lines.slice(0, limit).map(logView);
      return { items, next_cursor: lines.length > limit ? String(items[items.length - 1]!.seq) : null };
    },

    async output(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:read');
      const run = await load(id, actor);
      const targets = await runs.targets(id);
      const hidden = await hiddenCredentials(
        actor,
        targets.flatMap((t) => [t.credentialId, t.credentialProfileId]),
      );
      return {
        run_id: id,
        status: run.status,
        report: (run.output as { report?: unknown } | null)?.report ?? null,
        targets: targets.map((t) => redactTarget(targetView(t), hidden)),
      };
    },

    /** What the run's selectors matched, device by device, and which credential served each (empty until the run executes). */
    async targets(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:read');
      const run = await load(id, actor);
      const rows = await runs.targets(id);
      const hidden = await hiddenCredentials(
        actor,
        rows.flatMap((t) => [t.credentialId, t.credentialProfileId]),
      );
      return {
        run_id: id,
        resolved: rows.length > 0 || !(run.targets as TargetSpec[]).some(isSelector),
        items: rows.map((t) => redactTarget(runTargetView(t), hidden)),
      };
    },

    async deleteLogs(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:admin');
      const run = await load(id, actor);
      if (!isTerminal(run.status)) throw new ConflictError('JOB_RUN_NOT_FINISHED', 'Logs of a run that has not ended cannot be cleared');
      const deleted = await deps.logs.deleteForRun(id);
      await deps.audit?.record(deps.db, {
        actor,
        action: 'job_run.logs_deleted',
        resourceType: 'job_run',
        resourceId: id,
        outcome: 'success',
        changes: { lines: deleted },
      });
      return { deleted };
    },

    async clearFinishedLogs(actor: Actor) {
      requirePermission(actor, 'jobs:admin');
      const deleted = await deps.logs.deleteFinished();
      await deps.audit?.record(deps.db, {
        actor,
        action: 'job_run.logs_cleared',
        resourceType: 'job_run',
        resourceId: null,
        outcome: 'success',
        changes: { lines: deleted },
      });
      return { deleted };
    },

    /** The newest finished run of a template, with its report. */
    async latestOfTemplate(actor: Actor, templateId: string) {
      requirePermission(actor, 'jobs:read');
      const run = await runs.latestFinished(templateId, teamScope(actor));
      if (!run) throw new NotFoundError('JOB_RUN_NOT_FOUND', 'This template has no finished run yet');
      return service.output(actor, run.id);
    },

    types(actor: Actor) {
      requirePermission(actor, 'jobs:read');
      return {
        items: [...deps.executors.values()].map((e) => ({
          type: e.type,
          description: e.description,
          credential: e.credential,
          targets: e.targets,
          params_schema: e.params,
          output_schema: e.output,
        })),
      };
    },

    /** Used by live logs: the run must exist and be in the actor's team scope (404 otherwise, like GET /jobs/runs/{id}). */
    async authoriseRead(actor: Actor, id: string): Promise<Run> {
      requirePermission(actor, 'jobs:read');
      return load(id, actor);
    },
    /**
     * `authoriseRead` without the run, for live streams' subscriptions and their re-check every
     * second: a run's team is fixed at creation (a retry keeps it), so it is read once per run,
     * not once per subscriber per second. A run that does not exist is not remembered.
     */
    async mayRead(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'jobs:read');
      let team = runTeams.get(id);
      if (team === undefined) {
        team = { teamId: (await load(id)).teamId };
        runTeams.set(id, team);
      }
      if (!inTeamScope(teamScope(actor), team.teamId)) throw new NotFoundError('JOB_RUN_NOT_FOUND', `Job run ${id} does not exist`);
    },
  };
  return service;
}

export type JobsService = ReturnType<typeof createJobsService>;
