import type { Db } from '../../platform/db/database.js';
import type { IdentityTables } from './identity.tables.js';

export type SessionRow = Omit<IdentityTables['sessions'], 'revokedReason'>;

const SESSION_COLUMNS = [
  'sessions.id',
  'sessions.userId',
  'sessions.userAgent',
  'sessions.ip',
  'sessions.createdAt',
  'sessions.lastUsedAt',
  'sessions.expiresAt',
  'sessions.revokedAt',
] as const;

/** Sessions (refresh-token families), their refresh tokens, and revoked token/session ids. */
export function createSessionsRepository(base: Db) {
  const db = base.withTables<IdentityTables>();
  return {
    async insertSession(s: Omit<SessionRow, 'revokedAt'>): Promise<void> {
      await db
        .insertInto('sessions')
        .values({ ...s, revokedAt: null, revokedReason: null })
        .execute();
    },
    async insertRefreshToken(t: { id: string; sessionId: string; tokenHash: string; createdAt: string; expiresAt: string }): Promise<void> {
      await db
        .insertInto('refreshTokens')
        .values({ ...t, rotatedAt: null })
        .execute();
    },
    async findRefreshToken(tokenHash: string) {
      return db
        .selectFrom('refreshTokens')
        .innerJoin('sessions', 'sessions.id', 'refreshTokens.sessionId')
        .select([
          'refreshTokens.id',
          'refreshTokens.sessionId',
          'refreshTokens.expiresAt as tokenExpiresAt',
          'refreshTokens.rotatedAt',
          'sessions.userId',
          'sessions.expiresAt',
          'sessions.revokedAt',
        ])
        .where('refreshTokens.tokenHash', '=', tokenHash)
        .executeTakeFirst();
    },
    /** Marks a token rotated unless it already was; false means someone used it first (reuse). */
    async markRotated(id: string, now: string): Promise<boolean> {
      const r = await db.updateTable('refreshTokens').set({ rotatedAt: now }).where('id', '=', id).where('rotatedAt', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async touchSession(id: string, patch: { lastUsedAt: string; ip: string; userAgent: string }): Promise<void> {
      await db.updateTable('sessions').set(patch).where('id', '=', id).execute();
    },
    async findSession(id: string): Promise<SessionRow | undefined> {
      return db.selectFrom('sessions').select(SESSION_COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async activeSessions(userId: string, now: string): Promise<SessionRow[]> {
      return db
        .selectFrom('sessions')
        .select(SESSION_COLUMNS)
        .where('userId', '=', userId)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', now)
        .orderBy('lastUsedAt', 'desc')
        .limit(1000)
        .execute();
    },
    /** Revokes the given (or all active) sessions of a user; returns the ids revoked. */
    async revokeSessions(userId: string, now: string, reason: string, ids?: string[]): Promise<string[]> {
      if (ids?.length === 0) return [];
      const rows = await db
        .updateTable('sessions')
        .set({ revokedAt: now, revokedReason: reason })
        .where('userId', '=', userId)
        .where('revokedAt', 'is', null)
        .$if(ids !== undefined, (q) => q.where('id', 'in', ids!))
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async revoke(entries: { id: string; kind: 'jti' | 'sid'; expiresAt: string }[], now: string): Promise<void> {
      if (entries.length === 0) return;
      await db
        .insertInto('tokenRevocations')
        .values(entries.map((e) => ({ ...e, createdAt: now })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    },
    /** Revocations still in force, created at or after `since` (the periodic resync). */
    async revocationsSince(since: string, now: string) {
      return db
        .selectFrom('tokenRevocations')
        .select(['id', 'kind', 'expiresAt', 'createdAt'])
        .where('createdAt', '>=', since)
        .where('expiresAt', '>', now)
        .orderBy('createdAt')
        .limit(100_000)
        .execute();
    },
    /** Which of these token and session ids are revoked now (the shared state, whatever pub/sub lost). */
    async revokedAmong(ids: readonly string[], now: string): Promise<Set<string>> {
      const out = new Set<string>();
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await db
          .selectFrom('tokenRevocations')
          .select('id')
          .where('id', 'in', ids.slice(i, i + 500))
          .where('expiresAt', '>', now)
          .execute();
        for (const r of rows) out.add(r.id);
      }
      return out;
    },
    async pruneRevocations(now: string): Promise<void> {
      await db.deleteFrom('tokenRevocations').where('expiresAt', '<=', now).execute();
    },
  };
}
export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
