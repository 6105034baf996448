import { sql } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.js';
import { bool, ilike, json, likeEscape } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import { teamWhere, type TeamScope } from '../../platform/db/team-scope.js';
import type { SchedulesTables } from './schedules.tables.js';

const SCHEDULE_COLUMNS = [
  'id',
  'name',
  'description',
  'templateId',
  'kind',
  'cron',
  'timezone',
  'intervalSeconds',
  'anchorAt',
  'at',
  'enabled',
  'startAt',
  'endAt',
  'overrides',
  'overlap',
  'misfire',
  'jitterSeconds',
  'ownerId',
  'teamId',
  'pausedReason',
  'nextFireAt',
  'nextDueAt',
  'lastFireAt',
  'createdAt',
  'updatedAt',
] as const;
const FIRE_COLUMNS = [
  'id',
  'scheduleId',
  'trigger',
  'fireAt',
  'dueAt',
  'outcome',
  'missedCount',
  'runId',
  'reason',
  'claimedBy',
  'claimedAt',
  'enqueuedAt',
] as const;

type ScheduleRowRaw = SchedulesTables['schedules'];
export type ScheduleRow = Omit<ScheduleRowRaw, 'enabled' | 'overrides'> & { enabled: boolean; overrides: Record<string, unknown> };
export type FireRow = SchedulesTables['scheduleFires'];

function toSchedule(row: ScheduleRowRaw): ScheduleRow {
  return { ...row, enabled: bool.read(row.enabled), overrides: json.read<Record<string, unknown>>(row.overrides) };
}

function toRaw(row: Partial<ScheduleRow>): Partial<ScheduleRowRaw> {
  const out: Partial<ScheduleRowRaw> = { ...row } as Partial<ScheduleRowRaw>;
  if (row.enabled !== undefined) out.enabled = bool.write(row.enabled);
  if (row.overrides !== undefined) out.overrides = json.write(row.overrides);
  return out;
}

