import { Redis } from 'ioredis';
import { consoleBusLogger, invokeHandler, isPattern, type BusHandler, type BusLogger, type EventBus } from './event-bus.js';
import { closeRedis, escapeGlob, watchErrors } from './redis-connection.js';

export interface RedisBusOptions {
  url: string;
  /** Prepended to every channel name, so deployments (and test files) sharing a Redis stay apart. */
  prefix?: string;
  logger?: BusLogger;
}

interface Subscription {
  readonly handler: BusHandler;
  active: boolean;
}

/** One Redis (P)SUBSCRIBE shared by every local handler of the same name. */
interface Entry {
  readonly subs: Set<Subscription>;
  readonly ready: Promise<void>;
}

/** Event bus over Redis pub/sub: one publisher and one subscriber connection per process. */
export function createRedisBus(options: RedisBusOptions): EventBus {
  const prefix = options.prefix ?? 'opsdeck:';
  const logger = options.logger ?? consoleBusLogger;
  // A subscribed connection cannot send PUBLISH, hence two connections.
  const publisher = new Redis(options.url, { connectionName: 'opsdeck-bus-pub' });
  // ioredis re-issues every active (P)SUBSCRIBE after a reconnect (autoResubscribe).
  const subscriber = new Redis(options.url, { connectionName: 'opsdeck-bus-sub', autoResubscribe: true });
  watchErrors(publisher, logger, 'event bus publisher');
  watchErrors(subscriber, logger, 'event bus subscriber');

  const exact = new Map<string, Entry>();
  const patterns = new Map<string, Entry>();
  let closed = false;

  function deliver(entry: Entry | undefined, redisChannel: string, raw: string): void {
    if (entry === undefined || !redisChannel.startsWith(prefix)) {
      return;
    }
    const channel = redisChannel.slice(prefix.length);
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch (err) {
      // Another client may publish on our namespace; one bad message must not stop the rest.
      logger.warn({ err, channel }, 'event bus dropped a message that is not JSON');
      return;
    }
    for (const sub of [...entry.subs]) {
      if (sub.active) {
        invokeHandler(sub.handler, message, channel, logger);
      }
    }
  }

  subscriber.on('message', (channel, raw) => deliver(exact.get(channel), channel, raw));
  subscriber.on('pmessage', (pattern, channel, raw) => deliver(patterns.get(pattern), channel, raw));

  function assertOpen(): void {
    if (closed) {
      throw new Error('event bus is closed');
    }
  }

  return {
    async publish(channel, message) {
      assertOpen();
      const payload = JSON.stringify(message);
      if (payload === undefined) {
        throw new TypeError(`event bus message on '${channel}' is not JSON-serialisable`);
      }
      await publisher.publish(prefix + channel, payload);
    },

    async subscribe(name, handler) {
      assertOpen();
      const pattern = isPattern(name);
      const index = pattern ? patterns : exact;
      // Only the trailing '*' is a wildcard: escape glob characters in the prefix and the name.
      const redisName = pattern ? `${escapeGlob(prefix + name.slice(0, -1))}*` : prefix + name;

      let entry = index.get(redisName);
      if (entry === undefined) {
        const command = pattern ? subscriber.psubscribe(redisName) : subscriber.subscribe(redisName);
        const created: Entry = { subs: new Set(), ready: command.then(() => undefined) };
        created.ready.catch(() => {
          if (index.get(redisName) === created) {
            index.delete(redisName);
          }
        });
        index.set(redisName, created);
        entry = created;
      }
      const sub: Subscription = { handler, active: true };
      entry.subs.add(sub);
      try {
        await entry.ready;
      } catch (err) {
        entry.subs.delete(sub);
        throw err;
      }

      const owner = entry;
      return async () => {
        if (!sub.active) {
          return;
        }
        sub.active = false;
        owner.subs.delete(sub);
        if (owner.subs.size > 0 || index.get(redisName) !== owner) {
          return;
        }
        // Removed from the index before the command is sent, so a subscribe racing with this
        // issues its own SUBSCRIBE, which Redis applies after this UNSUBSCRIBE (same connection).
        index.delete(redisName);
        if (!closed) {
          await (pattern ? subscriber.punsubscribe(redisName) : subscriber.unsubscribe(redisName));
        }
      };
    },

    async close() {
      if (closed) {
        return;
      }
      closed = true;
      exact.clear();
      patterns.clear();
      await Promise.all([closeRedis(publisher), closeRedis(subscriber)]);
    },
  };
}
