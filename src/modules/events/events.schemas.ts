import { Type, type Static } from 'typebox';
import { StreamTicketQuery, Timestamp, Uuid } from '../../platform/http/schemas.js';

const Filter = Type.String({ maxLength: 1000, description: 'Comma-separated event names or globs, e.g. `device.*,run.failed`' });
const CursorText = Type.String({ maxLength: 60, description: 'An event cursor (the SSE id / `cursor` of an event)' });

export const EventsStreamQuery = Type.Object(
  { after: Type.Optional(CursorText), events: Type.Optional(Filter), ...StreamTicketQuery },
  { additionalProperties: false },
);
export const EventsHistoryQuery = Type.Object(
  { after: Type.Optional(CursorText), events: Type.Optional(Filter), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
export type EventsHistoryQuery = Static<typeof EventsHistoryQuery>;

export const EventItem = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    created_at: Timestamp,
    payload: Type.Unknown({ description: 'What the event carries (ids, names, changed fields, the acting principal)' }),
    cursor: CursorText,
  },
  { additionalProperties: false },
);

/** The WebSocket frame of the `events` channel (`events.routes.ts#eventsChannel`), one per event. */
export const EventFrame = Type.Object(
  { type: Type.Literal('event'), channel: Type.String({ maxLength: 200 }), event: EventItem },
  { additionalProperties: false, description: 'events: a domain event the subscriber may read, in cursor order.' },
);
