import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { filterQuerySchema, type FilterFields } from '../../platform/http/filters.js';
import { MAX_INTERVAL_SECONDS } from './schedules.fns.js';

export const KINDS = ['cron', 'interval', 'once'] as const;
export const OVERLAPS = ['skip', 'queue', 'allow'] as const;
export const MISFIRES = ['skip', 'run_once'] as const;
/**
 * What became of a fire: `pending` (claimed, run being created), `waiting` (overlap `queue`:
 * behind the previous run), `enqueued` (run created), `skipped_overlap`, `missed` (misfire
 * `skip`), `failed` (the run could not be created, e.g. its parameters no longer validate),
 * `refused` (the owner may no longer run it: the schedule was paused, see `paused_reason`).
 */
export const OUTCOMES = ['pending', 'waiting', 'enqueued', 'skipped_overlap', 'missed', 'failed', 'refused'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const Time = (description: string) => Type.String({ format: 'date-time', maxLength: 40, description });

const Overrides = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 100,
  description: "Parameters merged over the template's for every run this schedule creates",
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 2000 })),
  template_id: Uuid,
  kind: Type.Union([Type.Literal('cron'), Type.Literal('interval'), Type.Literal('once')]),
  // Not nullable: Ajv's type coercion would turn 0 or "" into null and hide the real error.
  cron: Type.String({ minLength: 1, maxLength: 200, description: '5 fields (minute first) or 6 (second first); kind `cron`' }),
  timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone the cron expression is read in (UTC)' }),
  interval_seconds: Type.Integer({ minimum: 1, maximum: MAX_INTERVAL_SECONDS, description: 'kind `interval`' }),
  interval: Type.String({ minLength: 2, maxLength: 64, description: 'kind `interval` as an ISO 8601 duration (PT15M), instead of interval_seconds' }),
  anchor_at: Nullable(Time('Interval ticks fall on anchor_at + k × interval (default: creation time)')),
  at: Time('kind `once`: when to run'),
  enabled: Type.Boolean(),
  start_at: Nullable(Time('No tick before this time')),
  end_at: Nullable(Time('No tick after this time')),
  overrides: Overrides,
  overlap: Type.Union([Type.Literal('skip'), Type.Literal('queue'), Type.Literal('allow')], {
    description: 'While the previous run is active: skip this tick (skip), run it after (queue), or run both (allow)',
  }),
  misfire: Type.Union([Type.Literal('skip'), Type.Literal('run_once')], {
    description: 'Ticks missed while no scheduler ran: skip them, or catch up with one run (run_once)',
  }),
  jitter_seconds: Type.Integer({ minimum: 0, maximum: 3600, description: 'Each tick is delayed by a stable random 0..jitter_seconds' }),
  team_id: Nullable(Uuid),
};

export const CreateScheduleBody = Type.Object(
  {
    name: fields.name,
    description: Type.Optional(fields.description),
    template_id: fields.template_id,
    kind: fields.kind,
    cron: Type.Optional(fields.cron),
    timezone: Type.Optional(fields.timezone),
    interval_seconds: Type.Optional(fields.interval_seconds),
    interval: Type.Optional(fields.interval),
    anchor_at: Type.Optional(fields.anchor_at),
    at: Type.Optional(fields.at),
    enabled: Type.Optional(fields.enabled),
    start_at: Type.Optional(fields.start_at),
    end_at: Type.Optional(fields.end_at),
    overrides: Type.Optional(fields.overrides),
    overlap: Type.Optional(fields.overlap),
    misfire: Type.Optional(fields.misfire),
    jitter_seconds: Type.Optional(fields.jitter_seconds),
    team_id: Type.Optional(fields.team_id),
  },
  { additionalProperties: false },
);
export type CreateScheduleBody = Static<typeof CreateScheduleBody>;

/** Every field optional; the merged schedule is checked as a whole. */
export const UpdateScheduleBody = Type.Partial(CreateScheduleBody, { additionalProperties: false, minProperties: 1 });
export type UpdateScheduleBody = Static<typeof UpdateScheduleBody>;

