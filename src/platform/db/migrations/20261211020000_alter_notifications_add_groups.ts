import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

/**
 * Grouping windows on routing rules (`group_window_seconds`, `group_by`), and the open group a
 * notification row collects alerts into: `group_key` is set while the group takes members (unique,
 * so concurrent ingests attach to one row) and cleared when the worker claims it; its members are
 * `notification_group_members` rows written in the transaction of each alert's opening.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .alterTable('notification_rules')
    .addColumn('group_window_seconds', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('notification_rules')
    .addColumn('group_by', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.alterTable('notifications').addColumn('group_key', 'varchar(600)').execute();
  await db.schema.createIndex('notifications_group_key_idx').on('notifications').column('group_key').unique().execute();
  await db.schema
    .createTable('notification_group_members')
    .addColumn('notification_id', t.id, (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('alert_id', t.id, (c) => c.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('added_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_group_members_pk', ['notification_id', 'alert_id'])
    .execute();
  await db.schema.createIndex('notification_group_members_alert_idx').on('notification_group_members').column('alert_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_group_members').execute();
  await db.schema.dropIndex('notifications_group_key_idx').execute();
  await db.schema.alterTable('notifications').dropColumn('group_key').execute();
  await db.schema.alterTable('notification_rules').dropColumn('group_by').execute();
  await db.schema.alterTable('notification_rules').dropColumn('group_window_seconds').execute();
}
