import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery } from '../../platform/http/pagination.js';

const NodeId = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$', description: 'Unique in the graph; `nodes.<id>` in templates' });
const Parameters = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 100 });

export const WorkflowNode = Type.Object(
  {
    id: NodeId,
    type: Type.String({ minLength: 1, maxLength: 50, description: 'A node type (GET /workflows/node-types)' }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    parameters: Parameters,
    position: Type.Optional(Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false })),
    retry: Type.Optional(
      Type.Object(
        {
          max_attempts: Type.Integer({ minimum: 1, maximum: 20 }),
          backoff_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'Doubles per attempt (default 1000)' })),
        },
        { additionalProperties: false },
      ),
    ),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description: 'Per attempt' })),
    on_error: Type.Optional(
      Type.Union([Type.Literal('stop'), Type.Literal('continue'), Type.Literal('error')], {
        description: 'After the last failed attempt: stop the execution (default), continue on the normal edges, or take the `error` edge',
      }),
    ),
    join: Type.Optional(
      Type.Union([Type.Literal('all'), Type.Literal('any')], { description: 'With several incoming edges: wait for all (default) or run on the first' }),
    ),
  },
  { additionalProperties: false },
);

export const WorkflowEdge = Type.Object(
  {
    from: NodeId,
    to: NodeId,
    port: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Output port of `from` (default `main`; `error` for the error edge)' })),
    condition: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Jinja expression; the edge is taken only when true' })),
  },
  { additionalProperties: false },
);

export const Graph = Type.Object(
  { nodes: Type.Array(WorkflowNode, { maxItems: 500 }), edges: Type.Array(WorkflowEdge, { maxItems: 2000 }) },
  { additionalProperties: false },
);

/** Domain events a workflow may start on (workflows' own events never: no loops). */
export const TRIGGER_EVENTS = [
  'device.created',
  'device.updated',
  'device.deleted',
  'config.changed',
  'config.noncompliant',
  'alert.opened',
  'alert.resolved',
  'run.failed',
  'run.succeeded',
] as const;
const EventName = Type.Union(TRIGGER_EVENTS.map((e) => Type.Literal(e)));
const InputSchema = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  description: 'JSON Schema (draft 2020-12) the input of a manual execution must match; `{}` accepts anything',
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 4000 }),
  folder: Type.String({ maxLength: 200, description: 'A path such as `network/backups`; empty: the root' }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 50, uniqueItems: true }),
  enabled: Type.Boolean({ description: 'Disabled workflows run only manually' }),
  graph: Graph,
  input_schema: InputSchema,
  trigger_events: Type.Array(EventName, {
    maxItems: 20,
    uniqueItems: true,
    description: 'Domain events that start an execution (device.created, config.changed, alert.opened…)',
  }),
  team_id: Nullable(Uuid),
};

export const CreateWorkflowBody = Type.Object(
  {
    name: fields.name,
    description: Type.Optional(fields.description),
    folder: Type.Optional(fields.folder),
    tags: Type.Optional(fields.tags),
    enabled: Type.Optional(fields.enabled),
    graph: fields.graph,
    input_schema: Type.Optional(fields.input_schema),
    trigger_events: Type.Optional(fields.trigger_events),
    team_id: Type.Optional(fields.team_id),
  },
  { additionalProperties: false },
);
export type CreateWorkflowBody = Static<typeof CreateWorkflowBody>;

export const UpdateWorkflowBody = Type.Partial(CreateWorkflowBody, { additionalProperties: false });
export type UpdateWorkflowBody = Static<typeof UpdateWorkflowBody>;

