import { LRUCache } from 'lru-cache';
import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Db } from '../../platform/db/database.js';
import { ConflictError, NotFoundError, TooManyRequestsError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { AuditRecorder } from './audit.js';
import type { CredentialResolver } from './credentials.js';
import type { RunOffers } from './dispatch.js';
import type { Executor, ExecutorSettings } from './executors/executor.js';
import { RUN_FILTERS, RUN_SORTS, type TargetSpec } from './jobs.schemas.js';
import { logView, runTargetView, runView, targetView } from './jobs.views.fns.js';
import type { LogsRepository } from './logs.repository.js';
import type { NewRunsRepository } from './new-runs.repository.js';
import type { QueueSnapshot, QueueSnapshots } from './queue-snapshot.js';
import {
  checkAdhoc,
  checkRequest,
  checkTargets,
  hostTargets,
  idempotencyKeyOf,
  initiatorOf,
  invalid,
  planRetry,
  planRun,
  sameRequest,
  UNLIMITED,
  type CreateRunOptions,
  type NewTarget,
  type RunInput,
  type RunLimits,
} from './run-plan.fns.js';
import { blockedBy, isTerminal } from './run-state.fns.js';
import type { Run, RunsRepository } from './runs.repository.js';
import { isSelector, type TargetResolver } from './targets.js';
import { inTeamScope, teamScope } from '../../platform/db/team-scope.js';

export type { AuditEntry, AuditRecorder } from './audit.js';
export type { CreateRunOptions, RunInput, RunLimits } from './run-plan.fns.js';

export interface JobsServiceDeps {
  /** Called once per run cancelled while still queued (the engine and the worker report the other endings). */
  onFinished?: (type: string, status: string, seconds: number | null) => void;
  runs: RunsRepository;
  /** Where new runs are stored (batched, with their audit entries and queue position). */
  newRuns: NewRunsRepository;
  /** The queue counts behind `blocked_by` (shared for 250 ms). */
  snapshots: QueueSnapshots;
  /** Puts stored runs on the queue after their creator has its answer. */
  offers: RunOffers;
  /** Asks the worker running a run to stop it (the worker's cancel channel). */
  signalCancel: (runId: string) => Promise<void>;
  logs: LogsRepository;
  db: Db;
  unitOfWork: <T>(work: (repos: { runs: RunsRepository; db: Db }) => Promise<T>) => Promise<T>;
  bus: EventBus;
  executors: Map<string, Executor>;
  settings: ExecutorSettings;
  credentials: CredentialResolver;
  targetResolver?: TargetResolver | undefined;
  audit?: AuditRecorder | undefined;
  limits: { concurrency: number; perType: Readonly<Record<string, number>> };
  /** Per-run bounds and the per-person concurrency limit (OPSDECK_RUN_MAX_*). */
  runLimits?: RunLimits | undefined;
}

/** Runs: create (ad hoc or from a template), read, cancel, retry, logs and output. */
export function createJobsService(deps: JobsServiceDeps) {
  const { runs } = deps;
  const runLimits = deps.runLimits ?? UNLIMITED;

  /** The team of runs live streams watch (see `mayRead`). */
  const runTeams = new LRUCache<string, { teamId: string | null }>({ max: 10_000 });

  /** The run if it exists and, given an actor, is in their team scope: another team's run is absent (404). */
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

  async function view(run: Run, ctx?: QueueSnapshot, knownPosition?: number) {
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
    const c = ctx ?? (await deps.snapshots());
    const position = knownPosition ?? (await deps.newRuns.positionOf(run));
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

  /** Stores a planned run and offers it to the queue once stored; an idempotency race answers the winner's run. */
  async function store(actor: Actor, run: Run, targets: NewTarget[]) {
    let stored: { position: number; snapshot: QueueSnapshot };
    try {
      stored = await deps.newRuns.insertRun(actor, run, targets);
    } catch (err) {
      // Two requests with one idempotency key raced: the loser answers with the winner's run.
      const existing = run.idempotencyKey ? await runs.findByIdempotencyKey(run.idempotencyKey) : undefined;
      if (existing) return { run: await view(sameRequest(existing, run.requestHash)), created: false };
      throw err;
    }
    deps.offers.offer(run);
    return { run: await view(run, stored.snapshot, stored.position), created: true };
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

    /**
     * A new run: with an idempotency key a repeat returns the first run. Otherwise the request is
     * checked (parameters, targets, credential, the person's limit), planned and stored; it goes
     * on the queue after the answer.
     */
    async createRun(actor: Actor, input: RunInput, options: CreateRunOptions = {}): Promise<{ run: Awaited<ReturnType<typeof view>>; created: boolean }> {
      requirePermission(actor, 'jobs:run');
      const idempotencyKey = idempotencyKeyOf(actor, options);
      const existing = idempotencyKey ? await runs.findByIdempotencyKey(idempotencyKey) : undefined;
      if (existing) return { run: await view(sameRequest(existing, options.requestHash)), created: false };
      const executor = service.executor(input.type);
      const specs = input.targets ?? [];
      const params = checkRequest(executor, input, deps.settings, Date.now());
      const ruleErrors = (await executor.validate?.(actor, params)) ?? [];
      if (ruleErrors.length > 0) invalid('JOB_PARAMS_INVALID', `Parameters do not match the '${executor.type}' rules`, ruleErrors);
      checkTargets(actor, executor, params, specs, runLimits);
      await checkCredential(actor, executor, input.credential_id, specs);
      const targets = hostTargets(executor, specs, await checkSelectors(actor, specs, 'body.targets'));
      await checkActive(actor);
      const teamId = await runTeam(actor, input.credential_id, options.templateTeamId);
      const run = planRun({ id: newId(), now: nowIso(), actor, executor, input, params, options, idempotencyKey, teamId });
      return store(actor, run, targets);
    },

    /** Resolves once every stored run handed to the queue so far has been enqueued (or failed to). */
    settled(): Promise<void> {
      return deps.offers.settled();
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
      const ctx = page.items.some((r) => r.status === 'queued') ? await deps.snapshots() : undefined;
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
      } else await deps.signalCancel(id);
      return view(await load(id));
    },

    /** A new run from a finished one; by default only the targets that did not succeed. */
    async retryRun(actor: Actor, id: string, onlyFailed = true) {
      requirePermission(actor, 'jobs:run');
      const source = await load(id, actor);
      if (!isTerminal(source.status)) throw new ConflictError('JOB_RUN_NOT_FINISHED', `Job run ${id} has not ended yet`);
      const plan = planRetry({ id: newId(), now: nowIso(), actor, source, rows: await runs.targets(id), onlyFailed });
      if (!plan) throw new ConflictError('JOB_RUN_NOTHING_TO_RETRY', 'Every target of this run succeeded');
      // A retry is a new run by this actor: the same rules as creating one.
      checkAdhoc(actor, plan.adhoc);
      if (source.credentialId) await checkCredentialUse(actor, source.credentialId, 'body');
      await checkActive(actor);
      return (await store(actor, plan.run, plan.targets)).run;
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
