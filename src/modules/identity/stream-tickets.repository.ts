import type { Db } from '../../platform/db/database.js';
import type { IdentityTables } from './identity.tables.js';

export type StreamTicketRow = IdentityTables['streamTickets'];

/** Single-use stream tickets, stored as SHA-256 (`stream-tickets.ts`). */
export function createStreamTicketsRepository(base: Db) {
  const db = base.withTables<IdentityTables>();
  return {
    async insert(row: StreamTicketRow): Promise<void> {
      await db.insertInto('streamTickets').values(row).execute();
    },
    /** Deletes and returns the ticket if it is still valid: of two concurrent redemptions, one gets it. */
    async take(ticketHash: string, now: string): Promise<StreamTicketRow | undefined> {
      return db
        .deleteFrom('streamTickets')
        .where('ticketHash', '=', ticketHash)
        .where('expiresAt', '>', now)
        .returning(['ticketHash', 'kind', 'userId', 'credentialId', 'sessionId', 'mfaAt', 'authAt', 'expiresAt', 'createdAt'])
        .executeTakeFirst();
    },
    async pruneExpired(now: string): Promise<void> {
      await db.deleteFrom('streamTickets').where('expiresAt', '<=', now).execute();
    },
  };
}