export const Workflow = Type.Object(
  {
    id: Uuid,
    name: fields.name,
    description: fields.description,
    folder: fields.folder,
    tags: fields.tags,
    enabled: fields.enabled,
    version: Type.Integer({ description: 'Incremented by every save; executions record the version they ran' }),
    graph: fields.graph,
    input_schema: fields.input_schema,
    trigger_events: fields.trigger_events,
    webhook_enabled: Type.Boolean(),
    owner_id: Type.String({ maxLength: 100, description: 'The user event and webhook executions act as' }),
    team_id: fields.team_id,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type WorkflowView = Static<typeof Workflow>;

export const WorkflowVersion = Type.Object(
  { version: Type.Integer(), graph: fields.graph, input_schema: fields.input_schema, created_by: Type.String({ maxLength: 200 }), created_at: Timestamp },
  { additionalProperties: false },
);

export const VersionParams = Type.Object({ id: Uuid, version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

export const ListWorkflowsQuery = Type.Object(
  {
    ...PageQuery,
    folder: Type.Optional(Type.String({ maxLength: 200 })),
    tag: Type.Optional(Type.String({ maxLength: 50 })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the name' })),
  },
  { additionalProperties: false },
);
export type ListWorkflowsQuery = Static<typeof ListWorkflowsQuery>;

export const Counted = Type.Object({
  items: Type.Array(Type.Object({ name: Type.String({ maxLength: 200 }), count: Type.Integer() }, { additionalProperties: false })),
});

export const NodeTypeView = Type.Object(
  {
    type: Type.String({ maxLength: 50 }),
    description: Type.String({ maxLength: 2000 }),
    parameters: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the parameters' }),
    output: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the output' }),
    ports: Nullable(
      Type.Array(Type.String({ maxLength: 100 }), { description: 'Output ports (null: the switch cases and `default`); `error` is always there' }),
    ),
    effects: Type.Union([Type.Literal('none'), Type.Literal('job'), Type.Literal('external')]),
  },
  { additionalProperties: false },
);

export const ExportDocument = Type.Object(
  {
    format: Type.Literal('opsdeck.workflow/v1'),
    name: fields.name,
    description: fields.description,
    folder: fields.folder,
    tags: fields.tags,
    graph: fields.graph,
    input_schema: fields.input_schema,
    trigger_events: fields.trigger_events,
  },
  { additionalProperties: false },
);
export type ExportDocument = Static<typeof ExportDocument>;

export const ImportQuery = Type.Object({ name: Type.Optional(fields.name) }, { additionalProperties: false });

export const WebhookToken = Type.Object(
  { token: Type.String({ maxLength: 100, description: 'Shown once; stored hashed' }), url: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);

export const EXECUTION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const NODE_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'interrupted'] as const;
const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

export const NodeRun = Type.Object(
  {
    node_id: Type.String({ maxLength: 100 }),
    type: Type.String({ maxLength: 50 }),
    status: literals(NODE_STATUSES),
    attempt: Type.Integer(),
    port: Nullable(Type.String({ maxLength: 100 })),
    input: Type.Unknown({ description: 'The resolved parameters' }),
    output: Type.Unknown(),
    error: Nullable(Type.String({ maxLength: 4000 })),
    job_run_id: Nullable(Uuid),
    decision: Type.Union(
      [
        Type.Object(
          {
            decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
            by: Type.String({ maxLength: 200 }),
            at: Timestamp,
            comment: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'Approval nodes: who decided what, when' },
    ),
    started_at: Nullable(Timestamp),
    finished_at: Nullable(Timestamp),
  },
  { additionalProperties: false },
);

export const Execution = Type.Object(
  {
    id: Uuid,
    workflow_id: Uuid,
    version: Type.Integer(),
    status: literals(EXECUTION_STATUSES),
    trigger_kind: Type.String({ maxLength: 20 }),
    trigger: Type.Unknown({ description: 'What started it: input, webhook body, event' }),
    actor_id: Type.String({ maxLength: 100, description: 'The user (or system) the execution acts as, re-checked before every node' }),
    team_id: Nullable(Uuid),
    retry_of: Nullable(Uuid),
    error: Nullable(Type.String({ maxLength: 4000 })),
    created_at: Timestamp,
    started_at: Nullable(Timestamp),
    finished_at: Nullable(Timestamp),
    nodes: Type.Array(NodeRun),
  },
  { additionalProperties: false },
);
export type ExecutionView = Static<typeof Execution>;

export const ListExecutionsQuery = Type.Object(
  { ...PageQuery, workflow_id: Type.Optional(Uuid), status: Type.Optional(literals(EXECUTION_STATUSES)) },
  { additionalProperties: false },
);
export type ListExecutionsQuery = Static<typeof ListExecutionsQuery>;

export const ExecuteBody = Type.Object(
  { input: Type.Optional(Type.Unknown({ description: 'Checked against the workflow’s input_schema' })) },
  { additionalProperties: false },
);

export const HookParams = Type.Object({ token: Type.String({ minLength: 10, maxLength: 100 }) }, { additionalProperties: false });
export const HookAccepted = Type.Object({ execution_id: Uuid }, { additionalProperties: false });

export const NodeParams = Type.Object({ id: Uuid, node_id: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }) }, { additionalProperties: false });
export const DecisionBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
