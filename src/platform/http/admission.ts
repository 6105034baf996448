import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ServiceUnavailableError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `exempt`: answered without waiting for an admission slot (liveness, readiness, metrics). */
    admission?: 'exempt';
  }
}

export interface AdmissionOptions {
  /** Requests worked on at once. */
  maxConcurrent: number;
  /** Requests that may wait for a slot; past it, 503 at once. */
  maxQueue: number;
  /** Longest wait in the queue before a 503. */
  queueTimeoutMs: number;
  /** Seconds in the 503's `Retry-After`. */
  retryAfterSeconds?: number;
  /** Called for each refusal (metrics). */
  onRefused?(reason: 'queue_full' | 'queue_timeout'): void;
}

export interface AdmissionState {
  readonly active: number;
  readonly queued: number;
}

interface Waiter {
  request: FastifyRequest;
  reply: FastifyReply;
  done: HookHandlerDoneFunction;
  at: number;
}

/**
 * Bounds the requests worked on at once: past `maxConcurrent` they wait in a FIFO queue of
 * `maxQueue`, past that (or after `queueTimeoutMs` in it) they get 503 `OVERLOADED` with
 * `Retry-After`. Latency then stays bounded by the queue instead of growing with the backlog,
 * and the refused cost one short answer. Waiters are let in from `setImmediate`, one turn of the
 * loop after a slot frees, so new connections (a health probe) are accepted and read between
 * them instead of behind every queued request. Exempt: routes with `config.admission: 'exempt'`,
 * live streams (`config.stream`, they hold their request for hours), unmatched URLs (404) and
 * CORS preflights. Register first, before authentication, so refused requests cost nothing more.
 */
export function registerAdmission(app: FastifyInstance, options: AdmissionOptions): AdmissionState {
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  let active = 0;
  // A FIFO as an array and a head index: shift() is O(n) on long queues.
  let queue: Waiter[] = [];
  let head = 0;
  let drainScheduled = false;

  const refuse = (reason: 'queue_full' | 'queue_timeout'): FastifyError => {
    options.onRefused?.(reason);
    const err = new ServiceUnavailableError('OVERLOADED', 'The server is at capacity; retry shortly');
    Object.assign(err.headers, { 'retry-after': retryAfter });
    return err as unknown as FastifyError;
  };

  const release = () => {
    active--;
    if (head < queue.length && !drainScheduled) {
      drainScheduled = true;
      setImmediate(drain);
    }
  };

  // 'close' covers a client gone mid-request; 'finish' an answered one where no 'close' follows (inject).
  const admit = (reply: FastifyReply) => {
    active++;
    let held = true;
    const free = () => {
      if (!held) return;
      held = false;
      release();
    };
    reply.raw.once('finish', free);
    reply.raw.once('close', free);
  };

  function drain() {
    drainScheduled = false;
    const now = Date.now();
    while (head < queue.length && active < options.maxConcurrent) {
      const w = queue[head]!;
      queue[head++] = undefined as unknown as Waiter;
      if (w.request.raw.destroyed) continue;
      if (now - w.at > options.queueTimeoutMs) {
        w.done(refuse('queue_timeout'));
        continue;
      }
      admit(w.reply);
      w.done();
    }
    compact();
  }

  const compact = () => {
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  // Waiters whose slot never comes (every admitted request stuck) are refused on time.
  const sweep = setInterval(
    () => {
      const now = Date.now();
      while (head < queue.length && now - queue[head]!.at > options.queueTimeoutMs) {
        const w = queue[head]!;
        queue[head++] = undefined as unknown as Waiter;
        if (!w.request.raw.destroyed) w.done(refuse('queue_timeout'));
      }
      compact();
    },
    Math.max(10, Math.min(options.queueTimeoutMs, 1000) / 2),
  );
  sweep.unref();
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweep);
    done();
  });

  app.addHook('onRequest', (request, reply, done) => {
    const config = request.routeOptions.config as { admission?: string; stream?: boolean };
    if (config.admission === 'exempt' || config.stream || request.routeOptions.url === undefined || request.method === 'OPTIONS') return done();
    if (active < options.maxConcurrent) {
      admit(reply);
      return done();
    }
    if (queue.length - head >= options.maxQueue) return done(refuse('queue_full'));
    queue.push({ request, reply, done, at: Date.now() });
  });

  return {
    get active() {
      return active;
    },
    get queued() {
      return queue.length - head;
    },
  };
}
