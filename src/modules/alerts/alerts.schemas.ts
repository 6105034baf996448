import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { filterQuerySchema } from '../../platform/http/filters.js';
import { SEVERITIES, STATES } from './alerts.fns.js';
import { ALERT_FILTERS } from './alerts.service.js';

const lit = <T extends string>(values: readonly T[]) => Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v))));
export const Severity = lit(SEVERITIES);
const Labels = Type.Record(Type.String({ maxLength: 100, pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$' }), Type.String({ maxLength: 500 }), {
  maxProperties: 50,
  description: 'Labels (key: value)',
});

export const Note = Type.Object(
  { at: Timestamp, by: Type.String({ maxLength: 200 }), text: Type.String({ maxLength: 4000 }) },
  { additionalProperties: false },
);

export const Alert = Type.Object(
  {
    id: Uuid,
    source: Type.String({ maxLength: 100 }),
    title: Type.String({ maxLength: 500 }),
    description: Type.String({ maxLength: 10_000 }),
    severity: Severity,
    labels: Labels,
    dedup_key: Type.String({ maxLength: 300 }),
    state: lit(STATES),
    count: Type.Integer({ minimum: 1, description: 'How many times it was seen (repeats of the dedup key)' }),
    assignee_id: Nullable(Uuid),
    notes: Type.Array(Note),
    auto_resolve_at: Nullable(Timestamp),
    first_seen_at: Timestamp,
    last_seen_at: Timestamp,
    acknowledged_at: Nullable(Timestamp),
    acknowledged_by: Nullable(Type.String({ maxLength: 200 })),
    resolved_at: Nullable(Timestamp),
    resolved_by: Nullable(Type.String({ maxLength: 200 })),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const IngestFields = {
  title: Type.String({ minLength: 1, maxLength: 500 }),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  severity: Severity,
  labels: Type.Optional(Labels),
  dedup_key: Type.Optional(
    Type.String({ minLength: 1, maxLength: 300, description: 'Repeats with this key count on the open alert (default: source, title and labels)' }),
  ),
  status: Type.Optional(
    Type.Union([Type.Literal('firing'), Type.Literal('resolved')], { description: '`resolved` resolves the open alert with this dedup key' }),
  ),
  resolve_after_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400, description: 'Resolve by itself this long after it was last seen' })),
};
export const CreateAlertBody = Type.Object({ source: Type.String({ minLength: 1, maxLength: 100 }), ...IngestFields }, { additionalProperties: false });
export type CreateAlertBody = Static<typeof CreateAlertBody>;
export const IngestBody = Type.Object(
  { source: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), ...IngestFields },
  { additionalProperties: false },
);

export const IngestResult = Type.Object(
  { outcome: lit(['created', 'deduplicated', 'resolved', 'ignored'] as const), alert: Nullable(Alert) },
  { additionalProperties: false },
);
export const TokenIngestResult = Type.Object(
  { outcome: lit(['created', 'deduplicated', 'resolved', 'ignored'] as const), alert_id: Nullable(Uuid) },
  { additionalProperties: false },
);

/** Prometheus Alertmanager webhook payload, version 4: every field it defines (unknown fields are refused like on every body). */
export const AlertmanagerBody = Type.Object(
  {
    version: Type.Optional(Type.String({ maxLength: 10 })),
    groupKey: Type.Optional(Type.String({ maxLength: 2000 })),
    truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
    status: Type.Optional(Type.String({ maxLength: 20 })),
    receiver: Type.Optional(Type.String({ maxLength: 500 })),
    groupLabels: Type.Optional(Labels),
    commonLabels: Type.Optional(Labels),
    commonAnnotations: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 10_000 }), { maxProperties: 50 })),
    externalURL: Type.Optional(Type.String({ maxLength: 2000 })),
    alerts: Type.Array(
      Type.Object(
        {
          status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
          labels: Labels,
          annotations: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 10_000 }), { maxProperties: 50 })),
          startsAt: Type.Optional(Type.String({ maxLength: 40 })),
          endsAt: Type.Optional(Type.String({ maxLength: 40 })),
          generatorURL: Type.Optional(Type.String({ maxLength: 2000 })),
          fingerprint: Type.Optional(Type.String({ maxLength: 100 })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);
export type AlertmanagerBody = Static<typeof AlertmanagerBody>;
export const AlertmanagerResult = Type.Object(
  { received: Type.Integer({ minimum: 0 }), outcomes: Type.Array(TokenIngestResult) },
  { additionalProperties: false },
);

export const ALERT_SORTS = ['last_seen_at', 'first_seen_at', 'severity', 'state', 'count', 'title'];
export const ListAlertsQuery = Type.Object(
  {
    ...PageQuery,
    sort: sortQuery(ALERT_SORTS),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text in the title or description' })),
    label: Type.Optional(Type.Array(Type.String({ maxLength: 601 }), { maxItems: 20, description: 'key=value; repeat for more (all must match)' })),
    ...filterQuerySchema(ALERT_FILTERS),
  },
  { additionalProperties: false },
);

export const TransitionBody = Type.Object({ note: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })) }, { additionalProperties: false });
export const UpdateAlertBody = Type.Object(
  { assignee_id: Type.Optional(Nullable(Uuid)), note: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'Appended to the notes' })) },
  { additionalProperties: false, minProperties: 1 },
);

export const IngestToken = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    source: Type.String({ maxLength: 100 }),
    created_by: Type.String({ maxLength: 200 }),
    last_used_at: Nullable(Timestamp),
    created_at: Timestamp,
  },
  { additionalProperties: false },
);
export const CreatedIngestToken = Type.Object(
  { ...IngestToken.properties, token: Type.String({ maxLength: 100, description: 'Shown once; only its hash is stored' }) },
  { additionalProperties: false },
);
export const CreateIngestTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Source of alerts ingested with it (default: webhook)' })),
  },
  { additionalProperties: false },
);
