import { AppError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Actor, Authenticator } from './auth.js';

/** Why a stream was ended: 4401 when its credential is gone, 4403 when its principal may no longer read it. */
export interface StreamLoss {
  code: 4401 | 4403;
  /** `credential_revoked` or `access_revoked`: the SSE `end` event's and the WebSocket close's reason. */
  reason: 'credential_revoked' | 'access_revoked';
  message: string;
}

/** One open stream (a WebSocket connection, an SSE response) as the guard sees it. */
export interface GuardedStream {
  readonly actor: Actor;
  /** Re-authorises everything the stream serves for the actor as it is now; throws an AppError to end it. */
  recheck(actor: Actor): Promise<void>;
  /** Ends the stream (close 4401/4403, or an SSE `end` event); called at most once. */
  end(loss: StreamLoss): void;
}

export const STREAM_RECHECK_MS = 1_000;

const lossOf = (err: AppError): StreamLoss =>
  err.status === 401
    ? { code: 4401, reason: 'credential_revoked', message: 'The session, token or API key of this stream is no longer valid' }
    : { code: 4403, reason: 'access_revoked', message: 'The principal of this stream may no longer read it' };

/**
 * Re-checks every open stream of this node each `intervalMs`: the principal against shared
 * state (`Authenticator.revalidate`: revocations in the database, the cluster cache), then each
 * stream's own authorisation for the refreshed actor. A stream whose principal lost access is
 * ended; a check that fails for another reason (the database is briefly down) keeps it and is
 * logged. This is the safety net that makes logout, password change, disablement, role and
 * team changes and key revocation reach streams held by any node, whatever pub/sub lost.
 */
export function createStreamGuard(deps: { authenticator: Pick<Authenticator, 'revalidate'>; logger: Pick<Logger, 'warn'>; intervalMs?: number }) {
  const streams = new Map<GuardedStream, Actor>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function end(stream: GuardedStream, err: unknown): void {
    if (err instanceof AppError && (err.status === 401 || err.status === 403 || err.status === 404)) {
      if (!streams.delete(stream)) return;
      stream.end(lossOf(err));
      return;
    }
    deps.logger.warn({ err }, 'stream re-check failed; the stream stays open until the next check');
  }

  async function round(): Promise<void> {
    const list = [...streams];
    if (list.length === 0 || !deps.authenticator.revalidate) return;
    const answers = await deps.authenticator.revalidate(list.map(([, actor]) => actor));
    await Promise.all(
      list.map(async ([stream], i) => {
        const answer = answers[i]!;
        if (answer instanceof Error) return end(stream, answer);
        if (!streams.has(stream)) return;
        streams.set(stream, answer);
        try {
          await stream.recheck(answer);
        } catch (err) {
          end(stream, err);
        }
      }),
    );
  }

  function schedule(): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      void round()
        .catch((err: unknown) => deps.logger.warn({ err }, 'stream re-check round failed'))
        .finally(() => {
          timer = null;
          if (streams.size > 0) schedule();
        });
    }, deps.intervalMs ?? STREAM_RECHECK_MS);
    timer.unref();
  }

  return {
    /** Watches a stream until the returned function is called (when the stream closes). */
    watch(stream: GuardedStream): () => void {
      streams.set(stream, stream.actor);
      schedule();
      return () => void streams.delete(stream);
    },
    /** The actor a stream acts as now (refreshed by every round). */
    actorOf: (stream: GuardedStream): Actor => streams.get(stream) ?? stream.actor,
    size: () => streams.size,
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      streams.clear();
    },
  };
}

export type StreamGuard = ReturnType<typeof createStreamGuard>;

/** The SSE event that ends a stream whose principal lost access (the run stream's own `end` carries `status` instead). */
export const sseEndFrame = (loss: StreamLoss): string => `event: end\ndata: ${JSON.stringify({ reason: loss.reason, message: loss.message })}\n\n`;
