import { dialectOf, type Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import { nowIso } from '../../platform/ids.js';
import { START, type Cursor } from './events.fns.js';
import type { EventsTables } from './events.tables.js';

/** A relayed domain event with its outbox position. */
export interface StoredEvent {
  id: string;
  name: string;
  payload: unknown;
  createdAt: string;
  cursor: Cursor;
}

/** The outbox (read side) and the subscribers' cursors. The only place Kysely meets these tables. */
export function createEventsRepository(base: Db) {
  const db = base.withTables<EventsTables>();
  const postgres = dialectOf(base) === 'postgres';
  return {
    db: base,
    /** Relayed events after the cursor, in relay order; unrelayed (uncommitted or pending) ones are not visible. */
    async readAfter(cursor: Cursor, limit: number, names?: readonly string[]): Promise<StoredEvent[]> {
      let q = db
        .selectFrom('domainEvents')
        .select(['id', 'name', 'payload', 'createdAt', 'relaySeq'])
        .where('relaySeq', 'is not', null)
        .where((eb) => eb.or([eb('relaySeq', '>', cursor.seq), eb.and([eb('relaySeq', '=', cursor.seq), eb('id', '>', cursor.id)])]));
      if (names && names.length > 0) q = q.where('name', 'in', names);
      const rows = await q.orderBy('relaySeq').orderBy('id').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        payload: json.read(r.payload),
        createdAt: r.createdAt,
        cursor: { seq: Number(r.relaySeq), id: r.id },
      }));
    },
    /** The newest relayed position (START on an empty outbox). */
    async head(): Promise<Cursor> {
      const row = await db
        .selectFrom('domainEvents')
        .select(['relaySeq', 'id'])
        .where('relaySeq', 'is not', null)
        .orderBy('relaySeq', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? { seq: Number(row.relaySeq), id: row.id } : START;
    },
    /** Adds a subscriber at the start of the outbox; an existing one keeps its cursor. */
    async ensureSubscriber(name: string): Promise<void> {
      await db
        .insertInto('eventSubscribers')
        .values({ name, cursorSeq: START.seq, cursorId: START.id, lastError: null, updatedAt: nowIso() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    },
    /**
     * Takes the subscriber's row for this transaction. On PostgreSQL a row another node holds is
     * skipped (null): that node is consuming; the lock ends with its transaction, or its connection.
     */
    async lockSubscriber(name: string): Promise<Cursor | null> {
      let q = db.selectFrom('eventSubscribers').select(['cursorSeq', 'cursorId']).where('name', '=', name);
      if (postgres) q = q.forUpdate().skipLocked();
      const row = await q.executeTakeFirst();
      return row ? { seq: Number(row.cursorSeq), id: row.cursorId } : null;
    },
    async advance(name: string, cursor: Cursor): Promise<void> {
      await db
        .updateTable('eventSubscribers')
        .set({ cursorSeq: cursor.seq, cursorId: cursor.id, lastError: null, updatedAt: nowIso() })
        .where('name', '=', name)
        .execute();
    },
    async setError(name: string, message: string): Promise<void> {
      await db
        .updateTable('eventSubscribers')
        .set({ lastError: message.slice(0, 2000), updatedAt: nowIso() })
        .where('name', '=', name)
        .execute();
    },
    async subscribers(): Promise<{ name: string; cursor: Cursor; lastError: string | null }[]> {
      const rows = await db.selectFrom('eventSubscribers').select(['name', 'cursorSeq', 'cursorId', 'lastError']).orderBy('name').execute();
      return rows.map((r) => ({ name: r.name, cursor: { seq: Number(r.cursorSeq), id: r.cursorId }, lastError: r.lastError }));
    },
    /**
     * Deletes events created before the cutoff whose relay batch every subscriber has passed.
     * The newest batch always stays: its number is where the relay counts on from.
     */
    async prune(cutoffIso: string): Promise<number> {
      const low = await db
        .selectFrom('eventSubscribers')
        .select((eb) => eb.fn.min('cursorSeq').as('seq'))
        .executeTakeFirst();
      const top = await db
        .selectFrom('domainEvents')
        .select((eb) => eb.fn.max('relaySeq').as('seq'))
        .executeTakeFirst();
      if (top?.seq === null || top?.seq === undefined) return 0;
      const bound = Math.min(Number(top.seq), low?.seq === null || low?.seq === undefined ? Number.MAX_SAFE_INTEGER : Number(low.seq));
      const r = await db.deleteFrom('domainEvents').where('relaySeq', '<', bound).where('createdAt', '<', cutoffIso).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
