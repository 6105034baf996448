import { Type, type Static } from 'typebox';

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
