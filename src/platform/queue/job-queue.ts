/**
 * The queue port. A queue dispatches small typed messages (`{ runId }`, not work state) to
 * worker processes. It is a dispatch mechanism, not the record: owners keep their state in the
 * database and can rebuild the queue from it (`onReconnect`), so losing the queue's contents
 * (a process restart, a Redis restart) loses nothing. Delivery is at-least-once; handlers are
 * idempotent.
 */

/** Job names to payload types; one map per deployment, declared where the jobs are. */
export type JobMap = Record<string, unknown>;

export interface EnqueueOptions {
  /** Dedupe key: adding a job whose id is still waiting or active is a no-op. No ':' allowed. */
  jobId: string;
  /** 1 (lowest) to 10 (highest); higher runs first. */
  priority?: number;
  /** Earliest start, relative to now. */
  delayMs?: number;
}

export interface EnqueueRequest<M extends JobMap, N extends keyof M & string = keyof M & string> {
  name: N;
  payload: M[N];
  options: EnqueueOptions;
}

export type JobHandler<P> = (payload: P, job: { id: string; name: string }) => Promise<void>;

export interface WorkerOptions {
  /** In-flight jobs this process runs at once. */
  concurrency: number;
}

export interface JobQueue<M extends JobMap = JobMap> {
  readonly kind: 'embedded' | 'bullmq';
  enqueue<N extends keyof M & string>(name: N, payload: M[N], options: EnqueueOptions): Promise<void>;
  /** Several jobs in one round trip (BullMQ `addBulk`); same dedupe rules as `enqueue`. */
  enqueueMany<N extends keyof M & string>(jobs: readonly EnqueueRequest<M, N>[]): Promise<void>;
  /** Starts consuming (worker role only). Fails if a registered name has no handler. */
  startWorker(registry: JobRegistry<M>, options: WorkerOptions): Promise<void>;
  /** Stops taking jobs and waits for in-flight handlers to finish. */
  drain(): Promise<void>;
  /** Called whenever the backing store (re)connects, so owners can re-enqueue from the database. */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * The handlers a process can run, registered once each. `startWorker` refuses a registry whose
 * declared names lack a handler, so a job can never sit in the queue with nobody to run it.
 */
export interface JobRegistry<M extends JobMap> {
  register<N extends keyof M & string>(name: N, handler: JobHandler<M[N]>): void;
  handler(name: string): JobHandler<unknown> | undefined;
  /** Names declared but not registered. */
  missing(): string[];
}

export function createJobRegistry<M extends JobMap>(declared: readonly (keyof M & string)[]): JobRegistry<M> {
  const handlers = new Map<string, JobHandler<unknown>>();
  return {
    register(name, handler) {
      if (!declared.includes(name)) throw new Error(`job '${name}' is not declared in the job map`);
      if (handlers.has(name)) throw new Error(`job '${name}' already has a handler`);
      handlers.set(name, handler as JobHandler<unknown>);
    },
    handler: (name) => handlers.get(name),
    missing: () => declared.filter((n) => !handlers.has(n)),
  };
}

export function assertRegistryComplete(registry: JobRegistry<JobMap>): void {
  const missing = registry.missing();
  if (missing.length > 0) throw new Error(`no handler registered for job(s): ${missing.join(', ')}`);
}

export function assertJobId(jobId: string): void {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(jobId)) throw new Error(`invalid job id '${jobId}': letters, digits, '.', '_', '-' only`);
}
