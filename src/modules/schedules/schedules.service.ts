import { DateTime } from 'luxon';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { jitterMs, nextTick, upcomingTicks } from './schedules.fns.js';
import { mergeScheduleInput, timingChanged, type ScheduleFields } from './schedule-input.fns.js';
import { createSchedulesRepository, isUniqueViolation, type FireRow, type ScheduleRow, type SchedulesRepository } from './schedules.repository.js';
import {
  FIRE_FILTERS,
  FIRE_SORTS,
  SCHEDULE_FILTERS,
  SCHEDULE_SORTS,
  type CreateScheduleBody,
  type FireView,
  type ListFiresQuery,
  type ListSchedulesQuery,
  type UpdateScheduleBody,
} from './schedules.schemas.js';
import { inTeamScope, teamScope } from '../../platform/db/team-scope.js';
import { timingOf, toView } from './schedule-view.js';
import type { Clock, ScheduleRunner } from './schedule-runner.js';
import type { Scheduler } from './scheduler.js';

/** Identity's audit log, written in the same transaction as the change it records. */
export interface AuditPort {
  record(
    trx: Db,
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}

export interface SchedulesServiceDeps {
  db: Db;
  runner: ScheduleRunner;
  clock: Clock;
  logger: Logger;
  scheduler: Pick<Scheduler, 'dispatch' | 'wake'>;
  nodeId: string;
  audit?: AuditPort;
  /** The domain-event outbox: `schedule.created|updated|deleted` commit with the change. */
  events?: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> };
}

const actorRef = (a: Actor) => ({ kind: a.kind, id: a.id, name: a.name });
/** The user a schedule's runs act for: the person behind an API key, or the system. */
const ownerOf = (a: Actor) => a.userId ?? a.id;

const iso = (ms: number) => new Date(ms).toISOString();
const READ = 'schedules:read';
const WRITE = 'schedules:write';

function fieldsOf(s: ScheduleRow): ScheduleFields {
  return { ...s, kind: s.kind as ScheduleFields['kind'], overlap: s.overlap as ScheduleFields['overlap'], misfire: s.misfire as ScheduleFields['misfire'] };
}

