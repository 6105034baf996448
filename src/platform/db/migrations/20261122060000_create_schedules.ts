import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('schedules')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(2000)')
    // No foreign key: the template belongs to the jobs module, checked through its index.ts.
    .addColumn('template_id', t.id, (c) => c.notNull())
    .addColumn('kind', 'varchar(20)', (c) => c.notNull())
    .addColumn('cron', 'varchar(200)')
    .addColumn('timezone', 'varchar(64)', (c) => c.notNull())
    .addColumn('interval_seconds', 'integer')
    .addColumn('anchor_at', t.timestamp)
    .addColumn('at', t.timestamp)
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('start_at', t.timestamp)
    .addColumn('end_at', t.timestamp)
    .addColumn('overrides', t.json, (c) => c.notNull())
    .addColumn('overlap', 'varchar(10)', (c) => c.notNull())
    .addColumn('misfire', 'varchar(10)', (c) => c.notNull())
    .addColumn('jitter_seconds', 'integer', (c) => c.notNull())
    .addColumn('owner_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('team_id', t.id)
    // The next nominal tick (null: disabled or finished) and when it is due (tick + jitter).
    .addColumn('next_fire_at', t.timestamp)
    .addColumn('next_due_at', t.timestamp)
    .addColumn('last_fire_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('schedules_next_due_idx').on('schedules').columns(['next_due_at', 'id']).execute();
  await db.schema.createIndex('schedules_template_idx').on('schedules').column('template_id').execute();
  await db.schema.createIndex('schedules_team_idx').on('schedules').column('team_id').execute();

  // One row per claimed tick. UNIQUE (schedule_id, trigger, fire_at) is the exactly-once
  // guarantee: whichever process inserts the row owns the tick, on SQLite and PostgreSQL alike.
  await db.schema
    .createTable('schedule_fires')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('schedule_id', t.id, (c) => c.notNull().references('schedules.id').onDelete('cascade'))
    .addColumn('trigger', 'varchar(10)', (c) => c.notNull())
    .addColumn('fire_at', t.timestamp, (c) => c.notNull())
    .addColumn('due_at', t.timestamp, (c) => c.notNull())
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('missed_count', 'integer', (c) => c.notNull())
    .addColumn('run_id', t.id)
    .addColumn('reason', 'varchar(1000)')
    .addColumn('claimed_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('claimed_at', t.timestamp, (c) => c.notNull())
    .addColumn('enqueued_at', t.timestamp)
    .addUniqueConstraint('schedule_fires_tick_uq', ['schedule_id', 'trigger', 'fire_at'])
    .execute();
  await db.schema.createIndex('schedule_fires_history_idx').on('schedule_fires').columns(['schedule_id', 'fire_at', 'id']).execute();
  await db.schema.createIndex('schedule_fires_outcome_idx').on('schedule_fires').columns(['outcome', 'schedule_id', 'fire_at']).execute();
  await db.schema.createIndex('schedule_fires_run_idx').on('schedule_fires').column('run_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('schedule_fires').execute();
  await db.schema.dropTable('schedules').execute();
}
