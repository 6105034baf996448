import type { BusLogger, EventBus } from './event-bus.js';
import { createMemoryBus } from './memory-bus.js';
import { createRedisBus } from './redis-bus.js';

export type { BusHandler, BusLogger, EventBus } from './event-bus.js';
export { createMemoryBus } from './memory-bus.js';
export { createRedisBus } from './redis-bus.js';

export interface EventBusOptions {
  /** Set in cluster mode; without it the bus is in-process. */
  redisUrl?: string;
  prefix?: string;
  logger?: BusLogger;
}

/** Builds the event bus for the deployment mode: Redis pub/sub when a Redis URL is configured, in-process otherwise. */
export function createEventBus(options: EventBusOptions = {}): EventBus {
  if (options.redisUrl) {
    return createRedisBus({ url: options.redisUrl, prefix: options.prefix, logger: options.logger });
  }
  return createMemoryBus({ logger: options.logger });
}
