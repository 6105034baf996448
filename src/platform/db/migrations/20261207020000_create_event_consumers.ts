import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  // The relay numbers each batch it publishes, in commit order: subscribers and streams read past
  // a (relay_seq, id) cursor, which an event committing late can never fall behind.
  await db.schema.alterTable('domain_events').addColumn('relay_seq', t.bigint).execute();
  await db.schema.createIndex('domain_events_relay_seq_idx').on('domain_events').columns(['relay_seq', 'id']).execute();
  await db.schema.createIndex('domain_events_created_at_idx').on('domain_events').column('created_at').execute();

  await db.schema
    .createTable('event_subscribers')
    .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('cursor_seq', t.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('cursor_id', t.id, (c) => c.notNull())
    .addColumn('last_error', 'varchar(2000)')
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('events', t.json, (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('secret_sealed', 'varchar(2000)', (c) => c.notNull())
    .addColumn('key_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('wrapped_key', 'varchar(2000)', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_name_idx').on('webhooks').column('name').unique().execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('webhook_id', t.id, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_id', t.id, (c) => c.notNull())
    .addColumn('event_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.timestamp)
    .addColumn('status_code', 'integer')
    .addColumn('duration_ms', 'integer')
    .addColumn('error', 'varchar(2000)')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_deliveries_event_idx').on('webhook_deliveries').columns(['webhook_id', 'event_id']).unique().execute();
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhooks').execute();
  await db.schema.dropTable('event_subscribers').execute();
  await db.schema.dropIndex('domain_events_created_at_idx').execute();
  await db.schema.dropIndex('domain_events_relay_seq_idx').execute();
  await db.schema.alterTable('domain_events').dropColumn('relay_seq').execute();
}
