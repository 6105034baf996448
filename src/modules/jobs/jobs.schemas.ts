import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { filterQuerySchema, type FilterFields } from '../../platform/http/filters.js';
import { RUN_STATUSES, TARGET_STATUSES, TRIGGER_KINDS } from './run-state.fns.js';

/** A string enum whose Static type is the union of its values. */
const literals = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Unsafe<T>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      options,
    ),
  );

const TypeName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,49}$', maxLength: 50, description: 'Executor type, see GET /api/v1/jobs/types' });
const Host = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9._:\\[\\]%-]+$', description: 'Host name or IP address' });
const InventoryRef = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 200, description }));
const FilterValue = Type.Union([Type.String({ maxLength: 500 }), Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })]);
type SelectorOf =
  | { device_id: string }
  | { device: string }
  | { group: string }
  | { location: string }
  | { tag: string }
  | { role: string }
  | { platform: string }
  | { filter: Record<string, string | string[]> };
/**
 * Inventory selectors, resolved when the run executes (not when it is created): an object with
 * exactly one key (one schema rather than a union, so a bad key is one error naming it).
 */
export const Selector = Type.Unsafe<SelectorOf>(
  Type.Object(
    {
      device_id: Type.Optional(Uuid),
      device: InventoryRef('A device by id or name'),
      group: InventoryRef('A static or dynamic device group by id or name'),
      location: InventoryRef('A location by id or name, with every location below it'),
      tag: InventoryRef('Devices with this tag (id or name)'),
      role: InventoryRef('Devices with this role (id or name)'),
      platform: InventoryRef('Devices of this platform (id or name)'),
      filter: Type.Optional(
        Type.Record(Type.String({ maxLength: 100 }), FilterValue, {
          minProperties: 1,
          maxProperties: 50,
          description: 'Any device-list filter, e.g. {"role": ["core"], "location": ["dc1"]}',
        }),
      ),
    },
    { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'One inventory selector: exactly one of its keys' },
  ),
);
export const TargetSpec = Type.Union([Host, Selector]);
export type TargetSpec = Static<typeof TargetSpec>;
const Params = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description: "Executor parameters, validated against the type's schema" });
const CredentialId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:-]+$' });
const Tag = Type.String({ minLength: 1, maxLength: 100 });

/** Limits shared by runs and templates; omitted ones take the defaults in parentheses. */
export const RunLimits = {
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Higher runs first (5)' })),
  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Attempts including the first (1)' })),
  backoff_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Base of the exponential retry backoff (1000)' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'Whole-run timeout (3600000)' })),
  target_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'Per-target timeout (300000)' })),
  target_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Targets worked on at once (10)' })),
};

export const CreateRunBody = Type.Object(
  {
    type: Type.Optional(TypeName),
    template_id: Type.Optional(Uuid),
    targets: Type.Optional(Type.Array(TargetSpec, { maxItems: 10_000 })),
    params: Type.Optional(Params),
    credential_id: Type.Optional(CredentialId),
    not_before: Type.Optional(Timestamp),
    expires_at: Type.Optional(Timestamp),
    ...RunLimits,
  },
  { additionalProperties: false },
);
export type CreateRunBody = Static<typeof CreateRunBody>;

export const RetryRunBody = Type.Object(
  { only_failed: Type.Optional(Type.Boolean({ description: 'Retry only the targets that did not succeed (true)' })) },
  { additionalProperties: false },
);

/** Set when a credential reference is hidden from the reader (docs/architecture.md "Team scoping"). */
const CredentialRestricted = Type.Boolean({
  description: "true when credential_id names another team's credential or profile: the reference is hidden (null) from this reader",
});

