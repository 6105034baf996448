import { consoleBusLogger, invokeHandler, isPattern, type BusHandler, type BusLogger, type EventBus } from './event-bus.js';

export interface MemoryBusOptions {
  logger?: BusLogger;
}

interface Subscription {
  readonly name: string;
  readonly handler: BusHandler;
  active: boolean;
}

/** In-process event bus for single-node mode; same semantics as the Redis bus, minus the network. */
export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const logger = options.logger ?? consoleBusLogger;
  const exact = new Map<string, Set<Subscription>>();
  const patterns = new Map<string, Set<Subscription>>();
  let closed = false;

  function matching(channel: string): Subscription[] {
    const found = [...(exact.get(channel) ?? [])];
    for (const [pattern, subs] of patterns) {
      if (channel.startsWith(pattern.slice(0, -1))) {
        found.push(...subs);
      }
    }
    return found;
  }

  function assertOpen(): void {
    if (closed) {
      throw new Error('event bus is closed');
    }
  }

  return {
    async publish(channel, message) {
      assertOpen();
      // Serialise now, like the Redis bus does, so a non-JSON message fails at the publisher
      // and subscribers get a private copy with the same shape they would get over Redis.
      const payload = JSON.stringify(message);
      if (payload === undefined) {
        throw new TypeError(`event bus message on '${channel}' is not JSON-serialisable`);
      }
      const targets = matching(channel);
      if (targets.length === 0) {
        return;
      }
      // setImmediate callbacks run FIFO, which keeps publish order per channel, and a handler
      // that publishes in a loop cannot starve I/O the way a microtask chain would.
      setImmediate(() => {
        const decoded: unknown = JSON.parse(payload);
        for (const sub of targets) {
          if (sub.active && !closed) {
            invokeHandler(sub.handler, decoded, channel, logger);
          }
        }
      });
    },

    async subscribe(name, handler) {
      assertOpen();
      const index = isPattern(name) ? patterns : exact;
      const sub: Subscription = { name, handler, active: true };
      const subs = index.get(name) ?? new Set<Subscription>();
      subs.add(sub);
      index.set(name, subs);
      return async () => {
        sub.active = false;
        subs.delete(sub);
        if (subs.size === 0 && index.get(name) === subs) {
          index.delete(name);
        }
      };
    },

    async close() {
      closed = true;
      exact.clear();
      patterns.clear();
    },
  };
}
