import { Type, type Static, type TSchema } from 'typebox';

/** RFC 9457 problem details, the body of every error response. */
export const Problem = Type.Object(
  {
    type: Type.String({ maxLength: 2048 }),
    title: Type.String({ maxLength: 200 }),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String({ maxLength: 4096 })),
    code: Type.String({ maxLength: 100, description: 'Stable machine-readable error code, e.g. DEVICE_NOT_FOUND' }),
    instance: Type.Optional(Type.String({ maxLength: 2048 })),
    request_id: Type.Optional(Type.String({ maxLength: 200 })),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String({ maxLength: 500 }), message: Type.String({ maxLength: 1000 }) }, { additionalProperties: false }), {
        maxItems: 1000,
      }),
    ),
  },
  { $id: 'Problem', title: 'Problem', additionalProperties: false },
);
export type Problem = Static<typeof Problem>;

/** A reference to the shared Problem schema for response maps. */
export const ProblemRef = Type.Unsafe<Problem>(Type.Ref('Problem'));

/** Error statuses every route can answer, merged into each route's response map. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of [400, 401, 403, 429, 500, 503, ...statuses]) out[s] = ProblemRef;
  return out;
}

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid', maxLength: 36 }) }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** `{ items, next_cursor }`, the shape of every list. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String({ maxLength: 2048 }), Type.Null()]) }, { additionalProperties: false });

/** The single-use stream ticket a `config.stream` route accepts instead of the Authorization header (EventSource cannot set headers). */
export const StreamTicketQuery = {
  ticket: Type.Optional(Type.String({ maxLength: 100, description: 'A single-use ticket from POST /api/v1/stream-tickets' })),
};
