import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { secretsOf, type CredentialResolver } from './credentials.js';
import type { Dispatch } from './dispatch.js';
import { errorMessage, type Executor, type ExecutorSettings } from './executors/executor.js';
import { classifyFailure } from './executors/failure.fns.js';
import type { LocksRepository } from './locks.repository.js';
import type { LogsRepository } from './logs.repository.js';
import { createRunLog, runChannel, type RunLog, type RunMessage } from './run-log.js';
import { backoffDelayMs, deviceKey, isExpired, outcomeOf, type RunStatus, type TargetStatus } from './run-state.fns.js';
import { createRunsRepository, type Run, type RunsRepository, type TargetRow } from './runs.repository.js';
import { createSecretScrubber, scrubDeep, type SecretScrubber } from '../../platform/secret-scrubber.js';
import { createTargetCredentials, type TargetCredentials } from './target-credentials.js';
import { NO_DEVICE_ADDRESS, type TargetResolver } from './targets.js';
import { initiatorOf, LeaseLost, prepareTargets, RunRefused, type InventoryFacts, type Principals } from './run-targets.js';

export interface EngineLimits {
  concurrency: number;
  perType: Readonly<Record<string, number>>;
  leaseMs: number;
  logLinesMax: number;
  deviceSessions: number;
  /** Targets a run's selectors may resolve to (OPSDECK_RUN_MAX_TARGETS). */
  maxTargets?: number;
}

export interface EngineDeps {
  db: Db;
  runs: RunsRepository;
  logs: LogsRepository;
  locks: LocksRepository;
  bus: EventBus;
  dispatch: Dispatch;
  credentials: CredentialResolver;
  executors: Map<string, Executor>;
  settings: ExecutorSettings;
  limits: EngineLimits;
  workerId: string;
  logger: Logger;
  /** Inventory selectors → devices, resolved when a run first executes. */
  targetResolver?: TargetResolver | undefined;
  /** The run's initiating principal as it is now (re-checked for `jobs:run` at execution). */
  principals?: Principals | undefined;
  /** ntc-templates lookup by platform and command, for `parse: true`. */
  parse?: ((platform: string, command: string, output: string) => Promise<unknown>) | undefined;
  /** Device facts written back to the inventory as the initiating principal. */
  inventory?: InventoryFacts | undefined;
  /** Domain events written with the terminal state (run.succeeded, run.failed …). */
  recordEvent?: (trx: Db, name: string, payload: unknown) => Promise<unknown>;
  relayEvents?: () => Promise<void>;
  /** Called once per run this engine brings to a final state (metrics); `seconds` from its first start, null if it never started. */
  onFinished?: (type: string, status: string, seconds: number | null) => void;
}

/** Why a run's work was aborted; decides the state it ends in. */
class Stop extends Error {
  constructor(
    readonly kind: 'cancelled' | 'timed_out' | 'lease_lost' | 'shutdown',
    message: string,
  ) {
    super(message);
  }
}

const OUTCOME_UNKNOWN = 'outcome unknown: the worker was lost mid-run and the run may have changed devices; review before running it again';

/**
 * Executes runs on a worker: claim (queued → running with a lease), heartbeat, targets under
 * device locks, scrubbed logs and results, then exactly one conditional write of the end state.
 */
