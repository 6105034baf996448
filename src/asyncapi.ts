import type { TSchema } from 'typebox';
import { WS_CLIENT_MESSAGES, WS_CLOSE_CODES, WS_SERVER_MESSAGES } from './modules/jobs/index.js';
import { EventFrame } from './modules/events/index.js';
import { LogsFrame } from './modules/system/index.js';

/** Where the document is served, next to /api/v1/openapi.json (and committed as docs/asyncapi.json). */
export const ASYNCAPI_URL = '/api/v1/asyncapi.json';

const json = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/components/messages/${name}` });

/**
 * The AsyncAPI 3 description of the WebSocket at /api/v1/ws, built from the TypeBox schemas of
 * its messages (`jobs/live.schemas.ts`, and the frames of the channels other modules serve).
 */
export function buildAsyncApi(version: string): Record<string, unknown> {
  const messages: Record<string, TSchema> = { ...WS_CLIENT_MESSAGES, ...WS_SERVER_MESSAGES, event: EventFrame, logs: LogsFrame };
  const closeCodes = Object.entries(WS_CLOSE_CODES).map(([code, why]) => `| ${code} | ${why} |`);
  const logical = {
    control: { ids: ['ready', 'subscribed', 'unsubscribed', 'error'], title: 'Connection replies' },
    jobRun: {
      ids: ['log', 'status', 'end'],
      title: '`job-run:<run id>` — a run’s log lines and status (`jobs:read` on the run); `after` = last sequence seen',
    },
    events: { ids: ['event'], title: '`events` or `events:<glob>,…` — domain events the principal may read (`events:read`); `after` = last cursor seen' },
    systemLogs: { ids: ['logs'], title: '`system.logs` — persisted log entries of every node (`logs:read`)' },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Opsdeck WebSocket API',
      version,
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      description: [
        'One WebSocket at `/api/v1/ws` multiplexes channels. Authenticate at the upgrade: an `Authorization: Bearer` header, an `X-API-Key` header, or `?ticket=` from `POST /api/v1/stream-tickets` (browsers); a browser may connect only from the server’s own or an allowed origin.',
        'The server sends `ready`; the client sends `subscribe` / `unsubscribe` with a `channel`; each frame names its channel. Every subscription is authorised when made and re-checked every second.',
        'Close codes besides the standard ones:\n\n| code | meaning |\n|---|---|\n' + closeCodes.join('\n'),
      ].join('\n\n'),
    },
    servers: {
      opsdeck: {
        host: '{host}',
        pathname: '/api/v1',
        protocol: 'ws',
        description: 'The Opsdeck server (`wss` behind a TLS proxy)',
        variables: { host: { default: 'localhost:3000', description: 'Host and port of the Opsdeck server' } },
        security: [
          { $ref: '#/components/securitySchemes/bearerAuth' },
          { $ref: '#/components/securitySchemes/apiKey' },
          { $ref: '#/components/securitySchemes/ticket' },
        ],
      },
    },
    channels: {
      socket: {
        address: '/ws',
        title: 'The WebSocket',
        description: Object.values(logical)
          .map((l) => `- ${l.title}: ${l.ids.map((id) => `\`${id}\``).join(', ')}`)
          .join('\n'),
        messages: Object.fromEntries(Object.keys(messages).map((name) => [name, ref(name)])),
      },
    },
    operations: {
      subscribe: {
        action: 'send',
        channel: { $ref: '#/channels/socket' },
        summary: 'Subscribe to a channel',
        messages: [{ $ref: '#/channels/socket/messages/subscribe' }],
      },
      unsubscribe: {
        action: 'send',
        channel: { $ref: '#/channels/socket' },
        summary: 'Unsubscribe from a channel',
        messages: [{ $ref: '#/channels/socket/messages/unsubscribe' }],
      },
      ...Object.fromEntries(
        Object.entries(logical).map(([id, l]) => [
          `receive${id[0]!.toUpperCase()}${id.slice(1)}`,
          {
            action: 'receive',
            channel: { $ref: '#/channels/socket' },
            summary: l.title,
            messages: l.ids.map((m) => ({ $ref: `#/channels/socket/messages/${m}` })),
          },
        ]),
      ),
    },
    components: {
      messages: Object.fromEntries(
        Object.entries(messages).map(([name, schema]) => [
          name,
          {
            name,
            title: name,
            summary: String((schema as { description?: string }).description ?? name),
            contentType: 'application/json',
            payload: json(schema),
          },
        ]),
      ),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'httpApiKey', in: 'header', name: 'X-API-Key' },
        ticket: { type: 'httpApiKey', in: 'query', name: 'ticket', description: 'A single-use ticket from POST /api/v1/stream-tickets' },
      },
    },
  };
}
