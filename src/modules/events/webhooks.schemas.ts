import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';

const EventGlob = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[a-z0-9_.*-]+$',
  description: 'An event name or glob: `device.*`, `run.failed`, `*`',
});
const Url = Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://', description: 'http:// or https:// URL the events are POSTed to' });
const Secret = Type.String({ minLength: 16, maxLength: 512, description: 'HMAC-SHA256 signing secret; write-only (never returned)' });

export const CreateWebhookBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    url: Url,
    secret: Secret,
    events: Type.Array(EventGlob, { minItems: 1, maxItems: 50 }),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    url: Type.Optional(Url),
    secret: Type.Optional(Secret),
    events: Type.Optional(Type.Array(EventGlob, { minItems: 1, maxItems: 50 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

export const Webhook = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    url: Type.String({ maxLength: 2048 }),
    events: Type.Array(Type.String({ maxLength: 100 })),
    enabled: Type.Boolean(),
    secret: Type.Object({ set: Type.Boolean() }, { additionalProperties: false, description: 'The secret itself is never returned' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const ListWebhooksQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    cursor: Type.Optional(Type.String({ maxLength: 2048 })),
    sort: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListWebhooksQuery = Static<typeof ListWebhooksQuery>;

export const Delivery = Type.Object(
  {
    id: Uuid,
    webhook_id: Uuid,
    event_id: Uuid,
    event_name: Type.String({ maxLength: 100 }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Integer({ minimum: 0 }),
    next_attempt_at: Nullable(Timestamp),
    status_code: Nullable(Type.Integer()),
    duration_ms: Nullable(Type.Integer({ minimum: 0 })),
    error: Nullable(Type.String({ maxLength: 2000 })),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false, description: 'One event sent to one webhook: the latest attempt’s status code, duration and error' },
);

export const ListDeliveriesQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    cursor: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>;
