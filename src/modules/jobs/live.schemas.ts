import { Type, type TSchema } from 'typebox';
import { Nullable } from '../../platform/http/schemas.js';
import { LogLine } from './jobs.schemas.js';

/**
 * The messages of the WebSocket at /api/v1/ws (`live.routes.ts#serveSocket`), as TypeBox schemas:
 * the AsyncAPI document (`src/asyncapi.ts`) is generated from them and `test/asyncapi.test.ts`
 * checks real frames against them. Channels other modules serve add their own (`LiveChannel`).
 */
const Channel = Type.String({ maxLength: 200, description: '`job-run:<run id>`, `events`, `events:<glob>,…` or `system.logs`' });
const frame = (type: string, props: Record<string, TSchema>, description: string) =>
  Type.Object({ type: Type.Literal(type), ...props }, { additionalProperties: false, description });

/** What a client sends. */
export const WS_CLIENT_MESSAGES = {
  subscribe: Type.Object(
    {
      type: Type.Literal('subscribe'),
      channel: Channel,
      after: Type.Optional(
        Type.Union([
          Type.Integer({ minimum: 0, description: 'job-run: the last log sequence seen' }),
          Type.String({ maxLength: 60, description: 'events: the last cursor seen' }),
        ]),
      ),
    },
    { description: 'Subscribe to a channel, resuming after a position. Repeating a subscription is a no-op.' },
  ),
  unsubscribe: Type.Object({ type: Type.Literal('unsubscribe'), channel: Channel }, { description: 'Stop a subscription; answered with `unsubscribed`.' }),
};

/** What the server sends on every channel. */
export const WS_SERVER_MESSAGES = {
  ready: frame('ready', {}, 'Sent once after the upgrade: the connection is authenticated and takes subscriptions.'),
  subscribed: frame('subscribed', { channel: Channel }, 'The subscription is authorised; frames of the channel follow.'),
  unsubscribed: frame('unsubscribed', { channel: Channel }, 'The subscription has ended.'),
  error: frame(
    'error',
    {
      code: Type.String({
        maxLength: 60,
        description:
          '`WS_SUBSCRIBE_DENIED` (no such channel or no access: the same answer), `WS_BAD_MESSAGE`, `DATABASE_UNAVAILABLE`, `WS_SUBSCRIBE_FAILED`, or a validation code',
      }),
      message: Type.String({ maxLength: 1000 }),
      channel: Type.Optional(Channel),
    },
    'A refused message or subscription; the connection stays open (too many denied subscriptions close it with 4429).',
  ),
  log: frame('log', { channel: Channel, lines: Type.Array(LogLine) }, 'job-run: new log lines, in sequence order.'),
  status: frame(
    'status',
    { channel: Channel, status: Type.String({ maxLength: 20 }), reason: Nullable(Type.String({ maxLength: 1000 })) },
    'job-run: the run changed status.',
  ),
  end: frame('end', { channel: Channel, status: Type.String({ maxLength: 20 }) }, 'job-run: the run ended; no more frames on this channel.'),
};

/** Close codes the server uses besides the standard ones. */
export const WS_CLOSE_CODES: Readonly<Record<number, string>> = {
  4008: 'Slow consumer: more than 1 MiB unsent. Reconnect and resubscribe with `after` = the last sequence or cursor seen.',
  4401: 'The session, token or API key of the connection is no longer valid (`credential_revoked`).',
  4403: 'The principal may no longer read a subscribed channel (`access_revoked`).',
  4429: 'Too many denied subscriptions.',
};
