import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/observability/logger.js';
import { globMatcher } from './events.fns.js';
import { createEventsRepository, type StoredEvent } from './events.repository.js';
import { oncePerTurn } from '../../platform/time-slice.js';

/**
 * A durable consumer of domain events. `handle` runs inside the transaction that advances the
 * subscriber's cursor, so what it writes through `db` commits exactly when the event counts as
 * consumed. It must not call the network or wait: work with side effects outside the database
 * is written as durable work (a webhook delivery row) and done after commit.
 */
export interface Subscriber {
  /** Stable: the cursor row is keyed by it (renaming starts over from the oldest retained event). */
  name: string;
  /** Event name globs (`job_template.*`); other events are passed over without a call. */
  events: readonly string[];
  handle(db: Db, event: StoredEvent): Promise<void>;
  /** After a batch that called `handle` committed (wake a worker). */
  afterCommit?(): void;
}

export interface SubscriberRunnerDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  /** Relays events whose writer died between commit and relay. */
  relay: () => Promise<void>;
  pollMs: number;
  batchSize?: number;
}

/**
 * Runs every subscriber past its own cursor. Woken by the bus (`event:*`) and by a poll (which
 * also relays stragglers); on PostgreSQL each batch locks the subscriber's row with SKIP LOCKED,
 * so in a cluster one node consumes a subscriber at a time and a dead node's lock dies with its
 * connection.
 */
export function createSubscriberRunner(deps: SubscriberRunnerDeps) {
  const subscribers: (Subscriber & { wants: (name: string) => boolean })[] = [];
  const batchSize = deps.batchSize ?? 200;
  const log = deps.logger.child({ component: 'event-subscribers' });
  let pumping: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | null = null;
  let subscription: Promise<(() => Promise<void>) | null> | null = null;

  /** One batch of one subscriber in one transaction; the number of events passed. */
  async function step(sub: Subscriber & { wants: (name: string) => boolean }): Promise<{ passed: number; handled: number }> {
    return deps.db.transaction().execute(async (trx) => {
      const repo = createEventsRepository(trx);
      const cursor = await repo.lockSubscriber(sub.name);
      if (!cursor) return { passed: 0, handled: 0 };
      const batch = await repo.readAfter(cursor, batchSize);
      let handled = 0;
      for (const event of batch) {
        if (!sub.wants(event.name)) continue;
        await sub.handle(trx, event);
        handled += 1;
      }
      if (batch.length > 0) await repo.advance(sub.name, batch[batch.length - 1]!.cursor);
      return { passed: batch.length, handled };
    });
  }

  async function drainOne(sub: Subscriber & { wants: (name: string) => boolean }): Promise<void> {
    for (;;) {
      let r: { passed: number; handled: number };
      try {
        r = await step(sub);
      } catch (err) {
        // The batch rolled back: the cursor stays, and the next wake or poll retries it.
        log.error({ err, subscriber: sub.name }, 'event subscriber failed');
        await createEventsRepository(deps.db)
          .setError(sub.name, err instanceof Error ? err.message : String(err))
          .catch(() => undefined);
        return;
      }
      if (r.handled > 0) sub.afterCommit?.();
      if (r.passed < batchSize) return;
    }
  }

  /** Runs every subscriber until caught up; concurrent calls coalesce. */
  function drain(): Promise<void> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        do {
          again = false;
          for (const sub of subscribers) await drainOne(sub);
        } while (again);
      } finally {
        pumping = null;
      }
    })();
    return pumping;
  }

  return {
    /** Registers a subscriber (before `start`); its cursor row is created on start. */
    add(sub: Subscriber): void {
      subscribers.push({ ...sub, wants: globMatcher(sub.events) });
    },
    names: () => subscribers.map((s) => s.name),
    /** Creates missing cursor rows (at the oldest retained event). Every node does it; consumers only start where they run. */
    async register(): Promise<void> {
      const repo = createEventsRepository(deps.db);
      for (const s of subscribers) await repo.ensureSubscriber(s.name);
    },
    drain,
    /** Starts consuming; never waits for the bus (with Redis down, the poll alone drives it). */
    start(): void {
      stopped = false;
      // One drain per burst of messages (a bulk write relays one per event), not one per message.
      subscription = deps.bus.subscribe('event:*', oncePerTurn(drain)).catch((err: unknown) => {
        log.warn({ err }, 'event bus subscription failed; polling only');
        return null;
      });
      const tick = () => {
        timer = setTimeout(() => {
          void deps
            .relay()
            .then(drain)
            .finally(() => !stopped && tick());
        }, deps.pollMs);
        timer.unref();
      };
      tick();
      void drain();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      const pending = subscription;
      subscription = null;
      // A subscription still waiting for Redis is dropped as soon as it resolves.
      void pending?.then((off) => off?.());
      await pumping;
    },
  };
}

export type SubscriberRunner = ReturnType<typeof createSubscriberRunner>;
