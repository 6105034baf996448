import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Alerts (deduplicated by `open_key` while not resolved), their labels for filtering, ingest
 * tokens, notification channels (secrets sealed), routing rules, and the notification outbox with
 * one row per delivery attempt.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('alerts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('source', 'varchar(100)', (c) => c.notNull())
    .addColumn('title', 'varchar(500)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('severity', 'varchar(10)', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('dedup_key', 'varchar(300)', (c) => c.notNull())
    // dedup_key while the alert is open or acknowledged, null once resolved: a repeat finds it.
    .addColumn('open_key', 'varchar(300)', (c) => c.unique())
    .addColumn('state', 'varchar(15)', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('assignee_id', t.id)
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('auto_resolve_at', t.timestamp)
    .addColumn('first_seen_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .addColumn('acknowledged_at', t.timestamp)
    .addColumn('acknowledged_by', 'varchar(200)')
    .addColumn('resolved_at', t.timestamp)
    .addColumn('resolved_by', 'varchar(200)')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alerts_state_last_seen_idx').on('alerts').columns(['state', 'last_seen_at']).execute();
  await db.schema.createIndex('alerts_dedup_key_idx').on('alerts').column('dedup_key').execute();
  await db.schema.createIndex('alerts_auto_resolve_idx').on('alerts').column('auto_resolve_at').execute();
  await db.schema.createIndex('alerts_assignee_idx').on('alerts').column('assignee_id').execute();

  await db.schema
    .createTable('alert_labels')
    .addColumn('alert_id', t.id, (c) => c.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('key', 'varchar(100)', (c) => c.notNull())
    .addColumn('value', 'varchar(500)', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_labels_pk', ['alert_id', 'key'])
    .execute();
  await db.schema.createIndex('alert_labels_key_value_idx').on('alert_labels').columns(['key', 'value']).execute();

  await db.schema
    .createTable('alert_ingest_tokens')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('source', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notification_channels')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('type', 'varchar(20)', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('template', 'text')
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('key_id', 'varchar(100)')
    .addColumn('wrapped_key', 'text')
    .addColumn('secrets_sealed', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notification_rules')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('match', 'text', (c) => c.notNull())
    .addColumn('channel_ids', 'text', (c) => c.notNull())
    .addColumn('repeat_interval_seconds', 'integer')
    .addColumn('quiet_hours', 'text')
    .addColumn('escalate_after_minutes', 'integer')
    .addColumn('escalation_channel_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('alert_id', t.id, (c) => c.references('alerts.id').onDelete('cascade'))
    .addColumn('channel_id', t.id, (c) => c.notNull().references('notification_channels.id').onDelete('cascade'))
    .addColumn('rule_id', t.id, (c) => c.references('notification_rules.id').onDelete('set null'))
    .addColumn('kind', 'varchar(15)', (c) => c.notNull())
    .addColumn('action', 'varchar(15)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(15)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', t.timestamp)
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'varchar(1000)')
    .addColumn('delivered_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_due_idx').on('notifications').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('notifications_alert_idx').on('notifications').columns(['alert_id', 'channel_id']).execute();
  await db.schema.createIndex('notifications_channel_idx').on('notifications').column('channel_id').execute();
  await db.schema.createIndex('notifications_rule_idx').on('notifications').column('rule_id').execute();

  await db.schema
    .createTable('notification_attempts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('notification_id', t.id, (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'varchar(1000)')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notification_attempts_notification_idx').on('notification_attempts').columns(['notification_id', 'attempt']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'notification_attempts',
    'notifications',
    'notification_rules',
    'notification_channels',
    'alert_ingest_tokens',
    'alert_labels',
    'alerts',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
