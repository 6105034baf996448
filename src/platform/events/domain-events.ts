
import type { Db } from '../db/database.js';
import { dialectOf } from '../db/database.js';
import { json } from '../db/columns.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Logger } from '../observability/logger.js';
import { newId, nowIso } from '../ids.js';

type DomainEventsTable = {
  domainEvents: { id: string; name: string; payload: unknown; createdAt: string; relayedAt: string | null };
};

export interface DomainEvent<P = unknown> {
  id: string;
  name: string;
  payload: P;
  createdAt: string;
}

/** Channel a domain event is published on: `event:device.created`. Subscribe to `event:*` for all. */
export const eventChannel = (name: string) => `event:${name}`;

/**
 * Domain events (outbox): `record` writes the event in the caller's transaction; `relay`
 * publishes unrelayed events on the bus after commit and marks them relayed. Delivery is
 * at-least-once and broadcast to every node: a subscriber that must act once per event
 * enqueues a job keyed by the event id.
 */
export function createDomainEvents(deps: { db: Db; bus: EventBus; logger: Logger }) {
  const db = deps.db.withTables<DomainEventsTable>();
  const postgres = dialectOf(deps.db) === 'postgres';
  let relaying: Promise<void> | null = null;
  let again = false;

  async function relayOnce(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('domainEvents')
        .select(['id', 'name', 'payload', 'createdAt'])
        .where('relayedAt', 'is', null)
        .orderBy('id')
        .limit(500);
      // NOTE: SKIP LOCKED lets several nodes relay at once without publishing an event twice.
      if (postgres) q = q.forUpdate().skipLocked();
      const rows = await q.execute();
      if (rows.length === 0) return 0;
      for (const row of rows) {
        await deps.bus.publish(eventChannel(row.name), { id: row.id, name: row.name, payload: json.read(row.payload), createdAt: row.createdAt });
      }
      await trx
        .updateTable('domainEvents')
        .set({ relayedAt: nowIso() })
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      return rows.length;
    });
  }

  return {
    /** Writes an event in the given transaction (or the plain handle, outside one). */
    async record(trx: Db, name: string, payload: unknown): Promise<DomainEvent> {
      const event = { id: newId(), name, payload, createdAt: nowIso() };
      await trx
        .withTables<DomainEventsTable>()
        .insertInto('domainEvents')
        .values({ id: event.id, name, payload: json.write(payload), createdAt: event.createdAt, relayedAt: null })
        .execute();
      return event;
    },
    /** Writes many events in the given transaction with chunked inserts (bulk changes, imports). */
    async recordMany(trx: Db, events: readonly { name: string; payload: unknown }[]): Promise<number> {
      const t = trx.withTables<DomainEventsTable>();
      const createdAt = nowIso();
      for (let i = 0; i < events.length; i += 1000) {
        const rows = events.slice(i, i + 1000).map((e) => ({ id: newId(), name: e.name, payload: json.write(e.payload), createdAt, relayedAt: null }));
        await t.insertInto('domainEvents').values(rows).execute();
      }
      return events.length;
    },
    /** Publishes pending events; concurrent calls coalesce into one loop. */
    relay(): Promise<void> {
      if (relaying) {
        again = true;
        return relaying;
      }
      relaying = (async () => {
        try {
          do {
            again = false;
            while ((await relayOnce()) > 0) {
              // keep draining
            }
          } while (again);
        } catch (err) {
          deps.logger.error({ err }, 'domain event relay failed');
        } finally {
          relaying = null;
        }
      })();
      return relaying;
    },
    /** Deletes relayed events older than the cutoff. */
    async prune(olderThanIso: string): Promise<number> {
      const r = await db.deleteFrom('domainEvents').where('relayedAt', '<', olderThanIso).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type DomainEvents = ReturnType<typeof createDomainEvents>;
