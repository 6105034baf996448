import { sql } from 'kysely';
import type { Db, Write } from '../db/database.js';
import type { DB } from '../db/schema.generated.js';
import { dialectOf } from '../db/database.js';
import { json } from '../db/columns.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Logger } from '../observability/logger.js';
import { newId, nowIso } from '../ids.js';

type DomainEventsTable = Pick<DB, 'domainEvents'>;

export interface DomainEvent<P = unknown> {
  id: string;
  name: string;
  payload: P;
  createdAt: string;
}

/** Channel a domain event is published on: `event:device.created`. Subscribe to `event:*` for all. */
export const eventChannel = (name: string) => `event:${name}`;

/** Key of the PostgreSQL advisory lock that serialises relaying (any constant unique to it). */
const RELAY_LOCK = 0x6f707364;
/** Events numbered and published per relay statement; a shorter batch means none were left. */
const RELAY_BATCH = 500;

/**
 * Domain events (outbox): `record` writes the event in the caller's transaction; `relay`
 * numbers unrelayed events (`relay_seq`), commits, then publishes them on the bus. Durable
 * consumers and retention live in `modules/events/`. The bus message is broadcast to every node
 * and best effort (lost if the process dies between commit and publish): it wakes the durable
 * subscribers, which read the table past their own cursor.
 */
export function createDomainEvents(deps: { db: Db; bus: EventBus; logger: Logger }) {
  const db = deps.db.withTables<DomainEventsTable>();
  const postgres = dialectOf(deps.db) === 'postgres';
  let relaying: Promise<void> | null = null;
  let again = false;

  // NOTE: one relayer at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite has one
  // writer): each batch gets the next `relay_seq` and commits before the next batch is numbered,
  // so readers past a (relay_seq, id) cursor never miss an event that committed late.
  // The batch is taken and numbered by one UPDATE … RETURNING: its `relay_seq` is one past the
  // highest committed (read after the lock, so it sees every earlier batch). SQLite needs no
  // transaction for one statement; PostgreSQL holds the lock until the statement commits.
  async function relayOnce(): Promise<number> {
    const take = (trx: typeof db) =>
      trx
        .updateTable('domainEvents')
        .set({ relayedAt: nowIso(), relaySeq: sql<number>`(select coalesce(max(relay_seq), 0) + 1 from domain_events)` })
        .where('id', 'in', (eb) => eb.selectFrom('domainEvents').select('id').where('relayedAt', 'is', null).orderBy('id').limit(RELAY_BATCH))
        .returning(['id', 'name', 'payload', 'createdAt'])
        .execute();
    const rows = postgres
      ? await db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${RELAY_LOCK})`.execute(trx);
          return take(trx);
        })
      : await take(db);
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Published after commit, so a subscriber woken by the message finds the event numbered.
    for (const row of rows) {
      await deps.bus.publish(eventChannel(row.name), { id: row.id, name: row.name, payload: json.read(row.payload), createdAt: row.createdAt });
    }
    return rows.length;
  }

  return {
    /** Writes an event in the given transaction (or the plain handle, outside one). */
    async record(trx: Db, name: string, payload: unknown): Promise<DomainEvent> {
      const event = { id: newId(), name, payload, createdAt: nowIso() };
      await trx
        .withTables<DomainEventsTable>()
        .insertInto('domainEvents')
        .values({ id: event.id, name, payload: json.write(payload), createdAt: event.createdAt, relayedAt: null, relaySeq: null })
        .execute();
      return event;
    },
    /**
     * The write recording events, not yet run: the caller executes it with the change it
     * describes (`writeAtomically`, also inside a unit of work), in one statement with its other rows.
     */
    recordWrite(events: readonly { name: string; payload: unknown }[]): Write {
      const createdAt = nowIso();
      return { table: 'domainEvents', rows: events.map((e) => ({ id: newId(), name: e.name, payload: json.write(e.payload), createdAt })) };
    },
    /** Writes many events in the given transaction with chunked inserts (bulk changes, imports). */
    async recordMany(trx: Db, events: readonly { name: string; payload: unknown }[]): Promise<number> {
      const t = trx.withTables<DomainEventsTable>();
      const createdAt = nowIso();
      for (let i = 0; i < events.length; i += 1000) {
        const rows = events
          .slice(i, i + 1000)
          .map((e) => ({ id: newId(), name: e.name, payload: json.write(e.payload), createdAt, relayedAt: null, relaySeq: null }));
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
            // A full batch may have left more; a short one took all there were (events committed
            // since then call relay() themselves, which sets `again`).
            while ((await relayOnce()) === RELAY_BATCH) {
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
  };
}

export type DomainEvents = ReturnType<typeof createDomainEvents>;
