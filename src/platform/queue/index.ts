import { createBullmqQueue } from './bullmq.js';
import { createEmbeddedQueue } from './embedded.js';
import type { JobMap, JobQueue } from './job-queue.js';

export * from './job-queue.js';
export { createEmbeddedQueue } from './embedded.js';

export interface QueueFactoryOptions {
  /** Set in cluster mode: BullMQ on this Redis; unset: the embedded queue. */
  redisUrl?: string;
  prefix?: string;
  lockDurationMs?: number;
  onError?: (err: unknown) => void;
}

/** The queue for the deployment mode: BullMQ when Redis is configured, embedded otherwise. */
export function createJobQueue<M extends JobMap>(options: QueueFactoryOptions): JobQueue<M> {
  if (options.redisUrl) {
    return createBullmqQueue<M>({
      url: options.redisUrl,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }
  return createEmbeddedQueue<M>({ onHandlerError: (err) => options.onError?.(err) });
}