export const Run = Type.Object(
  {
    id: Uuid,
    type: Type.String({ maxLength: 50 }),
    status: literals(RUN_STATUSES),
    blocked_by: Nullable(Type.String({ maxLength: 200, description: 'Why a queued run is not running yet' })),
    queue_position: Nullable(
      Type.Integer({
        minimum: 0,
        description:
          'Queued runs ahead of this one (null unless queued). Counted when read; in the answer to a create with 1,000 or more runs ahead, estimated: the queue as counted at most 250 ms before, plus the runs this node created since',
      }),
    ),
    attempt: Type.Integer({ minimum: 0 }),
    max_attempts: Type.Integer({ minimum: 1 }),
    priority: Type.Integer(),
    params: Params,
    targets: Type.Array(TargetSpec),
    credential_id: Nullable(Type.String({ maxLength: 100 })),
    credential_restricted: CredentialRestricted,
    template_id: Nullable(Uuid),
    team_id: Nullable(Uuid),
    retry_of: Nullable(Uuid),
    trigger: Type.Object({ kind: literals(TRIGGER_KINDS), id: Nullable(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
    initiator: Nullable(
      Type.Object(
        { kind: Type.Union([Type.Literal('user'), Type.Literal('api_key')]), id: Type.String({ maxLength: 100 }) },
        {
          additionalProperties: false,
          description: "Who the run acts for, re-checked when it executes: the user or API key that started it, or the schedule's owner; null: the system",
        },
      ),
    ),
    reason: Nullable(Type.String({ maxLength: 2000 })),
    timeout_ms: Type.Integer(),
    target_timeout_ms: Type.Integer(),
    target_concurrency: Type.Integer(),
    backoff_ms: Type.Integer(),
    changes_devices: Type.Boolean(),
    cancel_requested: Type.Boolean(),
    worker_id: Nullable(Type.String({ maxLength: 200 })),
    log_lines: Type.Integer({ minimum: 0 }),
    log_dropped: Type.Integer({ minimum: 0 }),
    not_before: Nullable(Timestamp),
    expires_at: Nullable(Type.String({ format: 'date-time', maxLength: 40, description: 'A run not started by then ends `expired` instead of running late' })),
    created_at: Timestamp,
    started_at: Nullable(Timestamp),
    finished_at: Nullable(Timestamp),
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type RunView = Static<typeof Run>;

/** What a target was resolved from and which credential served it (by id, never value). */
const TargetIdentity = {
  device_name: Nullable(Type.String({ maxLength: 200, description: 'The device name when the target was resolved' })),
  network_driver: Nullable(Type.String({ maxLength: 100, description: "The device platform's network driver (chooses the CLI mode and parsers)" })),
  selector: Nullable(Type.String({ maxLength: 300, description: 'The selector that matched this device, e.g. group:core' })),
  credential_id: Nullable(Type.String({ maxLength: 100, description: 'The credential that served this target' })),
  credential_profile_id: Nullable(Type.String({ maxLength: 100, description: 'The credential profile tried, when the credential came from one' })),
  credential_source: Nullable(
    literals(['run', 'run_profile', 'device', 'device_profile', 'location_profile', 'group_profile'] as const, {
      description: 'Where the credential came from',
    }),
  ),
};

export const RunTarget = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    host: Type.String({ maxLength: 300 }),
    device_id: Nullable(Type.String({ maxLength: 100 })),
    status: literals(TARGET_STATUSES),
    attempt: Type.Integer({ minimum: 0 }),
    error: Nullable(Type.String({ maxLength: 4000 })),
    ...TargetIdentity,
  },
  { additionalProperties: false },
);
export type RunTargetView = Static<typeof RunTarget>;
export const RunTargets = Type.Object(
  {
    run_id: Uuid,
    resolved: Type.Boolean({ description: 'False while inventory selectors wait to be resolved when the run executes' }),
    items: Type.Array(RunTarget),
  },
  { additionalProperties: false },
);

export const TargetResult = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    host: Type.String({ maxLength: 300 }),
    device_id: Nullable(Type.String({ maxLength: 100 })),
    status: literals(TARGET_STATUSES),
    attempt: Type.Integer({ minimum: 0 }),
    started_at: Nullable(Timestamp),
    finished_at: Nullable(Timestamp),
    duration_ms: Nullable(Type.Integer()),
    output: Nullable(Type.String()),
    parsed: Type.Unknown(),
    error: Nullable(Type.String({ maxLength: 4000 })),
    ...TargetIdentity,
  },
  { additionalProperties: false },
);
export type TargetResultView = Static<typeof TargetResult>;

export const RunOutput = Type.Object(
  {
    run_id: Uuid,
    status: Type.String({ maxLength: 20 }),
    report: Type.Unknown({ description: "The run's parsed report (local_command)" }),
    targets: Type.Array(TargetResult),
  },
  { additionalProperties: false },
);

export const LogLine = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    ts: Timestamp,
    level: Type.String({ maxLength: 10 }),
    target: Nullable(Type.String({ maxLength: 300 })),
    message: Type.String(),
  },
  { additionalProperties: false },
);
export const LogPage = Type.Object({ items: Type.Array(LogLine), next_cursor: Nullable(Type.String({ maxLength: 20 })) }, { additionalProperties: false });
export const LogQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Return lines after this sequence number' })),
    cursor: Type.Optional(Type.String({ maxLength: 20, pattern: '^[0-9]+$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  },
  { additionalProperties: false },
);
export const Deleted = Type.Object({ deleted: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

export const RUN_FILTERS: FilterFields = {
  status: { type: 'enum', column: 'status', values: RUN_STATUSES },
  type: { type: 'string', column: 'type' },
  template_id: { type: 'uuid', column: 'templateId' },
  team_id: { type: 'uuid', column: 'teamId' },
  credential_id: { type: 'string', column: 'credentialId' },
  trigger_kind: { type: 'enum', column: 'triggerKind', values: TRIGGER_KINDS },
  created_at: { type: 'date', column: 'createdAt' },
  finished_at: { type: 'date', column: 'finishedAt' },
};
export const RUN_SORTS = { created_at: 'createdAt', finished_at: 'finishedAt', priority: 'priority', status: 'status', type: 'type' };
export const ListRunsQuery = Type.Object(
  { ...PageQuery, sort: sortQuery(Object.keys(RUN_SORTS)), ...filterQuerySchema(RUN_FILTERS) },
  { additionalProperties: false },
);
export const LatestQuery = Type.Object(
  { template: Type.String({ minLength: 1, maxLength: 200, description: 'Template id or name' }) },
  { additionalProperties: false },
);

export const ExecutorType = Type.Object(
  {
    type: Type.String({ maxLength: 50 }),
    description: Type.String({ maxLength: 1000 }),
    credential: Type.Union([Type.Literal('required'), Type.Literal('optional'), Type.Literal('none')]),
    targets: Type.Union([Type.Literal('required'), Type.Literal('optional')]),
    params_schema: Type.Unknown(),
    output_schema: Type.Unknown(),
  },
  { additionalProperties: false },
);
export const ExecutorTypes = Type.Object({ items: Type.Array(ExecutorType) }, { additionalProperties: false });

const TemplateFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  type: TypeName,
  targets: Type.Optional(Type.Array(TargetSpec, { maxItems: 10_000 })),
  params: Type.Optional(Params),
  credential_id: Type.Optional(Nullable(CredentialId)),
  tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
  folder: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  team_id: Type.Optional(
    Nullable(Type.String({ format: 'uuid', maxLength: 36, description: 'The team that may see and run the template; null (default): shared with everyone' })),
  ),
  ...RunLimits,
};
export const CreateTemplateBody = Type.Object(TemplateFields, { additionalProperties: false });
export type CreateTemplateBody = Static<typeof CreateTemplateBody>;
export const UpdateTemplateBody = Type.Partial(Type.Object(TemplateFields), { additionalProperties: false, minProperties: 1 });
export type UpdateTemplateBody = Static<typeof UpdateTemplateBody>;
export const RunTemplateBody = Type.Object(
  {
    params: Type.Optional(Params),
    targets: Type.Optional(Type.Array(TargetSpec, { maxItems: 10_000 })),
    credential_id: Type.Optional(CredentialId),
    not_before: Type.Optional(Timestamp),
    expires_at: Type.Optional(Timestamp),
    priority: RunLimits.priority,
  },
  { additionalProperties: false },
);
export type RunTemplateBody = Static<typeof RunTemplateBody>;

export const Template = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    description: Nullable(Type.String({ maxLength: 2000 })),
    type: Type.String({ maxLength: 50 }),
    targets: Type.Array(TargetSpec),
    params: Params,
    credential_id: Nullable(Type.String({ maxLength: 100 })),
    priority: Type.Integer(),
    max_attempts: Type.Integer(),
    backoff_ms: Type.Integer(),
    timeout_ms: Type.Integer(),
    target_timeout_ms: Type.Integer(),
    target_concurrency: Type.Integer(),
    tags: Type.Array(Type.String({ maxLength: 100 })),
    folder: Nullable(Type.String({ maxLength: 200 })),
    team_id: Nullable(Uuid),
    credential_restricted: CredentialRestricted,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type TemplateView = Static<typeof Template>;
export const TEMPLATE_FILTERS: FilterFields = {
  name: { type: 'string', column: 'name' },
  type: { type: 'string', column: 'type' },
  folder: { type: 'string', column: 'folder' },
  team_id: { type: 'uuid', column: 'teamId' },
};
export const TEMPLATE_SORTS = { name: 'name', created_at: 'createdAt', updated_at: 'updatedAt' };
export const ListTemplatesQuery = Type.Object(
  { ...PageQuery, sort: sortQuery(Object.keys(TEMPLATE_SORTS)), ...filterQuerySchema(TEMPLATE_FILTERS) },
  { additionalProperties: false },
);