export const Schedule = Type.Object(
  {
    id: Uuid,
    name: fields.name,
    description: fields.description,
    template_id: Uuid,
    kind: fields.kind,
    cron: Nullable(Type.String({ maxLength: 200 })),
    timezone: fields.timezone,
    interval_seconds: Nullable(fields.interval_seconds),
    interval: Nullable(Type.String({ maxLength: 64 })),
    anchor_at: Nullable(Timestamp),
    at: Nullable(Timestamp),
    enabled: Type.Boolean(),
    start_at: Nullable(Timestamp),
    end_at: Nullable(Timestamp),
    overrides: Overrides,
    overlap: fields.overlap,
    misfire: fields.misfire,
    jitter_seconds: fields.jitter_seconds,
    owner_id: Type.String({
      maxLength: 100,
      description: 'The user the runs act for, with their permissions and teams as they are at each fire; whoever enables the schedule becomes its owner',
    }),
    team_id: Nullable(Uuid),
    paused_reason: Nullable(
      Type.String({ maxLength: 1000, description: 'Why the scheduler disabled this schedule (its owner may no longer run it); null once enabled again' }),
    ),
    next_fire_at: Nullable(Time('Next tick; null when disabled or finished')),
    last_fire_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type ScheduleView = Static<typeof Schedule>;

export const SCHEDULE_FILTERS: FilterFields = {
  name: { type: 'string', column: 'name' },
  kind: { type: 'enum', column: 'kind', values: KINDS },
  enabled: { type: 'bool', column: 'enabled' },
  template_id: { type: 'uuid', column: 'templateId' },
  team_id: { type: 'uuid', column: 'teamId' },
  next_fire_at: { type: 'date', column: 'nextFireAt' },
};
export const SCHEDULE_SORTS = { name: 'name', created_at: 'createdAt', next_fire_at: 'nextFireAt', updated_at: 'updatedAt' };
export const ListSchedulesQuery = Type.Object(
  {
    ...PageQuery,
    sort: sortQuery(Object.keys(SCHEDULE_SORTS)),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text in the name or description' })),
    ...filterQuerySchema(SCHEDULE_FILTERS),
  },
  { additionalProperties: false },
);
export type ListSchedulesQuery = Static<typeof ListSchedulesQuery>;

export const PreviewQuery = Type.Object({ count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }, { additionalProperties: false });
export const Preview = Type.Object(
  {
    timezone: fields.timezone,
    items: Type.Array(
      Type.Object(
        {
          fire_at: Timestamp,
          due_at: Time('fire_at plus this tick’s jitter'),
          local_time: Type.String({ maxLength: 40, description: 'fire_at in the schedule’s time zone, with offset' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);

export const Fire = Type.Object(
  {
    id: Uuid,
    schedule_id: Uuid,
    trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual')]),
    fire_at: Timestamp,
    due_at: Timestamp,
    outcome: Type.Union([
      Type.Literal('pending'),
      Type.Literal('waiting'),
      Type.Literal('enqueued'),
      Type.Literal('skipped_overlap'),
      Type.Literal('missed'),
      Type.Literal('failed'),
      Type.Literal('refused'),
    ]),
    missed_count: Type.Integer({ minimum: 0, description: 'Missed ticks this fire stands for (misfire)' }),
    run_id: Nullable(Uuid),
    run_status: Nullable(Type.String({ maxLength: 30, description: "The run's current status" })),
    run_finished_at: Nullable(Timestamp),
    reason: Nullable(Type.String({ maxLength: 1000 })),
    enqueued_at: Nullable(Timestamp),
  },
  { additionalProperties: false },
);
export type FireView = Static<typeof Fire>;

export const FIRE_FILTERS: FilterFields = {
  outcome: { type: 'enum', column: 'outcome', values: OUTCOMES },
  trigger: { type: 'enum', column: 'trigger', values: ['schedule', 'manual'] },
  fire_at: { type: 'date', column: 'fireAt' },
};
export const FIRE_SORTS = { fire_at: 'fireAt' };
export const ListFiresQuery = Type.Object(
  { ...PageQuery, sort: sortQuery(Object.keys(FIRE_SORTS)), ...filterQuerySchema(FIRE_FILTERS) },
  { additionalProperties: false },
);
export type ListFiresQuery = Static<typeof ListFiresQuery>;
