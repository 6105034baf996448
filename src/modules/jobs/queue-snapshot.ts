import type { LocksRepository } from './locks.repository.js';
import type { Run, RunsRepository } from './runs.repository.js';

/** The counts behind a queued run's `blocked_by` and a new run's estimated position. */
export interface QueueSnapshot {
  workers: { count: number; capacity: number };
  /** Running runs per type, and in all. */
  running: Map<string, number>;
  total: number;
  /** Queued runs per priority when counted, and the runs this node stored since (`noteStored`). */
  queued: Map<number, number>;
  storedSince: Map<number, number>;
}

/** How long one count of the queue serves: a burst of creates or a list page does not recount. */
export const SNAPSHOT_MAX_AGE_MS = 250;

/**
 * The queue counts, taken at most every `SNAPSHOT_MAX_AGE_MS` and shared by every caller
 * meanwhile (a failed count is not kept). Workers not seen for `workerStaleMs` are gone.
 */
export function createQueueSnapshots(deps: {
  runs: Pick<RunsRepository, 'runningCounts' | 'queuedCounts'>;
  locks: Pick<LocksRepository, 'liveWorkers'>;
  workerStaleMs: number;
  clock?: () => number;
}) {
  const clock = deps.clock ?? Date.now;
  let cached: { at: number; value: Promise<QueueSnapshot> } | null = null;
  return function current(): Promise<QueueSnapshot> {
    if (cached && clock() - cached.at < SNAPSHOT_MAX_AGE_MS) return cached.value;
    const value = Promise.all([
      deps.locks.liveWorkers(new Date(clock() - deps.workerStaleMs).toISOString()),
      deps.runs.runningCounts(),
      deps.runs.queuedCounts(),
    ]).then(([workers, running, queued]) => ({
      workers,
      running,
      total: [...running.values()].reduce((a, b) => a + b, 0),
      queued,
      storedSince: new Map<number, number>(),
    }));
    cached = { at: clock(), value };
    value.catch(() => (cached = null));
    return value;
  };
}

export type QueueSnapshots = ReturnType<typeof createQueueSnapshots>;

/** Queued runs at or above each priority of `list`: the snapshot's count plus what this node stored since. */
export function estimateAhead(snapshot: QueueSnapshot, list: readonly Pick<Run, 'priority'>[]): Map<number, number> {
  const ahead = new Map<number, number>();
  for (const priority of new Set(list.map((r) => r.priority))) {
    let n = 0;
    for (const counts of [snapshot.queued, snapshot.storedSince]) for (const [p, c] of counts) if (p >= priority) n += c;
    ahead.set(priority, n);
  }
  return ahead;
}

/** Counts `list` as stored since the snapshot, for the next estimate. */
export function noteStored(snapshot: QueueSnapshot, list: readonly Pick<Run, 'priority'>[]): void {
  for (const r of list) snapshot.storedSince.set(r.priority, (snapshot.storedSince.get(r.priority) ?? 0) + 1);
}
