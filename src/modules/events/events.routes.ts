import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, Page } from '../../platform/http/schemas.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { sseEndFrame, type StreamGuard } from '../../platform/http/stream-guard.js';
import type { LiveChannel } from '../jobs/index.js';
import { EventItem, EventsHistoryQuery, EventsStreamQuery } from './events.schemas.js';
import { parseCursor, parseNameFilter, type EventsService, type EventView } from './events.service.js';

/** A reader further behind than this is disconnected (it resumes with Last-Event-ID). */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 15_000;
const tags = ['events'];

const frame = (e: EventView) => `id: ${e.cursor}\ndata: ${JSON.stringify(e)}\n\n`;

interface StreamDeps {
  service: EventsService;
  guard: StreamGuard;
  /** Open streams, ended when the server closes. */
  open: Set<() => void>;
}

async function streamSse(
  reply: FastifyReply,
  deps: StreamDeps,
  actor: Actor,
  from: ReturnType<typeof parseCursor>,
  wants: (name: string) => boolean,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write(': stream start\n\n');
  const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
  let off: (() => void) | null = null;
  let reader = actor;
  const unwatch = deps.guard.watch({
    actor,
    recheck: (now) => {
      requirePermission(now, 'events:read');
      reader = now;
      return Promise.resolve();
    },
    end: (loss) => {
      if (!raw.writableEnded) raw.write(sseEndFrame(loss));
      close();
    },
  });
  function close(): void {
    deps.open.delete(close);
    unwatch();
    clearInterval(keepalive);
    off?.();
    if (!raw.writableEnded) raw.end();
  }
  deps.open.add(close);
  raw.on('close', close);
  try {
    off = await deps.service.stream(
      () => reader,
      from,
      wants,
      (events) => {
        if (raw.writableEnded) return false;
        raw.write(events.map(frame).join(''));
        if (raw.writableLength > MAX_BUFFERED_BYTES) {
          setImmediate(close);
          return false;
        }
        return true;
      },
    );
  } catch (err) {
    // The response has started: the client sees the stream end and reconnects with Last-Event-ID.
    reply.log.error({ err }, 'event stream failed');
    close();
    return;
  }
  if (raw.writableEnded) off();
}

/** GET /api/v1/events (Server-Sent Events) and /api/v1/events/history. */
export function eventsRoutes(service: EventsService, guard: StreamGuard): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Open streams end when the server closes; otherwise close() would wait for every client.
    const open = new Set<() => void>();
    app.addHook('preClose', (done) => {
      for (const close of [...open]) close();
      done();
    });
    app.get(
      '/events',
      {
        config: { permission: 'events:read', stream: true },
        schema: {
          operationId: 'streamEvents',
          tags,
          summary:
            'Domain events the caller may read, as Server-Sent Events (id = cursor; resume with Last-Event-ID or ?after=); EventSource authenticates with ?ticket= from POST /stream-tickets',
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 60 })) }),
          querystring: EventsStreamQuery,
          produces: ['text/event-stream'],
          response: {
            200: Type.String({
              description:
                'text/event-stream: one `data:` JSON event (id, name, created_at, payload, cursor) per domain event, `id:` = cursor; an `end` event `{reason, message}` when the caller lost access',
            }),
            ...errorResponses(),
          },
        },
      },
      async (req, reply) => {
        const header = req.headers['last-event-id'];
        const from = header !== undefined ? parseCursor(header, 'headers.last-event-id') : parseCursor(req.query.after, 'query.after');
        const wants = parseNameFilter(req.query.events, 'query.events');
        await streamSse(reply, { service, guard, open }, req.actor, from, wants);
      },
    );
    app.get(
      '/events/history',
      {
        config: { permission: 'events:read' },
        schema: {
          operationId: 'listEvents',
          tags,
          summary: 'Retained domain events the caller may read, oldest first',
          querystring: EventsHistoryQuery,
          response: { 200: Page(EventItem), ...errorResponses() },
        },
      },
      async (req) => service.history(req.actor, req.query),
    );
  };
}

/** The `events` WebSocket channel: `{"type":"subscribe","channel":"events","after":"<cursor>"}`, optionally `events:device.*,run.*`. */
export function eventsChannel(service: EventsService): LiveChannel {
  return {
    matches: (channel) => channel === 'events' || channel.startsWith('events:'),
    authorise: (actor) => requirePermission(actor, 'events:read'),
    async subscribe(actor, channel, after, send, onSlow) {
      const wants = parseNameFilter(channel.startsWith('events:') ? channel.slice('events:'.length) : undefined, 'channel');
      const from = typeof after === 'string' ? parseCursor(after, 'after') : null;
      const off = await service.stream(actor, from, wants, (events) => {
        let ok = true;
        for (const e of events) ok = send({ type: 'event', channel, event: e }) && ok;
        if (!ok) onSlow();
        return ok;
      });
      send({ type: 'subscribed', channel });
      return async () => off();
    },
  };
}
