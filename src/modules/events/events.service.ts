import { BadRequestError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { canRead, decodeCursor, encodeCursor, globMatcher, START, type Cursor } from './events.fns.js';
import type { EventsRepository, StoredEvent } from './events.repository.js';
import type { EventTail } from './event-tail.js';

export interface EventView {
  id: string;
  name: string;
  created_at: string;
  payload: unknown;
  /** The position to resume after (SSE `id`, `?after=`). */
  cursor: string;
}

export const eventView = (e: StoredEvent): EventView => ({
  id: e.id,
  name: e.name,
  created_at: e.createdAt,
  payload: e.payload,
  cursor: encodeCursor(e.cursor),
});

const GLOB = /^[a-z0-9_.*-]{1,100}$/;

/** `device.*,run.failed` → a name filter; throws a 400 naming the field on a bad pattern. */
export function parseNameFilter(text: string | undefined, path: string): (name: string) => boolean {
  const patterns = (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const bad = patterns.findIndex((p) => !GLOB.test(p));
  if (bad >= 0) {
    throw new BadRequestError('EVENT_FILTER_INVALID', 'Event filters are names or globs like device.* (a-z, 0-9, _ . - *)', [
      { path, message: `'${patterns[bad]!.slice(0, 100)}' is not an event name or glob` },
    ]);
  }
  return globMatcher(patterns);
}

export function parseCursor(text: string | undefined, path: string): Cursor | null {
  if (text === undefined || text === '') return null;
  const c = decodeCursor(text);
  if (!c) throw new BadRequestError('EVENT_CURSOR_INVALID', 'Not an event cursor', [{ path, message: 'must be the cursor (SSE id) of an event' }]);
  return c;
}

/** The read side for clients: the live stream and the history, filtered by what the reader may see. */
export function createEventsService(deps: { repo: EventsRepository; tail: EventTail }) {
  return {
    /**
     * Streams the events the actor may read, after `from` (null: from now on), to `send` in
     * relay order; `send` answering false ends it. Resolves to the unsubscribe. `actor` answers
     * the stream's principal as it is now (the stream guard refreshes it), so every event is
     * filtered by current permissions.
     */
    async stream(actor: () => Actor, from: Cursor | null, wants: (name: string) => boolean, send: (events: EventView[]) => boolean): Promise<() => void> {
      requirePermission(actor(), 'events:read');
      return deps.tail.subscribe(from, (events) => {
        const reader = actor();
        const visible = events.filter((e) => wants(e.name) && canRead(reader, e.name));
        return visible.length === 0 || send(visible.map(eventView));
      });
    },
    async history(actor: Actor, query: { after?: string; limit?: number; events?: string }): Promise<{ items: EventView[]; next_cursor: string | null }> {
      requirePermission(actor, 'events:read');
      const wants = parseNameFilter(query.events, 'query.events');
      const limit = query.limit ?? 50;
      let cursor = parseCursor(query.after, 'query.after') ?? START;
      const items: EventView[] = [];
      // Pages are filtered after reading; at most ten reads fill one answer (next_cursor goes on from there).
      for (let reads = 0; reads < 10 && items.length < limit; reads += 1) {
        const page = await deps.repo.readAfter(cursor, limit);
        for (const e of page) {
          if (items.length === limit) break;
          cursor = e.cursor;
          if (wants(e.name) && canRead(actor, e.name)) items.push(eventView(e));
        }
        if (items.length < limit && page.length < limit) return { items, next_cursor: null };
      }
      return { items, next_cursor: encodeCursor(cursor) };
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
