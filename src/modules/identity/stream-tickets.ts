import type { FastifyRequest } from 'fastify';
import type { Db } from '../../platform/db/database.js';
import { AppError, UnauthorizedError, ValidationError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/auth.js';
import type { Principals } from './principals.js';
import type { RevocationList } from './revocations.js';
import { createSessionsRepository } from './sessions.repository.js';
import { createStreamTicketsRepository } from './stream-tickets.repository.js';
import { randomToken, sha256 } from './secrets.fns.js';

/** A ticket opens one stream within this many seconds of being issued, once. */
export const STREAM_TICKET_TTL_SECONDS = 30;

const invalidTicket = () =>
  new UnauthorizedError('STREAM_TICKET_INVALID', 'The stream ticket is unknown, already used or expired; get a new one from POST /api/v1/stream-tickets');
const revoked = () => new UnauthorizedError('TOKEN_REVOKED', 'The access token or its session has been revoked');

/**
 * Stream authentication without credentials in URLs, and the re-check of open streams.
 * A ticket (`ost_` + 256 random bits, stored as SHA-256 in `stream_tickets`, so every node of a
 * cluster can redeem it) stands for the principal that asked for it — the user and the very
 * access token and session, or the API key — for 30 s and one redemption (an atomic delete).
 * `revalidate` answers for open streams from shared state: revocations read from the database
 * (not only this node's pub/sub-fed list), principals and keys through the cluster cache.
 */
export function createStreamTickets(deps: {
  db: Db;
  revocations: Pick<RevocationList, 'has'>;
  principals: Pick<Principals, 'get'>;
  actorOf: (kind: 'user' | 'api_key', id: string) => Promise<Actor | null>;
  clock: () => number;
}) {
  const tickets = createStreamTicketsRepository(deps.db);
  const sessions = createSessionsRepository(deps.db);

  async function userNow(actor: Actor, revokedIds: ReadonlySet<string>): Promise<Actor> {
    for (const id of [actor.credentialId, actor.sessionId]) {
      if (id !== undefined && (revokedIds.has(id) || deps.revocations.has(id))) throw revoked();
    }
    const p = await deps.principals.get(actor.id);
    if (!p?.active) throw revoked();
    return { ...actor, name: p.username, permissions: p.permissions === '*' ? '*' : new Set(p.permissions), teamIds: [...p.teamIds] };
  }

  async function keyNow(actor: Actor): Promise<Actor> {
    const now = await deps.actorOf('api_key', actor.id);
    if (!now) throw new UnauthorizedError('API_KEY_REVOKED', 'The API key has been revoked, has expired, or its owner is disabled');
    return { ...actor, name: now.name, permissions: now.permissions, teamIds: now.teamIds };
  }

  async function revalidate(actors: readonly Actor[]): Promise<(Actor | AppError)[]> {
    const ids = actors.flatMap((a) => (a.kind === 'user' ? [a.credentialId, a.sessionId].filter((x): x is string => x !== undefined) : []));
    const revokedIds = ids.length > 0 ? await sessions.revokedAmong([...new Set(ids)], new Date(deps.clock()).toISOString()) : new Set<string>();
    return Promise.all(
      actors.map(async (actor) => {
        try {
          if (actor.kind === 'user') return await userNow(actor, revokedIds);
          if (actor.kind === 'api_key') return await keyNow(actor);
          return actor;
        } catch (err) {
          if (err instanceof AppError) return err;
          throw err;
        }
      }),
    );
  }

  return {
    revalidate,
    /** A ticket for the caller's own principal (a user's token and session, or an API key). */
    async issue(actor: Actor): Promise<{ ticket: string; expires_at: string }> {
      if ((actor.kind !== 'user' && actor.kind !== 'api_key') || !actor.userId || !actor.credentialId) {
        throw new ValidationError('STREAM_TICKET_PRINCIPAL', 'Only a signed-in user or an API key can get a stream ticket');
      }
      const nowMs = deps.clock();
      const ticket = `ost_${randomToken(32)}`;
      const expiresAt = new Date(nowMs + STREAM_TICKET_TTL_SECONDS * 1000).toISOString();
      await tickets.pruneExpired(new Date(nowMs).toISOString());
      await tickets.insert({
        ticketHash: sha256(ticket),
        kind: actor.kind,
        userId: actor.userId,
        credentialId: actor.credentialId,
        sessionId: actor.sessionId ?? null,
        mfaAt: actor.mfaAt ?? null,
        authAt: actor.authAt ?? null,
        expiresAt,
        createdAt: new Date(nowMs).toISOString(),
      });
      return { ticket, expires_at: expiresAt };
    },
    /** The principal a ticket stands for, as it is now; the ticket is spent whatever the outcome. */
    async redeem(ticket: string, request: FastifyRequest): Promise<Actor> {
      if (ticket.length > 100) throw invalidTicket();
      const row = await tickets.take(sha256(ticket), new Date(deps.clock()).toISOString());
      if (!row) throw invalidTicket();
      const base: Actor = {
        kind: row.kind,
        id: row.kind === 'user' ? row.userId : row.credentialId,
        name: '',
        permissions: new Set(),
        teamIds: [],
        userId: row.userId,
        credentialId: row.credentialId,
        ip: request.ip,
        requestId: String(request.id),
        ...(row.sessionId !== null ? { sessionId: row.sessionId } : {}),
        ...(row.mfaAt !== null ? { mfaAt: Number(row.mfaAt) } : {}),
        ...(row.authAt !== null ? { authAt: Number(row.authAt) } : {}),
      };
      const [answer] = await revalidate([base]);
      if (answer instanceof AppError) throw answer;
      return answer!;
    },
  };
}

export type StreamTickets = ReturnType<typeof createStreamTickets>;
