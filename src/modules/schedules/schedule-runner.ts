import type { Actor } from '../../platform/http/auth.js';

/**
 * What the scheduler needs from the jobs module, and nothing more. `modules.ts` adapts the jobs
 * module's index.ts to it; tests use a database-backed double. Keeping the port this narrow lets
 * the scheduler later start workflows through a second adapter.
 */
export interface ScheduleRunner {
  /**
   * Whether the template exists for the actor; throws (403, 422) when it does but they may not run
   * it (no `jobs:run`, or its credential is not theirs to use).
   */
  templateExists(actor: Actor, templateId: string): Promise<boolean>;
  /**
   * Creates a run of the template with `trigger: schedule` and the schedule id. The same
   * `idempotencyKey` must return the run already created for it, never a second one: this is
   * how a tick claimed by a process that died before enqueueing is repaired without doubling.
   */
  runTemplate(actor: Actor, templateId: string, options: RunOptions): Promise<{ runId: string }>;
  /** Runs this schedule created that have not reached a terminal state. */
  activeRunsOfSchedule(scheduleId: string): Promise<number>;
  /** Current status of the given runs (missing ids were deleted). */
  runStatuses(runIds: readonly string[]): Promise<Map<string, { status: string; finishedAt: string | null }>>;
}

export interface RunOptions {
  overrides: Record<string, unknown>;
  scheduleId: string;
  idempotencyKey: string;
}

/** Time and timers, injected so tests move time instead of sleeping. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The scheduler's timer alone must not keep a process alive.
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