/** Schedules: CRUD, preview, manual trigger and history. Every method authorises its actor. */
export function createSchedulesService(deps: SchedulesServiceDeps) {
  const repo = createSchedulesRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (db) => ({ db, schedules: createSchedulesRepository(db) }),
    (err) => deps.logger.warn({ err }, 'schedules after-commit failed'),
  );

  /** The schedule if it exists and is in the actor's team scope; 404 otherwise (a hidden schedule is absent). */
  async function load(actor: Actor, id: string): Promise<ScheduleRow> {
    const s = await repo.find(id);
    if (!s || !inTeamScope(teamScope(actor), s.teamId)) throw new NotFoundError('SCHEDULE_NOT_FOUND', `Schedule ${id} does not exist`);
    return s;
  }

  /** A schedule can be given only to a team the actor belongs to (admins: any). */
  function checkTeam(actor: Actor, teamId: string | null): void {
    if (teamId !== null && !inTeamScope(teamScope(actor), teamId)) {
      throw new ValidationError('SCHEDULE_TEAM_FORBIDDEN', 'You can only assign a schedule to a team you are a member of', [
        { path: 'body.team_id', message: 'not one of your teams' },
      ]);
    }
  }

  /** The next tick from now for enabled schedules; null when disabled or finished. */
  function nextOf(id: string, f: ScheduleFields, now: number): { nextFireAt: string | null; nextDueAt: string | null } {
    const t = f.enabled ? nextTick(timingOf({ ...f }), now) : null;
    return t === null ? { nextFireAt: null, nextDueAt: null } : { nextFireAt: iso(t), nextDueAt: iso(t + jitterMs(id, t, f.jitterSeconds)) };
  }

  /** The template exists for the actor and they could run it now (`jobs:run`, its credential theirs to use). */
  async function checkTemplate(actor: Actor, templateId: string): Promise<void> {
    if (!(await deps.runner.templateExists(actor, templateId))) {
      throw new ValidationError('SCHEDULE_TEMPLATE_NOT_FOUND', `Job template ${templateId} does not exist`, [
        { path: 'body.template_id', message: 'no such job template' },
      ]);
    }
  }

  const nameTaken = (name: string) =>
    new ConflictError('SCHEDULE_NAME_TAKEN', `A schedule named '${name}' already exists`, [{ path: 'body.name', message: 'is already used' }]);

  /** Writes inside one transaction with its audit record; maps a name collision to 409. */
  async function write<T>(name: string, work: (repos: { db: Db; schedules: SchedulesRepository }) => Promise<T>): Promise<T> {
    try {
      const result = await uow(work);
      deps.scheduler.wake();
      if (deps.events) void deps.events.relay();
      return result;
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(name);
      throw err;
    }
  }

  const service = {
    async create(actor: Actor, body: CreateScheduleBody) {
      requirePermission(actor, WRITE);
      const now = deps.clock.now();
      const f = mergeScheduleInput(null, body, now);
      checkTeam(actor, f.teamId);
      await checkTemplate(actor, f.templateId);
      if (await repo.nameTaken(f.name)) throw nameTaken(f.name);
      const id = newId();
      const row: ScheduleRow = {
        id,
        ...f,
        ownerId: ownerOf(actor),
        pausedReason: null,
        ...nextOf(id, f, now),
        lastFireAt: null,
        createdAt: iso(now),
        updatedAt: iso(now),
      };
      await write(f.name, async ({ db, schedules }) => {
        await schedules.insert(row);
        await deps.audit?.record(db, { actor, action: 'schedule.created', resourceType: 'schedule', resourceId: id, outcome: 'success', changes: { ...body } });
        await deps.events?.record(db, 'schedule.created', { id, name: f.name, actor: actorRef(actor) });
      });
      return toView(row);
    },

    async get(actor: Actor, id: string) {
      requirePermission(actor, READ);
      return toView(await load(actor, id));
    },

    async list(actor: Actor, query: ListSchedulesQuery) {
      requirePermission(actor, READ);
      const keys = parseSort(query.sort, SCHEDULE_SORTS, 'id', 'name', ['name', 'created_at', 'updated_at']);
      const limit = query.limit ?? 50;
      const page = await repo.list(teamScope(actor), parseFilters(query, SCHEDULE_FILTERS), query.q, keys, query.cursor, limit);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },

    async update(actor: Actor, id: string, body: UpdateScheduleBody) {
      requirePermission(actor, WRITE);
      const current = await load(actor, id);
      const now = deps.clock.now();
      const before = fieldsOf(current);
      const f = mergeScheduleInput(before, body, now);
      if (f.teamId !== current.teamId) checkTeam(actor, f.teamId);
      // Whoever enables a schedule becomes its owner (AWX, Rundeck): its runs act for them from then on.
      const enabling = f.enabled && !current.enabled;
      if (f.templateId !== current.templateId || enabling) await checkTemplate(actor, f.templateId);
      if (f.name !== current.name && (await repo.nameTaken(f.name, id))) throw nameTaken(f.name);
      const owner = enabling ? { ownerId: ownerOf(actor), pausedReason: null } : {};
      const patch: Partial<ScheduleRow> = { ...f, ...owner, ...(timingChanged(before, f) ? nextOf(id, f, now) : {}), updatedAt: iso(now) };
      await write(f.name, async ({ db, schedules }) => {
        if (!(await schedules.update(id, patch))) throw new NotFoundError('SCHEDULE_NOT_FOUND', `Schedule ${id} does not exist`);
        const ownerChange = patch.ownerId !== undefined && patch.ownerId !== current.ownerId ? { owner_id: { from: current.ownerId, to: patch.ownerId } } : {};
        await deps.audit?.record(db, {
          actor,
          action: 'schedule.updated',
          resourceType: 'schedule',
          resourceId: id,
          outcome: 'success',
          changes: { ...body, ...ownerChange },
        });
        await deps.events?.record(db, 'schedule.updated', { id, name: f.name, fields: Object.keys(body).sort(), actor: actorRef(actor) });
      });
      return toView({ ...current, ...patch });
    },

    async setEnabled(actor: Actor, id: string, enabled: boolean) {
      return service.update(actor, id, { enabled });
    },

    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, WRITE);
      const current = await load(actor, id);
      await write(current.name, async ({ db, schedules }) => {
        if (!(await schedules.remove(id))) throw new NotFoundError('SCHEDULE_NOT_FOUND', `Schedule ${id} does not exist`);
        await deps.audit?.record(db, {
          actor,
          action: 'schedule.deleted',
          resourceType: 'schedule',
          resourceId: id,
          outcome: 'success',
          changes: { name: current.name },
        });
        await deps.events?.record(db, 'schedule.deleted', { id, name: current.name, actor: actorRef(actor) });
      });
    },

    /** The next `count` ticks from now, whether or not the schedule is enabled (DST-correct). */
    async preview(actor: Actor, id: string, count: number) {
      requirePermission(actor, READ);
      const s = await load(actor, id);
      const ticks = upcomingTicks(timingOf(s), deps.clock.now(), count);
      return {
        timezone: s.timezone,
        items: ticks.map((t) => ({
          fire_at: iso(t),
          due_at: iso(t + jitterMs(s.id, t, s.jitterSeconds)),
          local_time: DateTime.fromMillis(t, { zone: s.timezone }).toISO({ suppressMilliseconds: true }) ?? iso(t),
        })),
      };
    },

    /** Runs the schedule now, whatever its overlap policy or enabled flag: an explicit request. */
    async trigger(actor: Actor, id: string): Promise<FireView> {
      requirePermission(actor, WRITE);
      const s = await load(actor, id);
      const now = iso(deps.clock.now());
      const fire: FireRow = {
        id: newId(),
        scheduleId: id,
        trigger: 'manual',
        fireAt: now,
        dueAt: now,
        outcome: 'pending',
        missedCount: 0,
        runId: null,
        reason: null,
        claimedBy: deps.nodeId,
        claimedAt: now,
        enqueuedAt: null,
      };
      await checkTemplate(actor, s.templateId);
      await write(s.name, async ({ db, schedules }) => {
        await schedules.insertFires([fire]);
        await deps.audit?.record(db, {
          actor,
          action: 'schedule.triggered',
          resourceType: 'schedule',
          resourceId: id,
          outcome: 'success',
          changes: { fire_id: fire.id },
        });
      });
      await deps.scheduler.dispatch(fire, s);
      const [view] = await views([(await repo.findFire(fire.id)) ?? fire]);
      return view!;
    },

    /** The fires of a schedule, newest first, with the current status of each run they created. */
    async history(actor: Actor, id: string, query: ListFiresQuery) {
      requirePermission(actor, READ);
      await load(actor, id);
      const keys = parseSort(query.sort, FIRE_SORTS, 'id', '-fire_at', ['fire_at']);
      const limit = query.limit ?? 50;
      const page = await repo.history(id, parseFilters(query, FIRE_FILTERS), keys, query.cursor, limit);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },
  };
  return service;

  async function views(rows: FireRow[]): Promise<FireView[]> {
    const ids = rows.map((r) => r.runId).filter((x): x is string => x !== null);
    const statuses = ids.length > 0 ? await deps.runner.runStatuses(ids) : new Map<string, { status: string; finishedAt: string | null }>();
    return rows.map((r) => {
      const run = r.runId ? statuses.get(r.runId) : undefined;
      return {
        id: r.id,
        schedule_id: r.scheduleId,
        trigger: r.trigger as FireView['trigger'],
        fire_at: r.fireAt,
        due_at: r.dueAt,
        outcome: r.outcome as FireView['outcome'],
        missed_count: r.missedCount,
        run_id: r.runId,
        run_status: run?.status ?? null,
        run_finished_at: run?.finishedAt ?? null,
        reason: r.reason,
        enqueued_at: r.enqueuedAt,
      };
    });
  }
}

export type SchedulesService = ReturnType<typeof createSchedulesService>;
