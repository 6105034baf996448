import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import type { Actor, Authenticator } from '../../platform/http/auth.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import { canonicalId, isUuid } from '../../platform/ids.js';
import { AppError, isDatabaseUnavailable } from '../../platform/errors.js';
import type { JobsService } from './jobs.service.js';
import type { LiveEvent, LiveLogs } from './live-logs.js';
import type { LogLine } from './logs.repository.js';

/** A subscriber further behind than this is disconnected (it resumes from its last sequence). */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 15_000;
const AUTH_TIMEOUT_MS = 10_000;

function sseFrame(event: LiveEvent): string {
  if (event.kind === 'lines') return event.lines.map((l) => `id: ${l.seq}\nevent: log\ndata: ${JSON.stringify(l)}\n\n`).join('');
  if (event.kind === 'status') return `event: status\ndata: ${JSON.stringify({ status: event.status, reason: event.reason })}\n\n`;
  return `event: end\ndata: ${JSON.stringify({ status: event.status })}\n\n`;
}

/** Streams a run's lines as Server-Sent Events until it ends or the client goes away. */
async function streamSse(reply: FastifyReply, live: LiveLogs, runId: string, after: number): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  raw.write(': stream start\n\n');
  const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
  let unsubscribe: (() => Promise<void>) | null = null;
  const close = () => {
    clearInterval(keepalive);
    void unsubscribe?.();
    if (!raw.writableEnded) raw.end();
  };
  raw.on('close', close);
  unsubscribe = await live.subscribe(
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

/** The request as the authenticator would see it had the token come in the Authorization header. */
function withBearer(request: FastifyRequest, token: string): FastifyRequest {
  const headers = { ...request.headers, authorization: `Bearer ${token}` };
  return new Proxy(request, { get: (target, prop, receiver) => (prop === 'headers' ? headers : Reflect.get(target, prop, receiver) as unknown) });
}

const RUN_CHANNEL = /^job-run:(.+)$/;

/**
 * A WebSocket channel another module serves (the events module's `events`). It authorises the
 * actor itself and sends `{ type, channel, … }` frames through `send`, which answers false once
 * the client is too far behind (the connection is then closed with 4008).
 */
export interface LiveChannel {
  matches(channel: string): boolean;
  /** Throws an AppError to refuse; resolves to the unsubscribe. */
  subscribe(actor: Actor, channel: string, after: unknown, send: (msg: unknown) => boolean, onSlow: () => void): Promise<() => Promise<void>>;
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

/** One WebSocket connection: authenticate, then subscribe/unsubscribe to channels. */
function serveSocket(socket: WebSocket, request: FastifyRequest, deps: LiveRoutesDeps): void {
  const subs = new Map<string, () => Promise<void>>();
  let actor: Actor | null = null;
  const send = (msg: unknown): boolean => sendFrame(JSON.stringify(msg));
  function sendFrame(frame: string | Buffer): boolean {
    if (socket.readyState !== socket.OPEN) return false;
    socket.send(frame, { binary: false });
    return socket.bufferedAmount <= MAX_BUFFERED_BYTES;
  }
  const fail = (code: string, message: string, channel?: string) => send({ type: 'error', code, message, ...(channel ? { channel } : {}) });

  async function authenticate(token: string | undefined): Promise<void> {
    try {
      actor = await deps.authenticator.authenticate(token ? withBearer(request, token) : request);
    } catch {
      actor = null;
    }
    if (actor) send({ type: 'ready' });
    else if (token !== undefined) socket.close(4401, 'authentication failed');
  }

  async function subscribeOther(provider: LiveChannel, channel: string, after: unknown): Promise<void> {
    if (subs.has(channel)) return;
    subs.set(channel, async () => undefined);
    let off: () => Promise<void>;
    try {
      off = await provider.subscribe(actor!, channel, after, send, () => socket.close(4008, 'slow consumer: resubscribe with after=<last cursor>'));
    } catch (err) {
      subs.delete(channel);
      return void fail((err as { code?: string }).code ?? 'WS_SUBSCRIBE_FAILED', (err as Error).message, channel);
    }
    if (subs.has(channel)) subs.set(channel, off);
    else await off();
  }

  async function subscribe(channel: string, rawAfter: unknown): Promise<void> {
    const provider = deps.channels?.find((c) => c.matches(channel));
    if (provider) return subscribeOther(provider, channel, rawAfter);
    const after = typeof rawAfter === 'number' && Number.isInteger(rawAfter) && rawAfter >= 0 ? rawAfter : 0;
    const m = RUN_CHANNEL.exec(channel);
    if (!m || !isUuid(m[1]!)) return void fail('WS_CHANNEL_UNKNOWN', `channels look like job-run:<id>${deps.channels?.length ? ' or events' : ''}`, channel);
    if (subs.has(channel)) return;
    // The channel keeps the client's spelling in the frames it gets.
    const runId = canonicalId(m[1]!);
    try {
      await deps.jobs.authoriseRead(actor!, runId);
    } catch (err) {
      // Stable codes only: a driver's error (code ECONNREFUSED, the database address) never reaches the client.
      if (err instanceof AppError) return void fail(err.code, err.message, channel);
      if (isDatabaseUnavailable(err)) return void fail('DATABASE_UNAVAILABLE', 'The database is unavailable; retry shortly', channel);
      request.log.error({ err, channel }, 'websocket subscribe failed');
      return void fail('WS_SUBSCRIBE_FAILED', 'subscribing failed; it has been logged', channel);
    }
    subs.set(channel, async () => undefined);
    send({ type: 'subscribed', channel });
    const off = await deps.live.subscribe(
      runId,
      after,
      (event) => (event.kind === 'lines' ? sendFrame(logFrame(channel, event.lines)) : send({ type: event.kind, channel, status: event.status, ...(event.kind === 'status' ? { reason: event.reason } : {}) })),
      () => socket.close(4008, 'slow consumer: resubscribe with after=<last seq>'),
    );
    if (subs.has(channel)) subs.set(channel, off);
    else await off();
  }

  const authTimer = setTimeout(() => actor === null && socket.close(4401, 'authentication required'), AUTH_TIMEOUT_MS);
  socket.on('close', () => {
    clearTimeout(authTimer);
    for (const off of subs.values()) void off();
    subs.clear();
  });
  socket.on('message', (data: Buffer) => {
    let msg: { type?: unknown; token?: unknown; channel?: unknown; after?: unknown };
    try {
      msg = JSON.parse(data.toString('utf8')) as typeof msg;
    } catch {
      return void fail('WS_BAD_MESSAGE', 'messages are JSON objects');
    }
    if (msg.type === 'auth' && typeof msg.token === 'string' && msg.token.length <= 8192) return void authenticate(msg.token);
    if (!actor) return void fail('AUTH_REQUIRED', 'send {"type":"auth","token":"…"} first');
    const channel = typeof msg.channel === 'string' ? msg.channel.slice(0, 200) : '';
    if (msg.type === 'subscribe') return void subscribe(channel, msg.after);
    if (msg.type === 'unsubscribe') {
      const off = subs.get(channel);
      subs.delete(channel);
      return void off?.().then(() => send({ type: 'unsubscribed', channel }));
    }
    fail('WS_BAD_MESSAGE', 'type is one of auth, subscribe, unsubscribe');
  });
  const query = request.query as { token?: string };
  void authenticate(typeof query.token === 'string' ? query.token : undefined);
}

export interface LiveRoutesDeps {
  jobs: JobsService;
  live: LiveLogs;
  authenticator: Authenticator;
  /** Channels served by other modules, tried before `job-run:<id>`. */
  channels?: readonly LiveChannel[];
}

/** Live logs: GET /api/v1/jobs/runs/{id}/events (SSE) and the WebSocket at /api/v1/ws. */
export function liveRoutes(deps: LiveRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/jobs/runs/:id/events',
      {
        config: { permission: 'jobs:read', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'streamJobRunEvents',
          tags: ['jobs'],
          summary: 'Log lines and status changes as Server-Sent Events (resume with Last-Event-ID)',
          params: IdParams,
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 12, pattern: '^[0-9]+$' })) }),
          querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })) }, { additionalProperties: false }),
          produces: ['text/event-stream'],
          response: { 200: Type.String({ description: 'text/event-stream: `log` events (id = sequence), `status`, `end`' }), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        const run = await deps.jobs.authoriseRead(req.actor, req.params.id);
        const header = req.headers['last-event-id'];
        await streamSse(reply, deps.live, run.id, header !== undefined ? Number(header) : (req.query.after ?? 0));
      },
    );
    app.get(
      '/ws',
      {
        websocket: true,
        // Authenticated inside the connection (token in ?token= or the first message); each channel checks its permission.
        config: { public: true },
        schema: {
          operationId: 'openWebSocket',
          tags: ['jobs'],
          summary: 'WebSocket: {"type":"auth","token"} then {"type":"subscribe","channel":"job-run:<id>","after":0} (or "channel":"events","after":"<cursor>")',
          querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 8192 })) }, { additionalProperties: false }),
        },
      },
      (socket, req) => serveSocket(socket, req, deps),
    );
  };
}
