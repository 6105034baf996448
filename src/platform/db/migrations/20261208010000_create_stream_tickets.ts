import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Single-use tickets that open a live stream (WebSocket upgrade, EventSource) without a token
 * in the URL: only the SHA-256 of the ticket is stored, with the principal it stands for. In the
 * database so that every node of a cluster can redeem a ticket another node issued.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('stream_tickets')
    .addColumn('ticket_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('credential_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('session_id', t.id)
    .addColumn('mfa_at', 'integer')
    .addColumn('auth_at', 'integer')
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('stream_tickets_user_idx').on('stream_tickets').column('user_id').execute();
  await db.schema.createIndex('stream_tickets_expires_idx').on('stream_tickets').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stream_tickets').execute();
}
