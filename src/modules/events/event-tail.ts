import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Logger } from '../../platform/observability/logger.js';
import { after, type Cursor } from './events.fns.js';
import type { EventsRepository, StoredEvent } from './events.repository.js';
import { oncePerTurn } from '../../platform/time-slice.js';

/** Answers false when the reader is too far behind: it is dropped (and resumes by cursor). */
export type TailListener = (events: readonly StoredEvent[]) => boolean;

const PAGE = 500;

/**
 * This node's live view of the outbox: one reader past the newest relayed position, woken by
 * the bus (`event:*`) or a poll, fanning new events out to every local stream. A new reader
 * catches up from its own cursor on the table first, with live events buffered meanwhile and
 * deduplicated by cursor (the pattern of the jobs' live logs).
 */
export function createEventTail(deps: { repo: EventsRepository; bus: EventBus; logger: Logger; pollMs: number }) {
  const listeners = new Set<TailListener>();
  let cursor: Cursor | null = null;
  let started: Promise<void> | null = null;
  let reading: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let subscription: Promise<(() => Promise<void>) | null> | null = null;

  function dispatch(events: readonly StoredEvent[]): void {
    for (const l of [...listeners]) if (!l(events)) listeners.delete(l);
  }

  function read(): Promise<void> {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          again = false;
          for (;;) {
            const page = await deps.repo.readAfter(cursor!, PAGE);
            if (page.length === 0) break;
            cursor = page[page.length - 1]!.cursor;
            dispatch(page);
            if (page.length < PAGE) break;
          }
        } while (again);
      } catch (err) {
        deps.logger.warn({ err }, 'event tail read failed');
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  function start(): Promise<void> {
    started ??= (async () => {
      cursor = await deps.repo.head();
      // Not awaited: with Redis down the poll alone keeps streams going.
      // One read per burst of messages (a bulk write relays one per event), not one per message.
      subscription = deps.bus.subscribe('event:*', oncePerTurn(read)).catch((err: unknown) => {
        deps.logger.warn({ err }, 'event bus subscription failed; polling only');
        return null;
      });
      const tick = () => {
        timer = setTimeout(() => void read().finally(() => started && tick()), deps.pollMs);
        timer.unref();
      };
      tick();
    })().catch((err: unknown) => {
      // A failed start (the database was unreachable) is retried by the next subscriber.
      started = null;
      throw err;
    });
    return started;
  }

  return {
    /**
     * Delivers every event after `from` (null: from now on) to the listener, backlog first. The
     * listener answering false, or `onSlow` being called, ends the subscription.
     */
    async subscribe(from: Cursor | null, listener: TailListener): Promise<() => void> {
      await start();
      let last: Cursor = from ?? cursor!;
      let buffer: StoredEvent[] | null = [];
      let open = true;
      const forward = (events: readonly StoredEvent[]): boolean => {
        const fresh = events.filter((e) => after(e.cursor, last));
        if (fresh.length === 0) return true;
        last = fresh[fresh.length - 1]!.cursor;
        return listener(fresh);
      };
      const live: TailListener = (events) => {
        if (!open) return false;
        if (buffer) {
          buffer.push(...events);
          return true;
        }
        return forward(events);
      };
      listeners.add(live);
      const close = () => {
        open = false;
        listeners.delete(live);
      };
      // The backlog: everything after the reader's cursor up to what the tail has seen.
      while (open && from) {
        const page = await deps.repo.readAfter(last, PAGE);
        if (page.length === 0) break;
        if (!forward(page)) {
          close();
          return close;
        }
        if (page.length < PAGE) break;
      }
      const pending = buffer;
      buffer = null;
      if (open && pending.length > 0 && !forward(pending)) close();
      return close;
    },
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      listeners.clear();
      const pending = subscription;
      subscription = null;
      void pending?.then((off) => off?.());
      started = null;
      await reading;
    },
  };
}

export type EventTail = ReturnType<typeof createEventTail>;
