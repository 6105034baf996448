import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import type { Actor } from '../../platform/http/auth.js';
import { errorResponses, IdParams, StreamTicketQuery } from '../../platform/http/schemas.js';
import { sseEndFrame, type StreamGuard } from '../../platform/http/stream-guard.js';
import { canonicalId, isUuid } from '../../platform/ids.js';
import { AppError, isDatabaseUnavailable, NotFoundError } from '../../platform/errors.js';
import type { JobsService } from './jobs.service.js';
import type { LiveEvent, LiveLogs } from './live-logs.js';
import type { LogLine } from './logs.repository.js';
import type { ConnectionDenials, DenialLimiter } from './stream-denials.js';

/** A subscriber further behind than this is disconnected (it resumes from its last sequence). */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 15_000;

function sseFrame(event: LiveEvent): string {
  if (event.kind === 'lines') return event.lines.map((l) => `id: ${l.seq}\nevent: log\ndata: ${JSON.stringify(l)}\n\n`).join('');
  if (event.kind === 'status') return `event: status\ndata: ${JSON.stringify({ status: event.status, reason: event.reason })}\n\n`;
  return `event: end\ndata: ${JSON.stringify({ status: event.status })}\n\n`;
}

/** Streams a run's lines as Server-Sent Events until it ends, the client goes away or the caller loses access. */
async function streamSse(reply: FastifyReply, deps: LiveRoutesDeps, actor: Actor, runId: string, after: number): Promise<void> {
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
  let unsubscribe: (() => Promise<void>) | null = null;
  const unwatch = deps.guard.watch({
    actor,
    recheck: (now) => deps.jobs.mayRead(now, runId),
    end: (loss) => {
      if (!raw.writableEnded) raw.write(sseEndFrame(loss));
      close();
    },
  });
  function close(): void {
    unwatch();
    clearInterval(keepalive);
    void unsubscribe?.();
    if (!raw.writableEnded) raw.end();
  }
  raw.on('close', close);
  unsubscribe = await deps.live.subscribe(
    runId,
    after,
    (event) => {
      if (raw.writableEnded) return false;
      raw.write(sseFrame(event));
      if (event.kind === 'end') setImmediate(close);
      return raw.writableLength <= MAX_BUFFERED_BYTES;
    },
    close,
  );
  if (raw.writableEnded) await unsubscribe();
}

const RUN_CHANNEL = /^job-run:(.+)$/;

/**
 * A WebSocket channel another module serves (the events module's `events`). It authorises the
 * actor itself and sends `{ type, channel, … }` frames through `send`, which answers false once
 * the client is too far behind (the connection is then closed with 4008).
 */
export interface LiveChannel {
  matches(channel: string): boolean;
  /** Throws an AppError when the actor may not read the channel: at subscribe and at every re-check. */
  authorise(actor: Actor, channel: string): void | Promise<void>;
  /** `actor` answers the connection's principal as it is now (re-checked every second). Resolves to the unsubscribe. */
  subscribe(actor: () => Actor, channel: string, after: unknown, send: (msg: unknown) => boolean, onSlow: () => void): Promise<() => Promise<void>>;
}

/**
 * A batch of lines becomes one frame shared by every subscriber of its run: the hub hands them
 * all the same array, and 100 subscribers would otherwise serialise and encode it 100 times.
 */
const logFrames = new WeakMap<readonly LogLine[], { channel: string; frame: Buffer }>();

function logFrame(channel: string, lines: readonly LogLine[]): Buffer {
  const cached = logFrames.get(lines);
  if (cached?.channel === channel) return cached.frame;
  const frame = Buffer.from(JSON.stringify({ type: 'log', channel, lines }));
  logFrames.set(lines, { channel, frame });
  return frame;
}

/** What a refused subscription is told: the same whether the run exists or the permission is missing. */
const DENIED = { code: 'WS_SUBSCRIBE_DENIED', message: 'No such channel, or these credentials may not read it' };