/** The unique-constraint violation of either dialect: someone else claimed the tick. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** schedules and schedule_fires. */
export function createSchedulesRepository(base: Db) {
  const db = base.withTables<SchedulesTables>();
  const dialect = dialectOf(base);
  // NOTE: jsonb comes back parsed and CamelCasePlugin would rename the keys inside it
  // (`timeout_ms` → `timeoutMs`); reading it as text keeps overrides exactly as given.
  const overridesText = dialect === 'postgres' ? sql<string>`${sql.ref('overrides')}::text` : sql<string>`${sql.ref('overrides')}`;
  const schedules = () =>
    db
      .selectFrom('schedules')
      .select(SCHEDULE_COLUMNS.filter((c) => c !== 'overrides'))
      .select(overridesText.as('overrides'));
  const fires = () => db.selectFrom('scheduleFires').select(FIRE_COLUMNS);

  return {
    async insert(row: ScheduleRow): Promise<void> {
      await db
        .insertInto('schedules')
        .values(toRaw(row) as ScheduleRowRaw)
        .execute();
    },

    /** The team (null: shared) of each of these ids that exists (the audit list hides other teams' entries). */
    async teamsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('schedules')
        .select(['id', 'teamId'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, r.teamId]));
    },
    /** Enabled schedules (the whole cluster): for /metrics. */
    async countEnabled(): Promise<number> {
      const row = await db
        .selectFrom('schedules')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('enabled', '=', bool.write(true))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async find(id: string): Promise<ScheduleRow | undefined> {
      const row = await schedules().where('id', '=', id).executeTakeFirst();
      return row ? toSchedule(row as ScheduleRowRaw) : undefined;
    },

    async nameTaken(name: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('schedules').select('id').where('name', '=', name);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },

    /**
     * Writes the changed fields. A concurrent claim is safe: its compare-and-set on next_fire_at
     * fails if this moved the tick, and a tick recomputed from now lies after any tick claimed.
     */
    async update(id: string, patch: Partial<ScheduleRow>): Promise<boolean> {
      const r = await db.updateTable('schedules').set(toRaw(patch)).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    /** Schedules visible in the team scope (their team's members and admins; `team_id` null: everyone). */
    async list(scope: TeamScope, filters: FilterCondition[], q: string | undefined, keys: SortKey[], cursor: string | undefined, limit: number) {
      let query = applyFilters(schedules().where(teamWhere(scope, 'schedules.teamId')), filters, dialect);
      if (q) {
        const pattern = `%${likeEscape(q)}%`;
        query = query.where((eb) => eb.or([ilike(dialect, eb.ref('name'), pattern), ilike(dialect, eb.ref('description'), pattern)]));
      }
      const rows = await applyPage(query, keys, cursor, limit).execute();
      const page = pageResult(rows as ScheduleRowRaw[], keys, limit, camelValue);
      return { items: page.items.map(toSchedule), next_cursor: page.next_cursor };
    },

    /** Schedules whose next tick is due by `now`, earliest first (index schedules_next_due_idx). */
    async due(now: string, limit: number): Promise<ScheduleRow[]> {
      const rows = await schedules().where('nextDueAt', '<=', now).orderBy('nextDueAt').orderBy('id').limit(limit).execute();
      return rows.map((r) => toSchedule(r as ScheduleRowRaw));
    },

    /** When the earliest schedule is due next, or null when none is. */
    async earliestDue(): Promise<string | null> {
      const row = await db.selectFrom('schedules').select('nextDueAt').where('nextDueAt', 'is not', null).orderBy('nextDueAt').limit(1).executeTakeFirst();
      return row?.nextDueAt ?? null;
    },

    /**
     * Moves a schedule past the ticks being claimed, only if its next tick is still the one this
     * node read (compare-and-set): the loser of a race between nodes updates nothing.
     */
    async advance(id: string, expectedNextFireAt: string, next: { nextFireAt: string | null; nextDueAt: string | null; lastFireAt: string }): Promise<boolean> {
      const r = await db.updateTable('schedules').set(next).where('id', '=', id).where('nextFireAt', '=', expectedNextFireAt).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async insertFires(rows: FireRow[]): Promise<void> {
      if (rows.length > 0) await db.insertInto('scheduleFires').values(rows).execute();
    },

    async findFire(id: string): Promise<FireRow | undefined> {
      return fires().where('id', '=', id).executeTakeFirst();
    },

    /** Fires whose run is not created yet (claimed, or waiting behind a previous run), oldest first. */
    async openFires(limit: number): Promise<FireRow[]> {
      return fires().where('outcome', 'in', ['pending', 'waiting']).orderBy('fireAt').orderBy('id').limit(limit).execute();
    },

    /** Fires of a schedule claimed before `fireAt` whose run does not exist yet. */
    async countOpenBefore(scheduleId: string, fireAt: string): Promise<number> {
      const row = await db
        .selectFrom('scheduleFires')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('outcome', 'in', ['pending', 'waiting'])
        .where('scheduleId', '=', scheduleId)
        .where('fireAt', '<', fireAt)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** Sets an open fire's outcome; false when it was settled meanwhile (another node repaired it). */
    async settleFire(id: string, from: readonly string[], set: Partial<Pick<FireRow, 'outcome' | 'runId' | 'reason' | 'enqueuedAt'>>): Promise<boolean> {
      const r = await db.updateTable('scheduleFires').set(set).where('id', '=', id).where('outcome', 'in', from).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async history(scheduleId: string, filters: FilterCondition[], keys: SortKey[], cursor: string | undefined, limit: number) {
      const query = applyFilters(fires().where('scheduleId', '=', scheduleId), filters, dialect);
      const rows = await applyPage(query, keys, cursor, limit).execute();
      return pageResult(rows, keys, limit, camelValue);
    },
  };
}

export type SchedulesRepository = ReturnType<typeof createSchedulesRepository>;
