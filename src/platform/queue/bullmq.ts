import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { assertJobId, assertRegistryComplete, type EnqueueOptions, type JobMap, type JobQueue, type JobRegistry, type WorkerOptions } from './job-queue.js';

export interface BullmqQueueOptions {
  url: string;
  /** Redis key prefix, so deployments (and test files) sharing a Redis stay apart. */
  prefix?: string;
  queueName?: string;
  /** How long a worker's lock on a job lasts without renewal; a dead worker's jobs stall after it. */
  lockDurationMs?: number;
  onError?: (err: unknown) => void;
}

function connection(url: string, onError: (err: unknown) => void): Redis {
  // BullMQ needs maxRetriesPerRequest: null so blocking commands survive reconnects.
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  redis.on('error', onError);
  return redis;
}

/** BullMQ priorities: 1 is the highest and 0 means none; ours are 1 (lowest) to 10 (highest). */
export function toBullPriority(priority: number | undefined): number | undefined {
  return priority === undefined ? undefined : 11 - Math.min(10, Math.max(1, Math.round(priority)));
}

/**
 * The cluster queue on BullMQ. The only file that imports bullmq. Jobs carry ids only and are
 * removed when done: the database is the record, and `onReconnect` lets owners re-add what a
 * Redis restart lost.
 */
function bullOptions(opts: EnqueueOptions) {
  assertJobId(opts.jobId);
  const priority = toBullPriority(opts.priority);
  return {
    jobId: opts.jobId,
    ...(priority ? { priority } : {}),
    ...(opts.delayMs && opts.delayMs > 0 ? { delay: Math.ceil(opts.delayMs) } : {}),
    removeOnComplete: true,
    removeOnFail: true,
    attempts: 1,
  };
}

export function createBullmqQueue<M extends JobMap>(options: BullmqQueueOptions): JobQueue<M> {
  const onError = options.onError ?? (() => undefined);
  const name = options.queueName ?? 'opsdeck-jobs';
  const prefix = options.prefix ?? 'opsdeck';
  const producer = connection(options.url, onError);
  const queue = new Queue(name, { connection: producer, prefix });
  queue.on('error', onError);
  const listeners: (() => void)[] = [];
  let seenReady = false;
  // The first 'ready' is the initial connect; later ones follow a lost connection (Redis restart).
  producer.on('ready', () => {
    if (seenReady) for (const l of listeners) l();
    seenReady = true;
  });
  let worker: Worker | undefined;
  let workerConnection: Redis | undefined;

  return {
    kind: 'bullmq',
    async enqueue(jobName, payload, opts: EnqueueOptions) {
      await queue.add(jobName, payload, bullOptions(opts));
    },
    async enqueueMany(jobs) {
      if (jobs.length > 0) await queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.payload, opts: bullOptions(j.options) })));
    },
    async startWorker(registry: JobRegistry<M>, workerOptions: WorkerOptions) {
      assertRegistryComplete(registry as JobRegistry<JobMap>);
      workerConnection = connection(options.url, onError);
      worker = new Worker(
        name,
        async (job: Job) => {
          const handler = registry.handler(job.name);
          if (!handler) throw new Error(`no handler for job '${job.name}'`);
          await handler(job.data, { id: job.id ?? '', name: job.name });
        },
        {
          connection: workerConnection,
          prefix,
          concurrency: workerOptions.concurrency,
          ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs, stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)) } : {}),
        },
      );
      worker.on('error', onError);
      await worker.waitUntilReady();
      for (const l of listeners) l();
    },
    async drain() {
      await worker?.close();
      worker = undefined;
    },
    onReconnect(listener) {
      listeners.push(listener);
    },
    async close() {
      await worker?.close();
      await queue.close();
      producer.disconnect();
      workerConnection?.disconnect();
    },
  };
}
