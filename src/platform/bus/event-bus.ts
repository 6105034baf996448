export type BusHandler = (message: unknown, channel: string) => void;

/** Publish/subscribe across every node: in-process on a single node, Redis pub/sub in a cluster. */
export interface EventBus {
  /** Publishes a JSON-serialisable message to every subscriber of the channel, on every node. */
  publish(channel: string, message: unknown): Promise<void>;
  /** Subscribes to a channel (exact name) or a pattern ending in '*' (e.g. 'job-run:*'); resolves once the subscription is active; returns an unsubscribe function. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The slice of a pino logger the bus uses; a pino `Logger` satisfies it. */
export interface BusLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A subscription name ending in '*' is a prefix pattern; nothing else is special. */
export function isPattern(name: string): boolean {
  return name.endsWith('*');
}

/**
 * Calls a handler so that neither a throw nor a rejected promise (an async handler passed
 * where a sync one is typed) can reach the other handlers or become an unhandled rejection.
 */
export function invokeHandler(handler: BusHandler, message: unknown, channel: string, logger: BusLogger): void {
  const report = (err: unknown): void => logger.error({ err, channel }, 'event bus handler failed');
  try {
    const result: unknown = handler(message, channel);
    if (result instanceof Promise) {
      result.catch(report);
    }
  } catch (err) {
    report(err);
  }
}

/** Used when no logger is injected, so handler failures are never silent. */
export const consoleBusLogger: BusLogger = {
  // eslint-disable-next-line no-console
  warn: (obj, msg) => console.warn(msg, obj),
  // eslint-disable-next-line no-console
  error: (obj, msg) => console.error(msg, obj),
};