export function createRunEngine(deps: EngineDeps) {
  const { runs, locks, limits } = deps;
  const active = new Map<string, AbortController>();
  const typeActive = new Map<string, number>();
  const parked = new Map<string, Set<string>>();
  let stopping = false;

  const publish = (runId: string, msg: RunMessage) =>
    deps.bus.publish(runChannel(runId), msg).catch((err: unknown) => deps.logger.warn({ err, runId }, 'run status publish failed'));

  async function redispatch(runId: string): Promise<void> {
    const run = await runs.find(runId);
    if (run?.status === 'queued') await deps.dispatch(run, Date.now());
  }

  function releaseType(type: string): void {
    typeActive.set(type, (typeActive.get(type) ?? 1) - 1);
    const waiting = parked.get(type);
    const next = waiting?.values().next();
    if (waiting && next && !next.done) {
      waiting.delete(next.value);
      void redispatch(next.value).catch((err: unknown) => deps.logger.warn({ err }, 'redispatch failed'));
    }
  }

  /** The queue handler: idempotent, anything but a queued, due run is a no-op. */
  async function handle(runId: string): Promise<void> {
    if (stopping) return;
    const run = await runs.find(runId);
    if (!run || run.status !== 'queued') return;
    if (isExpired(run, Date.now())) return void (await expire(run));
    const limit = limits.perType[run.type] ?? Number.POSITIVE_INFINITY;
    if ((typeActive.get(run.type) ?? 0) >= limit) {
      const set = parked.get(run.type) ?? new Set<string>();
      set.add(run.id);
      parked.set(run.type, set);
      return;
    }
    typeActive.set(run.type, (typeActive.get(run.type) ?? 0) + 1);
    try {
      const stored = await runs.targets(run.id);
      if (await allTargetsLocked(run, stored)) return;
      const now = Date.now();
      const claimed = await runs.claim(run.id, {
        owner: `${deps.workerId}/${now}/${Math.random().toString(36).slice(2, 8)}`,
        workerId: deps.workerId,
        until: new Date(now + limits.leaseMs).toISOString(),
        now: new Date(now).toISOString(),
      });
      // The rows read before the claim are the claimed attempt's only if nobody ran the run in
      // between: any claim since counted an attempt (a refunded one closed its log first).
      if (claimed) await execute(claimed, untouchedSince(run, claimed) ? stored : undefined);
    } finally {
      releaseType(run.type);
    }
  }

  /** A run none of whose devices has a free session stays queued, saying who holds them. */
  async function allTargetsLocked(run: Run, stored: readonly TargetRow[]): Promise<boolean> {
    const targets = stored.filter((t) => t.status !== 'succeeded');
    const keys = [...new Set(targets.map((t) => deviceKey({ host: t.host, deviceId: t.deviceId })))];
    if (keys.length === 0 || keys.length > 20) return false;
    const holder = await locks.allHeld(keys, limits.deviceSessions, nowIso());
    if (!holder || holder === run.id) return false;
    await runs.setBlockedBy(run.id, `device_lock: ${holder}`);
    // The holder may have released between the check and the write: look once more.
    if (!(await locks.allHeld(keys, limits.deviceSessions, nowIso()))) {
      await runs.setBlockedBy(run.id, null);
      return false;
    }
    return true;
  }

  async function execute(run: Run, stored: TargetRow[] | undefined): Promise<void> {
    const owner = run.leaseOwner!;
    const controller = new AbortController();
    const signal = controller.signal;
    active.set(run.id, controller);
    const scrubber = createSecretScrubber();
    const log = createRunLog({
      runId: run.id,
      owner,
      logs: deps.logs,
      bus: deps.bus,
      scrubber,
      maxLines: limits.logLinesMax,
      nextSeq: await nextLogSeq(run),
      dropped: run.logDropped,
      onError: (err) => deps.logger.warn({ err, runId: run.id }, 'run log write failed'),
    });
    void publish(run.id, { kind: 'status', status: 'running', reason: null, attempt: run.attempt });
    const heartbeat = setInterval(() => void renew(run, owner, controller), Math.max(200, Math.floor(limits.leaseMs / 3)));
    const runTimer = setTimeout(() => controller.abort(new Stop('timed_out', `the run exceeded its timeout of ${run.timeoutMs} ms`)), run.timeoutMs);
    let failure: string | null = null;
    let refused = false;
    // Device sessions this attempt may still hold (a lane's release failed, or it never ran them all).
    let locksLeft = true;
    const permanent = new Map<number, string>();
    try {
      log.log('info', null, `attempt ${run.attempt} of ${run.maxAttempts} started on ${deps.workerId}`);
      const executor = deps.executors.get(run.type);
      if (!executor) throw new Error(`no executor for type '${run.type}' on this worker`);
      // Authorised and resolved for the initiating principal as it is now, not as it was at creation.
      const actor = await initiatorOf(run, deps.principals);
      const all = await prepareTargets({
        run,
        owner,
        actor,
        usesCredentials: executor.credential !== 'none',
        maxTargets: limits.maxTargets ?? Number.POSITIVE_INFINITY,
        resolver: deps.targetResolver,
        runs,
        stored,
        credentials: deps.credentials,
        log,
      });
      const targets = all.filter((t) => t.status !== 'succeeded' && t.error !== NO_DEVICE_ADDRESS);
      const credentials = createTargetCredentials({
        run,
        executor,
        credentials: deps.credentials,
        actor,
        onSecret: (c) => secretsOf(c).forEach((x) => scrubber.add(x)),
      });
      locksLeft = await runTargets(run, targets, executor, { credentials, actor }, scrubber, log, signal, permanent);
    } catch (err) {
      refused = err instanceof RunRefused;
      // Another attempt holds the run now: finalize must write nothing over it.
      if (err instanceof LeaseLost && !signal.aborted) controller.abort(new Stop('lease_lost', err.message));
      failure = scrubber.scrub(errorMessage(err));
      if (!signal.aborted) log.log('error', null, failure);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(runTimer);
      active.delete(run.id);
    }
    await finalize(run, owner, signal, failure, scrubber, log, refused, permanent, locksLeft);
  }

  async function renew(run: Run, owner: string, controller: AbortController): Promise<void> {
    try {
      const until = new Date(Date.now() + limits.leaseMs).toISOString();
      const lease = await runs.renewLease(run.id, owner, until);
      if (!lease) return controller.abort(new Stop('lease_lost', 'the lease on this run was lost'));
      await locks.renew(run.id, until);
      if (lease.cancelRequested) controller.abort(new Stop('cancelled', 'cancelled on request'));
    } catch (err) {
      deps.logger.warn({ err, runId: run.id }, 'lease renewal failed');
    }
  }

  type RunScope = { credentials: TargetCredentials; actor: Actor };
  async function runTargets(
    run: Run,
    targets: TargetRow[],
    executor: Executor,
    scope: RunScope,
    scrubber: SecretScrubber,
    log: RunLog,
    signal: AbortSignal,
    permanent: Map<number, string>,
  ): Promise<boolean> {
    const waiting = [...targets];
    const shared = new Map<string, unknown>();
    let unreleased = 0;
    const lane = async () => {
      while (waiting.length > 0 && !signal.aborted) {
        unreleased++; // counted before the lock is tried: a failed try may still have taken it
        const target = await nextUnlocked(run, waiting, signal);
        if (!target) continue;
        try {
          const notRetryable = await runTarget(run, target, executor, scope, scrubber, log, signal, shared);
          if (notRetryable) permanent.set(target.idx, notRetryable);
        } finally {
          await locks.release(run.id, target.idx).then(
            () => unreleased--,
            () => undefined,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(run.targetConcurrency, targets.length) }, lane));
    return unreleased > 0;
  }

  /**
   * Takes the first waiting target whose device has a free session; waits if none has. A target
   * leaves the shared list before its lock is tried, so two lanes never take the same one.
   */
  async function nextUnlocked(run: Run, waiting: TargetRow[], signal: AbortSignal): Promise<TargetRow | undefined> {
    let delay = 50;
    for (;;) {
      let holder: string | null = null;
      const tries = waiting.length;
      for (let k = 0; k < tries && waiting.length > 0; k++) {
        const t = waiting.shift()!;
        const now = Date.now();
        const r = await locks.tryAcquire(
          deviceKey(t),
          limits.deviceSessions,
          { runId: run.id, targetIdx: t.idx },
          new Date(now + limits.leaseMs).toISOString(),
          new Date(now).toISOString(),
        );
        if (r.ok) {
          if (delay > 50) await runs.setBlockedBy(run.id, null, { owner: run.leaseOwner! });
          return t;
        }
        waiting.push(t);
        holder ??= r.heldBy;
        if (signal.aborted) return undefined;
      }
      if (waiting.length === 0 || signal.aborted) return undefined;
      await runs.setBlockedBy(run.id, `device_lock: ${holder}`, { owner: run.leaseOwner! });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(1000, delay * 2);
    }
  }

  /** Works on one target and stores its result; returns why, if it failed in a way no retry can fix. */
  async function runTarget(
    run: Run,
    t: TargetRow,
    executor: Executor,
    scope: RunScope,
    scrubber: SecretScrubber,
    log: RunLog,
    signal: AbortSignal,
    shared: Map<string, unknown>,
  ): Promise<string | null> {
    const started = Date.now();
    await runs.updateTarget(run.id, t.idx, run.leaseOwner!, {
      status: 'running',
      attempt: run.attempt,
      startedAt: new Date(started).toISOString(),
      finishedAt: null,
      error: null,
    });
    const targetSignal = AbortSignal.any([signal, AbortSignal.timeout(run.targetTimeoutMs)]);
    let status: TargetStatus;
    let fields: { output: string | null; parsed: unknown; error: string | null; credentialId?: string | null };
    let notRetryable: string | null = null;
    const { parse, inventory } = deps;
    const deviceId = t.deviceId;
    try {
      const served = await scope.credentials.run(t, (credential) =>
        executor.run(
          {
            runId: run.id,
            host: t.host,
            deviceId,
            networkDriver: t.networkDriver,
            signal: targetSignal,
            credential,
            actor: scope.actor,
            shared,
            log: (level, message) => log.log(level, t.host, message),
            ...(parse && t.networkDriver ? { parse: (command: string, output: string) => parse(t.networkDriver!, command, output) } : {}),
            ...(inventory && deviceId
              ? { updateDeviceFacts: (facts: Record<string, string>) => inventory.updateDeviceFacts(scope.actor, deviceId, facts) }
              : {}),
          },
          run.params,
          deps.settings,
        ),
      );
      const result = served.result;
      status = result.ok ? 'succeeded' : 'failed';
      fields = {
        output: scrubber.scrub(result.output),
        parsed: scrubDeep(result.parsed ?? null, scrubber),
        error: result.error ? scrubber.scrub(result.error) : null,
        credentialId: served.credentialId,
      };
      if (!result.ok && result.retryable === false) notRetryable = fields.error ?? 'failed';
    } catch (err) {
      const stop = signal.reason instanceof Stop ? signal.reason : null;
      status = stop ? (stop.kind === 'timed_out' ? 'timed_out' : 'cancelled') : targetSignal.aborted ? 'timed_out' : 'failed';
      const message = status === 'timed_out' && !stop ? `the target exceeded its timeout of ${run.targetTimeoutMs} ms` : errorMessage(stop ?? err);
      fields = { output: null, parsed: null, error: scrubber.scrub(message) };
      const failureClass = status === 'failed' ? classifyFailure(err) : null;
      if (failureClass && !failureClass.retryable) notRetryable = `${failureClass.kind}: ${fields.error}`;
    }
    const durationMs = Date.now() - started;
    log.log(status === 'succeeded' ? 'info' : 'error', t.host, `${status} in ${durationMs} ms${fields.error ? `: ${fields.error}` : ''}`);
    if (signal.reason instanceof Stop && signal.reason.kind === 'lease_lost') return null;
    await runs.updateTarget(run.id, t.idx, run.leaseOwner!, { status, finishedAt: nowIso(), durationMs, ...fields });
    return notRetryable;
  }

  async function finalize(
    run: Run,
    owner: string,
    signal: AbortSignal,
    failure: string | null,
    scrubber: SecretScrubber,
    log: RunLog,
    refused: boolean,
    permanent: ReadonlyMap<number, string>,
    locksLeft: boolean,
  ): Promise<void> {
    const stop = signal.reason instanceof Stop ? signal.reason : null;
    if (stop?.kind === 'lease_lost') {
      // Someone else recovered this run; writing anything now could overwrite their decision.
      deps.logger.warn({ runId: run.id }, 'lease lost; abandoning run');
      return;
    }
    const now = nowIso();
    const executor = deps.executors.get(run.type);
    if (stop?.kind === 'shutdown' && !run.changesDevices) {
      log.log('warn', null, 'worker shutting down; the run goes back to the queue');
      await closeLog(run, log);
      if (await runs.requeue(run.id, owner, { notBefore: now, reason: 'worker shut down; requeued', now, refundAttempt: true })) await afterRequeue(run, now);
      return;
    }
    let status: RunStatus;
    let reason: string | null = failure;
    let all: TargetRow[] | undefined; // the targets as they end, once nothing more writes them
    if (stop) {
      status = stop.kind === 'timed_out' ? 'timed_out' : stop.kind === 'cancelled' ? 'cancelled' : 'failed';
      reason = stop.kind === 'shutdown' ? `${OUTCOME_UNKNOWN} (worker shut down)` : stop.message;
      await runs.closeOpenTargets(run.id, owner, status === 'timed_out' ? 'timed_out' : status === 'cancelled' ? 'cancelled' : 'failed', reason, now);
    } else {
      if (failure) await runs.closeOpenTargets(run.id, owner, 'failed', failure, now);
      all = await runs.targets(run.id);
      // A run refused at execution (no permission any more, nothing matched) has no targets to judge by.
      status = failure && (refused || all.length === 0) ? 'failed' : outcomeOf(all.map((t) => t.status as TargetStatus));
      // Every target that did not succeed failed in a way no retry can fix: stop now, say why.
      const unfixable =
        status === 'succeeded' || refused
          ? []
          : all
              .filter((t) => t.status !== 'succeeded')
              .map((t) => permanent.get(t.idx) ?? (t.error === NO_DEVICE_ADDRESS ? `no address: ${t.deviceName ?? t.host}: ${t.error}` : undefined));
      if (refused) {
        // Fails at once with the refusal as its reason: a retry would be refused the same way.
      } else if (unfixable.length > 0 && unfixable.every((why) => why !== undefined)) {
        reason ??= `not retried: ${unfixable[0]}${unfixable.length > 1 ? ` (and ${unfixable.length - 1} more target(s) that cannot succeed on retry)` : ''}`;
      } else if (status !== 'succeeded' && run.attempt < run.maxAttempts) {
        const delay = backoffDelayMs(run.backoffMs, run.attempt);
        const notBefore = new Date(Date.now() + delay).toISOString();
        const failedCount = all.filter((t) => t.status !== 'succeeded').length;
        log.log('warn', null, `attempt ${run.attempt} ${status}; retrying ${failedCount} target(s) after ${delay} ms`);
        await closeLog(run, log);
        if (await runs.requeue(run.id, owner, { notBefore, reason: `retrying after attempt ${run.attempt} ${status}`, now })) {
          await afterRequeue({ ...run, notBefore }, now);
        }
        return;
      }
    }
    all ??= await runs.targets(run.id);
    const parsed = all.filter((t) => t.status === 'succeeded').map((t) => t.parsed);
    const output = scrubDeep(
      {
        total: all.length,
        succeeded: all.filter((t) => t.status === 'succeeded').length,
        failed: all.filter((t) => t.status !== 'succeeded').length,
        report: executor?.report ? executor.report(parsed) : null,
      },
      scrubber,
    );
    log.log(status === 'succeeded' ? 'info' : 'warn', null, `run ${status}${reason ? `: ${reason}` : ''}`);
    const logState = await log.close(); // stored by the same fenced write as the end state
    const finished = await deps.db.transaction().execute(async (trx) => {
      const ok = await createRunsRepository(trx).finish(run.id, owner, status, {
        reason: reason ? scrubber.scrub(reason).slice(0, 2000) : null,
        output,
        now,
        log: logState,
      });
      if (ok && deps.recordEvent) {
        const summary = executor?.summary ? { summary: executor.summary(parsed) } : {};
        await deps.recordEvent(trx, `run.${status}`, { run_id: run.id, type: run.type, status, template_id: run.templateId, ...summary });
      }
      return ok;
    });
    await releaseLocks(run.id, locksLeft);
    if (finished) {
      deps.onFinished?.(run.type, status, run.startedAt ? Math.max(0, Date.parse(now) - Date.parse(run.startedAt)) / 1000 : null);
      void publish(run.id, { kind: 'status', status, reason, attempt: run.attempt });
      void deps.relayEvents?.().catch(() => undefined);
    }
  }

  /** queued → expired: a run still waiting at its deadline does not start late. */
  async function expire(run: Run): Promise<boolean> {
    const now = nowIso();
    const expired = await deps.db.transaction().execute(async (trx) => {
      const ok = await createRunsRepository(trx).expire(run.id, now);
      if (ok && deps.recordEvent) {
        await deps.recordEvent(trx, 'run.expired', { run_id: run.id, type: run.type, status: 'expired', template_id: run.templateId });
      }
      return ok;
    });
    if (!expired) return false;
    deps.onFinished?.(run.type, 'expired', null);
    deps.logger.info({ runId: run.id, expiresAt: run.expiresAt }, 'run expired before it started');
    void publish(run.id, { kind: 'status', status: 'expired', reason: 'expired: still queued at its deadline (expires_at)', attempt: run.attempt });
    void deps.relayEvents?.().catch(() => undefined);
    return true;
  }

  /**
   * The claimed attempt's first log sequence number. `log_next_seq` is stored when an attempt ends
   * normally; an attempt that did not (a lost worker, a lost lease) may have stored lines past it,
   * and the run was then recovered or retried without refunding the attempt, so the table is read
   * only for a run on its second attempt or later.
   */
  async function nextLogSeq(run: Run): Promise<number> {
    if (run.attempt <= 1) return run.logNextSeq;
    return Math.max(run.logNextSeq, (await deps.logs.maxSeq(run.id)) + 1);
  }

  /** Nobody claimed the run between the read of `before` and the claim that returned `claimed`. */
  function untouchedSince(before: Run, claimed: Run): boolean {
    return claimed.attempt === before.attempt + 1 && claimed.logNextSeq === before.logNextSeq;
  }

  async function closeLog(run: Run, log: RunLog): Promise<void> {
    const state = await log.close();
    await runs.setLogState(run.id, run.leaseOwner!, state.nextSeq, state.dropped);
  }

  async function afterRequeue(run: Run, now: string): Promise<void> {
    await releaseLocks(run.id);
    void publish(run.id, { kind: 'status', status: 'queued', reason: 'retrying', attempt: run.attempt });
    const fresh = await runs.find(run.id);
    if (fresh?.status === 'queued') await deps.dispatch(fresh, Date.parse(now));
  }

  /**
   * Frees the run's device sessions and wakes the runs that were waiting for them. `held` false:
   * every lane released what it took (the common end of a run), so there is nothing to delete.
   */
  async function releaseLocks(runId: string, held = true): Promise<void> {
    if (held) await locks.releaseRun(runId);
    for (const waiting of await runs.blockedOn(runId)) {
      await runs.setBlockedBy(waiting.id, null);
      await redispatch(waiting.id);
    }
  }

  return {
    handle,
    expire,
    releaseLocks,
    /** Aborts a run executing on this worker (cancel arrives over the bus). */
    cancelLocal(runId: string): boolean {
      const c = active.get(runId);
      if (!c) return false;
      c.abort(new Stop('cancelled', 'cancelled on request'));
      return true;
    },
    activeCount: () => active.size,
    /** Takes runs again after `stop` (a worker restarted in the same process). */
    resume(): void {
      stopping = false;
    },
    /** Stops taking runs; aborts runs still going after `graceMs` (safe ones are requeued). */
    async stop(graceMs: number): Promise<void> {
      stopping = true;
      const deadline = Date.now() + graceMs;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const c of active.values()) c.abort(new Stop('shutdown', 'worker shutting down'));
    },
    outcomeUnknown: OUTCOME_UNKNOWN,
  };
}

export type RunEngine = ReturnType<typeof createRunEngine>;