interface Subscription {
  off: () => Promise<void>;
  authorise: (actor: Actor) => unknown;
  /** Set once the subscription was authorised: only those are re-checked (a pending one would fail as a loss of access). */
  granted: boolean;
}

/**
 * One WebSocket connection, authenticated at the upgrade (`request.actor`): subscribe and
 * unsubscribe to channels, each authorised when subscribed and re-checked with the principal
 * every second by the stream guard (close 4401 when the credential is gone, 4403 when access is).
 */
function serveSocket(socket: WebSocket, request: FastifyRequest, deps: LiveRoutesDeps): void {
  const subs = new Map<string, Subscription>();
  let actor: Actor = request.actor;
  const denials: ConnectionDenials = { count: 0, since: Date.now() };
  const send = (msg: unknown): boolean => sendFrame(JSON.stringify(msg));
  function sendFrame(frame: string | Buffer): boolean {
    if (socket.readyState !== socket.OPEN) return false;
    socket.send(frame, { binary: false });
    return socket.bufferedAmount <= MAX_BUFFERED_BYTES;
  }
  const fail = (code: string, message: string, channel?: string) => send({ type: 'error', code, message, ...(channel ? { channel } : {}) });

  const unwatch = deps.guard.watch({
    actor,
    async recheck(now) {
      actor = now;
      for (const sub of [...subs.values()]) if (sub.granted) await sub.authorise(now);
    },
    end: (loss) => socket.close(loss.code, loss.reason),
  });

  /** Answers a refusal; a driver's error (code ECONNREFUSED, the database address) never reaches the client. */
  async function refuse(err: unknown, channel: string): Promise<void> {
    if (err instanceof AppError && (err.status === 403 || err.status === 404)) {
      fail(DENIED.code, DENIED.message, channel);
      if (await deps.denials.deny(actor, denials, channel)) socket.close(4429, 'too many denied subscriptions');
      return;
    }
    if (err instanceof AppError) return void fail(err.code, err.message, channel);
    if (isDatabaseUnavailable(err)) return void fail('DATABASE_UNAVAILABLE', 'The database is unavailable; retry shortly', channel);
    request.log.error({ err, channel }, 'websocket subscribe failed');
    fail('WS_SUBSCRIBE_FAILED', 'subscribing failed; it has been logged', channel);
  }

  /** Registers the channel before the first await so a repeated subscribe is a no-op, then starts it. */
  async function open(channel: string, authorise: (a: Actor) => unknown, start: () => Promise<() => Promise<void>>): Promise<void> {
    if (subs.has(channel)) return;
    const sub: Subscription = { off: async () => undefined, authorise, granted: false };
    subs.set(channel, sub);
    try {
      await authorise(actor);
    } catch (err) {
      subs.delete(channel);
      return refuse(err, channel);
    }
    sub.granted = true;
    let off: () => Promise<void>;
    try {
      off = await start();
    } catch (err) {
      subs.delete(channel);
      return refuse(err, channel);
    }
    if (subs.get(channel) === sub) sub.off = off;
    else await off();
  }

  function subscribe(channel: string, rawAfter: unknown): Promise<void> {
    const provider = deps.channels?.find((c) => c.matches(channel));
    if (provider) {
      return open(
        channel,
        (a) => provider.authorise(a, channel),
        () =>
          provider.subscribe(
            () => actor,
            channel,
            rawAfter,
            send,
            () => socket.close(4008, 'slow consumer: resubscribe with after=<last cursor>'),
          ),
      );
    }
    const after = typeof rawAfter === 'number' && Number.isInteger(rawAfter) && rawAfter >= 0 ? rawAfter : 0;
    const m = RUN_CHANNEL.exec(channel);
    if (!m || !isUuid(m[1]!)) return refuse(new NotFoundError(DENIED.code, DENIED.message), channel);
    // The channel keeps the client's spelling in the frames it gets.
    const runId = canonicalId(m[1]!);
    return open(
      channel,
      (a) => deps.jobs.mayRead(a, runId),
      async () => {
        send({ type: 'subscribed', channel });
        return deps.live.subscribe(
          runId,
          after,
          (event) =>
            event.kind === 'lines'
              ? sendFrame(logFrame(channel, event.lines))
              : send({ type: event.kind, channel, status: event.status, ...(event.kind === 'status' ? { reason: event.reason } : {}) }),
          () => socket.close(4008, 'slow consumer: resubscribe with after=<last seq>'),
        );
      },
    );
  }

  socket.on('close', () => {
    unwatch();
    for (const sub of subs.values()) void sub.off();
    subs.clear();
  });
  socket.on('message', (data: Buffer) => {
    let msg: { type?: unknown; channel?: unknown; after?: unknown };
    try {
      msg = JSON.parse(data.toString('utf8')) as typeof msg;
    } catch {
      return void fail('WS_BAD_MESSAGE', 'messages are JSON objects');
    }
    const channel = typeof msg.channel === 'string' ? msg.channel.slice(0, 200) : '';
    if (msg.type === 'subscribe') return void subscribe(channel, msg.after);
    if (msg.type === 'unsubscribe') {
      const sub = subs.get(channel);
      subs.delete(channel);
      return void (sub?.off() ?? Promise.resolve()).then(() => send({ type: 'unsubscribed', channel }));
    }
    fail('WS_BAD_MESSAGE', 'type is subscribe or unsubscribe (authenticate at the upgrade: an Authorization header or ?ticket=)');
  });
  send({ type: 'ready' });
}

