import { Type, type Static } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { Nullable, Timestamp } from '../../platform/http/schemas.js';

export const Liveness = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });

export const DependencyCheck = Type.Object(
  {
    name: Type.String({ maxLength: 50 }),
    status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    latency_ms: Type.Union([Type.Number(), Type.Null()]),
    error: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const Readiness = Type.Object(
  { status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]), checks: Type.Array(DependencyCheck) },
  { additionalProperties: false },
);
export type Readiness = Static<typeof Readiness>;

export const SystemInfo = Type.Object(
  {
    name: Type.Literal('opsdeck'),
    version: Type.String({ maxLength: 50 }),
    mode: Type.Union([Type.Literal('single'), Type.Literal('cluster')]),
    database_dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
    roles: Type.Array(Type.String({ maxLength: 20 })),
    node_version: Type.String({ maxLength: 50 }),
    started_at: Type.String({ format: 'date-time' }),
    uptime_seconds: Type.Number(),
  },
  { additionalProperties: false },
);
export type SystemInfo = Static<typeof SystemInfo>;

export const NodeSeen = Type.Object(
  {
    id: Type.String({ maxLength: 200, description: 'host:pid:suffix of the process' }),
    roles: Type.Array(Type.String({ maxLength: 20 })),
    version: Type.String({ maxLength: 50 }),
    started_at: Timestamp,
    last_seen: { ...Timestamp, description: 'Its last heartbeat (refreshed every 5 s; a node silent for 15 s is dropped)' },
  },
  { additionalProperties: false },
);
export type NodeSeen = Static<typeof NodeSeen>;

export const SystemDetailed = Type.Object(
  {
    ...SystemInfo.properties,
    node_id: Type.String({ maxLength: 200, description: 'This process' }),
    nodes: Type.Array(NodeSeen, { description: 'Nodes alive in the cluster (single-node mode: this one)' }),
    queue: Type.Object(
      {
        queued: Type.Integer({ description: 'Runs waiting (whole cluster)' }),
        running: Type.Record(Type.String(), Type.Integer(), { description: 'Runs running by run type (whole cluster)' }),
      },
      { additionalProperties: false },
    ),
    database_latency_ms: Nullable(Type.Number({ description: '`select 1` round trip; null when it failed' })),
    redis_latency_ms: Nullable(Type.Number({ description: 'Redis round trip; null in single-node mode or when it failed' })),
  },
  { additionalProperties: false },
);
export type SystemDetailed = Static<typeof SystemDetailed>;

const Level = Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('fatal')]);
const Source = Type.Union([
  Type.Literal('api'),
  Type.Literal('worker'),
  Type.Literal('scheduler'),
  Type.Literal('executor'),
  Type.Literal('auth'),
  Type.Literal('workflow'),
]);

export const LogsQuery = Type.Object(
  {
    level: Type.Optional({ ...Level, description: 'The lowest level shown (default info: everything kept)' }),
    source: Type.Optional(Source),
    since: Type.Optional({ ...Timestamp, description: 'Entries at or after this time' }),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text the message contains (case-insensitive)' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const LogItem = Type.Object(
  {
    id: Type.Integer(),
    time: Timestamp,
    level: Level,
    source: Source,
    node: Type.String({ maxLength: 100 }),
    message: Type.String({ maxLength: 1000 }),
    fields: Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { description: "The line's other fields, as the logger redacted them (bounded)" }),
  },
  { additionalProperties: false },
);
export const LogsPage = Type.Object({ items: Type.Array(LogItem), next_cursor: Nullable(Type.String({ maxLength: 2048 })) }, { additionalProperties: false });

/** The WebSocket frame of the `system.logs` channel (`system-logs.service.ts#channel`). */
export const LogsFrame = Type.Object(
  { type: Type.Literal('logs'), channel: Type.Literal('system.logs'), entries: Type.Array(LogItem) },
  { additionalProperties: false, description: 'system.logs: persisted log entries of every node as they are written.' },
);
