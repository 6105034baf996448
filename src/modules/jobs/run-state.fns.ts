/**
 * The run state machine and the pure rules around it. Transitions are one-way:
 *   queued → running | cancelled | expired (still queued at its `expires_at`)
 *   running → succeeded | failed | partially_failed | cancelled | timed_out | queued (retry)
 * A terminal state is never left. Every write in runs.repository.ts is conditional on the
 * state (and lease) it expects, so a late heartbeat or a recovered worker cannot overwrite one.
 */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'partially_failed', 'cancelled', 'timed_out', 'expired'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'partially_failed', 'cancelled', 'timed_out', 'expired'];

export const TARGET_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

export const TRIGGER_KINDS = ['user', 'api_key', 'schedule', 'workflow', 'webhook', 'system'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

const ALLOWED: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'cancelled', 'expired'],
  running: ['succeeded', 'failed', 'partially_failed', 'cancelled', 'timed_out', 'queued'],
  succeeded: [],
  failed: [],
  partially_failed: [],
  cancelled: [],
  timed_out: [],
  expired: [],
};

/** Whether a queued run is past its deadline and must end `expired` rather than start late. */
export function isExpired(run: { status: string; expiresAt: string | null }, now: number): boolean {
  return run.status === 'queued' && run.expiresAt !== null && Date.parse(run.expiresAt) <= now;
}

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Statuses a transition to `to` may start from: the WHERE clause of every state write. */
export function sourcesOf(to: RunStatus): RunStatus[] {
  return RUN_STATUSES.filter((from) => canTransition(from, to));
}

/** Exponential backoff with full jitter in [base·2^(n-1)/2, base·2^(n-1)], capped at an hour. */
export function backoffDelayMs(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The outcome of a finished attempt from its targets' outcomes. */
export function outcomeOf(targets: readonly TargetStatus[]): 'succeeded' | 'failed' | 'partially_failed' {
  const ok = targets.filter((s) => s === 'succeeded').length;
  if (ok === targets.length) return 'succeeded';
  return ok === 0 ? 'failed' : 'partially_failed';
}

export interface BlockedInputs {
  status: string;
  attempt: number;
  notBefore: string | null;
  /** Stored by the engine: `device_lock: <run id>`. */
  storedBlockedBy: string | null;
  liveWorkers: number;
  /** Runs running now, overall and of this run's type. */
  running: number;
  runningOfType: number;
  capacity: number;
  typeLimit: number;
  /** Queued runs ahead of this one (0 = next). */
  position: number;
  now: number;
}

/**
 * Why a queued run is not running yet, in the order a person would want to know it. Never null
 * for a queued run: `dispatching` covers the moment between enqueue and pick-up.
 */
export function blockedBy(i: BlockedInputs): string | null {
  if (i.status !== 'queued') return i.status === 'running' && i.storedBlockedBy ? i.storedBlockedBy : null;
  if (i.notBefore && Date.parse(i.notBefore) > i.now) {
    return i.attempt > 0 ? `retry_backoff until ${i.notBefore}` : `scheduled_for ${i.notBefore}`;
  }
  if (i.storedBlockedBy) return i.storedBlockedBy;
  if (i.liveWorkers === 0) return 'no_worker';
  if (i.running >= i.capacity || i.runningOfType >= i.typeLimit || i.position > 0) return 'concurrency_limit';
  return 'dispatching';
}

/** Device lock key: the inventory id when known, else the host, so one box is one key. */
export function deviceKey(target: { host: string; deviceId: string | null }): string {
  return target.deviceId ? `device:${target.deviceId}` : `host:${target.host.toLowerCase()}`;
}

/** What is queued ahead, per priority: the count before the batch's oldest run, and the queued ids from it on. */
export interface QueueBefore {
  ahead: ReadonlyMap<number, number>;
  tail: ReadonlyMap<number, readonly string[]>;
}

/** The rows of `runs.positionsRead` (a count row with id null, then one row per queued id) as a `QueueBefore`. */
export function queueBefore(rows: readonly { priority: number | string; id: string | null; n: number | string }[]): QueueBefore {
  const ahead = new Map<number, number>();
  const tail = new Map<number, string[]>();
  for (const row of rows) {
    const priority = Number(row.priority);
    if (row.id === null) ahead.set(priority, Number(row.n));
    else tail.set(priority, [...(tail.get(priority) ?? []), row.id]);
  }
  return { ahead, tail };
}

/**
 * Queue positions (0 = next: higher priority first, then older ids): what is queued ahead of
 * each run, plus the `unwritten` runs ahead of it — runs ranked from the state before their own
 * write (a batch of new runs) are in no tail yet. Stored runs pass none: they are in the tail.
 */
export function rankQueued(
  runs: readonly { id: string; priority: number }[],
  before: QueueBefore,
  unwritten: readonly { id: string; priority: number }[] = runs,
): number[] {
  return runs.map((r) => {
    const queued = (before.ahead.get(r.priority) ?? 0) + (before.tail.get(r.priority) ?? []).filter((id) => id < r.id).length;
    return queued + unwritten.filter((o) => o.priority > r.priority || (o.priority === r.priority && o.id < r.id)).length;
  });
}