export interface LiveRoutesDeps {
  jobs: JobsService;
  live: LiveLogs;
  /** Re-checks every open stream's principal and channels (platform/http/stream-guard.ts). */
  guard: StreamGuard;
  denials: DenialLimiter;
  /** Channels served by other modules, tried before `job-run:<id>`. */
  channels?: readonly LiveChannel[];
}

/** Live logs: GET /api/v1/jobs/runs/{id}/events (SSE) and the WebSocket at /api/v1/ws. */
export function liveRoutes(deps: LiveRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/jobs/runs/:id/events',
      {
        config: { permission: 'jobs:read', stream: true, scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'streamJobRunEvents',
          tags: ['jobs'],
          summary:
            'Log lines and status changes as Server-Sent Events (resume with Last-Event-ID); EventSource authenticates with ?ticket= from POST /stream-tickets',
          params: IdParams,
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 12, pattern: '^[0-9]+$' })) }),
          querystring: Type.Object(
            { after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })), ...StreamTicketQuery },
            { additionalProperties: false },
          ),
          produces: ['text/event-stream'],
          response: {
            200: Type.String({
              description:
                'text/event-stream: `log` events (id = sequence), `status`, `end` (`{status}` when the run ended, `{reason, message}` when the caller lost access)',
            }),
            ...errorResponses(404),
          },
        },
      },
      async (req, reply) => {
        const run = await deps.jobs.authoriseRead(req.actor, req.params.id);
        const header = req.headers['last-event-id'];
        await streamSse(reply, deps, req.actor, run.id, header !== undefined ? Number(header) : (req.query.after ?? 0));
      },
    );
    app.get(
      '/ws',
      {
        websocket: true,
        // Authenticated at the upgrade (Authorization header or ?ticket=; Origin checked); each channel is authorised on its own.
        config: { authenticated: true, stream: true },
        schema: {
          operationId: 'openWebSocket',
          tags: ['jobs'],
          summary:
            'WebSocket (Authorization header or ?ticket=): {"type":"subscribe","channel":"job-run:<id>","after":0} (or "channel":"events","after":"<cursor>")',
          querystring: Type.Object(StreamTicketQuery, { additionalProperties: false }),
          response: errorResponses(),
        },
      },
      (socket, req) => serveSocket(socket, req, deps),
    );
  };
}
