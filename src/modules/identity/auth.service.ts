import { AppError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../platform/errors.js';
import { newId, nowIso } from '../../platform/ids.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { IdentityContext, IdentityRepos } from './identity.context.js';
import { hashPassword, passwordProblems, verifyPassword } from './password.fns.js';
import type { Revocation } from './revocations.js';
import { randomToken, sha256 } from './secrets.fns.js';
import type { TwoFactorService } from './two-factor.service.js';
import type { UserCredentials } from './users.repository.js';
import { toUserView, type UserView } from './user-view.js';

export interface ClientContext {
  ip: string;
  userAgent: string;
  requestId: string;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: UserView;
}

const MAX_LOCK_MS = 24 * 3600_000;
const invalidCredentials = () => new UnauthorizedError('INVALID_CREDENTIALS', 'The username or password is wrong, or the account cannot sign in now');

/** The anonymous actor of a login attempt, for audit. */
const anonymous = (login: string, c: ClientContext): Actor => ({
  kind: 'user',
  id: '',
  name: login.slice(0, 200),
  permissions: new Set(),
  teamIds: [],
  ip: c.ip,
  requestId: c.requestId,
  userAgent: c.userAgent.slice(0, 256),
});
const userActor = (u: { id: string; username: string }, c: ClientContext): Actor => ({
  kind: 'user',
  id: u.id,
  name: u.username,
  permissions: new Set(),
  teamIds: [],
  userId: u.id,
  ip: c.ip,
  requestId: c.requestId,
  userAgent: c.userAgent.slice(0, 256),
});

/** What createAuthService uses of the identity context. */
export type AuthDeps = Pick<IdentityContext, 'db' | 'repos' | 'uow' | 'audit' | 'principals' | 'revocations' | 'jwt' | 'settings' | 'clock'>;

/** Login, refresh rotation with reuse detection, logout, sessions, own password. */
export function createAuthService(ctx: AuthDeps, twoFactor: TwoFactorService) {
  const s = ctx.settings;
  // Hashed once, lazily: a login for an unknown user verifies against it so both paths cost one hash.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword(randomToken(16)));

  /** Lock for base·2^(failures − threshold), from the threshold-th failure on, capped at 24 h. */
  function lockUntil(failures: number): string | null {
    if (failures < s.lockoutThreshold) return null;
    const ms = Math.min(MAX_LOCK_MS, s.lockoutSeconds * 1000 * 2 ** Math.min(20, failures - s.lockoutThreshold));
    return new Date(ctx.clock() + ms).toISOString();
  }

  /** An access token; `password` when the holder just proved it (login, re-authentication), which step-up requires. */
  async function accessToken(
    repos: IdentityRepos,
    userId: string,
    sessionId: string,
    proved: { password: boolean; mfa: boolean },
  ): Promise<{ token: string; exp: number }> {
    const roles = (await repos.users.roleNamesOf([userId])).get(userId) ?? [];
    const nowS = Math.floor(ctx.clock() / 1000);
    return ctx.jwt.sign(
      { sub: userId, jti: newId(), sid: sessionId, roles, ...(proved.mfa ? { mfa: nowS } : {}), ...(proved.password ? { auth: nowS } : {}) },
      s.accessTokenTtlSeconds,
      nowS,
    );
  }

  async function issue(
    repos: IdentityRepos,
    user: { id: string; username: string },
    sessionId: string,
    proved: { password: boolean; mfa: boolean },
  ): Promise<{ access: string; refresh: string; exp: number }> {
    const nowMs = ctx.clock();
    const { token, exp } = await accessToken(repos, user.id, sessionId, proved);
    const refresh = randomToken(32);
    await repos.sessions.insertRefreshToken({
      id: newId(),
      sessionId,
      tokenHash: sha256(refresh),
      createdAt: new Date(nowMs).toISOString(),
      expiresAt: new Date(nowMs + s.refreshTokenTtlSeconds * 1000).toISOString(),
    });
    return { access: token, refresh, exp };
  }

  async function respond(repos: IdentityRepos, userId: string, t: { access: string; refresh: string }): Promise<TokenResponse> {
    const user = await repos.users.find(userId);
    if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
    const roles = (await repos.users.roleNamesOf([userId])).get(userId) ?? [];
    return {
      access_token: t.access,
      refresh_token: t.refresh,
      token_type: 'Bearer',
      expires_in: s.accessTokenTtlSeconds,
      user: toUserView(user, roles, ctx.clock),
    };
  }

  /** Revocation entries covering every access token of the given sessions. */
  const sessionRevocations = (ids: string[]): Revocation[] =>
    ids.map((id) => ({ id, kind: 'sid', expiresAt: new Date(ctx.clock() + s.accessTokenTtlSeconds * 1000 + 60_000).toISOString() }));

  async function revokeSessions(
    repos: IdentityRepos,
    userId: string,
    reason: string,
    ids: string[] | undefined,
    after: (fn: () => Promise<void>) => void,
  ): Promise<string[]> {
    const now = nowIso(ctx.clock);
    const revoked = await repos.sessions.revokeSessions(userId, now, reason, ids);
    const entries = sessionRevocations(revoked);
    await ctx.revocations.record(repos.db, entries, now);
    after(() => ctx.revocations.publish(entries));
    return revoked;
  }

  /** Revokes every API key of the user in the caller's transaction (sign out everywhere, password change). */
  async function revokeApiKeys(repos: IdentityRepos, actor: Actor, userId: string, after: (fn: () => Promise<void>) => void): Promise<number> {
    const keys = await repos.apiKeys.revokeAllOf(userId, nowIso(ctx.clock));
    if (keys.length === 0) return 0;
    await ctx.audit.record(repos.db, {
      actor,
      action: 'api_key.revoked_all',
      resourceType: 'user',
      resourceId: userId,
      outcome: 'success',
      changes: { count: keys.length, ids: keys.map((k) => k.id) },
    });
    after(async () => {
      for (const k of keys) await ctx.principals.invalidateApiKey(k.prefix);
    });
    return keys.length;
  }

  async function failLogin(user: UserCredentials, client: ClientContext, reason: string): Promise<never> {
    const actor = userActor(user, client);
    // Concurrently (two pool connections on PostgreSQL): the unknown-user path writes only the
    // audit record, and this path must not take measurably longer than that one.
    const [failures] = await Promise.all([
      ctx.repos.users.recordFailure(user.id, lockUntil),
      ctx.audit.record(ctx.db, { actor, action: 'auth.login.failed', resourceType: 'user', resourceId: user.id, outcome: 'failure', changes: { reason } }),
    ]);
    if (failures >= s.lockoutThreshold) {
      await ctx.audit.record(ctx.db, { actor, action: 'auth.lockout', resourceType: 'user', resourceId: user.id, outcome: 'failure', changes: { failures } });
    }
    throw invalidCredentials();
  }

  return {
    revokeSessions,

    async login(input: { username: string; password: string; totp?: string }, client: ClientContext): Promise<TokenResponse> {
      const user = await ctx.repos.users.findLogin(input.username);
      if (!user) {
        await verifyPassword(await dummy(), input.password);
        await ctx.audit.record(ctx.db, {
          actor: anonymous(input.username, client),
          action: 'auth.login.failed',
          resourceType: 'user',
          outcome: 'failure',
          changes: { reason: 'unknown_user' },
        });
        throw invalidCredentials();
      }
      // The hash runs whatever the account state, so timing tells nothing about it.
      const check = await verifyPassword(user.passwordHash, input.password);
      if (user.lockedUntil && Date.parse(user.lockedUntil) > ctx.clock()) {
        await ctx.audit.record(ctx.db, {
          actor: userActor(user, client),
          action: 'auth.login.locked',
          resourceType: 'user',
          resourceId: user.id,
          outcome: 'failure',
        });
        throw invalidCredentials();
      }
      if (!check.ok) return failLogin(user, client, 'password');
      if (user.status !== 'active') return failLogin(user, client, 'disabled');
      let mfa = false;
      let factor: 'totp' | 'recovery' | null = null;
      if (user.totpEnabled) {
        if (!input.totp) throw new AppError('TOTP_REQUIRED', 401, 'This account has two-factor authentication: send the current code as `totp`');
        factor = await twoFactor.verifySecondFactor(ctx.repos, user, input.totp);
        if (!factor) return failLogin(user, client, 'totp');
        mfa = true;
      }
      const rehash = check.needsRehash ? await hashPassword(input.password) : undefined;
      return ctx.uow(async (repos) => {
        const now = nowIso(ctx.clock);
        await repos.users.update(user.id, { failedLogins: 0, lockedUntil: null, lastLoginAt: now, ...(rehash ? { passwordHash: rehash } : {}) }, now);
        const sessionId = newId();
        await repos.sessions.insertSession({
          id: sessionId,
          userId: user.id,
          userAgent: client.userAgent.slice(0, 500),
          ip: client.ip,
          createdAt: now,
          lastUsedAt: now,
          expiresAt: new Date(ctx.clock() + s.refreshTokenTtlSeconds * 1000).toISOString(),
        });
        const tokens = await issue(repos, user, sessionId, { password: true, mfa });
        await ctx.audit.record(repos.db, {
          actor: userActor(user, client),
          action: 'auth.login.succeeded',
          resourceType: 'session',
          resourceId: sessionId,
          outcome: 'success',
          changes: { mfa, ...(rehash ? { rehashed: true } : {}) },
        });
        if (factor === 'recovery') {
          await ctx.audit.record(repos.db, {
            actor: userActor(user, client),
            action: 'auth.2fa.recovery_code_used',
            resourceType: 'user',
            resourceId: user.id,
            outcome: 'success',
            changes: { session_id: sessionId },
          });
        }
        return respond(repos, user.id, tokens);
      });
    },

    /**
     * Proves the password (and the second factor, when the account has one) again within the
     * current session: the new access token carries a fresh `auth` time, which step-up for
     * sensitive operations requires. Wrong passwords count towards lockout like a login.
     */
    async reauthenticate(
      actor: Actor,
      input: { password: string; totp?: string },
      client: ClientContext,
    ): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
      if (actor.kind !== 'user' || !actor.sessionId) {
        throw new ForbiddenError('REAUTH_SESSION_REQUIRED', 'Only a signed-in user session can re-authenticate; an API key cannot');
      }
      const user = await ctx.repos.users.findLogin(actor.name);
      if (!user || user.id !== actor.id) throw invalidCredentials();
      const check = await verifyPassword(user.passwordHash, input.password);
      if (user.lockedUntil && Date.parse(user.lockedUntil) > ctx.clock()) throw invalidCredentials();
      if (!check.ok) return failLogin(user, client, 'reauth_password');
      let mfa = false;
      if (user.totpEnabled) {
        if (!input.totp) throw new AppError('TOTP_REQUIRED', 401, 'This account has two-factor authentication: send the current code as `totp`');
        if (!(await twoFactor.verifySecondFactor(ctx.repos, user, input.totp))) return failLogin(user, client, 'reauth_totp');
        mfa = true;
      }
      const sessionId = actor.sessionId;
      return ctx.uow(async (repos) => {
        const { token } = await accessToken(repos, user.id, sessionId, { password: true, mfa });
        await ctx.audit.record(repos.db, {
          actor: userActor(user, client),
          action: 'auth.reauthenticated',
          resourceType: 'session',
          resourceId: sessionId,
          outcome: 'success',
          changes: { mfa },
        });
        return { access_token: token, token_type: 'Bearer' as const, expires_in: s.accessTokenTtlSeconds };
      });
    },

    /** Rotates a refresh token; presenting an already-rotated one revokes its whole family. */
    async refresh(refreshToken: string, client: ClientContext): Promise<TokenResponse> {
      const result = await ctx.uow(async (repos, tx) => {
        const row = await repos.sessions.findRefreshToken(sha256(refreshToken));
        if (!row) return { error: 'invalid' as const };
        const now = nowIso(ctx.clock);
        const actor = userActor({ id: row.userId, username: row.userId }, client);
        if (row.rotatedAt !== null || !(await repos.sessions.markRotated(row.id, now))) {
          if (row.revokedAt === null) {
            await revokeSessions(repos, row.userId, 'refresh_token_reuse', [row.sessionId], (fn) => tx.afterCommit(fn));
            await ctx.audit.record(repos.db, {
              actor,
              action: 'auth.token.reuse_detected',
              resourceType: 'session',
              resourceId: row.sessionId,
              outcome: 'failure',
            });
          }
          return { error: 'reused' as const };
        }
        if (row.revokedAt !== null || row.expiresAt <= now || row.tokenExpiresAt <= now) return { error: 'invalid' as const };
        const principal = await ctx.principals.getWithin(repos.db, row.userId);
        if (!principal?.active) return { error: 'invalid' as const };
        await repos.sessions.touchSession(row.sessionId, { lastUsedAt: now, ip: client.ip, userAgent: client.userAgent.slice(0, 500) });
        const tokens = await issue(repos, principal, row.sessionId, { password: false, mfa: false });
        await ctx.audit.record(repos.db, {
          actor: { ...actor, name: principal.username },
          action: 'auth.token.refreshed',
          resourceType: 'session',
          resourceId: row.sessionId,
          outcome: 'success',
        });
        return { ok: await respond(repos, row.userId, tokens) };
      });
      if (result.ok) return result.ok;
      if (result.error === 'reused') throw new UnauthorizedError('REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session has been revoked');
      throw new UnauthorizedError('REFRESH_TOKEN_INVALID', 'The refresh token is invalid, expired or revoked');
    },

    /** Revokes the caller's session (refresh family) and access token. */
    async logout(actor: Actor): Promise<void> {
      requirePermission(actor, 'account:read');
      if (actor.kind !== 'user' || !actor.sessionId || !actor.credentialId) {
        throw new ValidationError('SESSION_REQUIRED', 'Only a session access token can log out; revoke API keys instead');
      }
      const jti: Revocation = { id: actor.credentialId, kind: 'jti', expiresAt: new Date(ctx.clock() + s.accessTokenTtlSeconds * 1000 + 60_000).toISOString() };
      await ctx.uow(async (repos, tx) => {
        await revokeSessions(repos, actor.id, 'logout', [actor.sessionId!], (fn) => tx.afterCommit(fn));
        await ctx.revocations.record(repos.db, [jti], nowIso(ctx.clock));
        tx.afterCommit(() => ctx.revocations.publish([jti]));
        await ctx.audit.record(repos.db, { actor, action: 'auth.logout', resourceType: 'session', resourceId: actor.sessionId!, outcome: 'success' });
      });
    },

    async sessions(actor: Actor) {
      requirePermission(actor, 'account:read');
      if (actor.kind !== 'user') return { items: [] };
      const rows = await ctx.repos.sessions.activeSessions(actor.id, nowIso(ctx.clock));
      return {
        items: rows.map((r) => ({
          id: r.id,
          user_agent: r.userAgent,
          ip: r.ip,
          created_at: r.createdAt,
          last_used_at: r.lastUsedAt,
          expires_at: r.expiresAt,
          current: r.id === actor.sessionId,
        })),
      };
    },

    /** Revokes one of my sessions, or all of them when `sessionId` is null (and, with `revokeApiKeys`, all my API keys). */
    async revokeMySessions(actor: Actor, sessionId: string | null, options: { revokeApiKeys?: boolean } = {}): Promise<void> {
      requirePermission(actor, 'account:manage');
      if (actor.kind !== 'user') throw new ValidationError('SESSION_REQUIRED', 'Only a signed-in user has sessions');
      await ctx.uow(async (repos, tx) => {
        if (sessionId !== null) {
          const session = await repos.sessions.findSession(sessionId);
          if (!session || session.userId !== actor.id || session.revokedAt !== null) throw new NotFoundError('SESSION_NOT_FOUND', 'No such active session');
        }
        const ids = await revokeSessions(repos, actor.id, 'revoked_by_user', sessionId === null ? undefined : [sessionId], (fn) => tx.afterCommit(fn));
        const keys = sessionId === null && options.revokeApiKeys ? await revokeApiKeys(repos, actor, actor.id, (fn) => tx.afterCommit(fn)) : 0;
        await ctx.audit.record(repos.db, {
          actor,
          action: 'auth.session.revoked',
          resourceType: 'session',
          resourceId: sessionId,
          outcome: 'success',
          changes: { count: ids.length, api_keys: keys },
        });
      });
    },

    /** Changes my password (the current one is required); other sessions are signed out. */
    async changePassword(actor: Actor, input: { current_password: string; new_password: string; revoke_api_keys?: boolean }): Promise<void> {
      requirePermission(actor, 'account:manage');
      if (actor.kind !== 'user') throw new ValidationError('ACCOUNT_USER_REQUIRED', 'Only a signed-in user can change their password');
      const user = await ctx.repos.users.findCredentials(actor.id);
      if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
      if (!(await verifyPassword(user.passwordHash, input.current_password)).ok) {
        throw new ValidationError('PASSWORD_WRONG', 'The current password is wrong', [{ path: 'body.current_password', message: 'is wrong' }]);
      }
      const problems = await passwordProblems(
        input.new_password,
        { minLength: s.passwordMinLength, username: user.username, email: user.email },
        'body.new_password',
      );
      if (input.new_password === input.current_password) problems.push({ path: 'body.new_password', message: 'must differ from the current password' });
      if (problems.length > 0) throw new ValidationError('PASSWORD_POLICY', 'The new password does not meet the policy', problems);
      const hash = await hashPassword(input.new_password);
      await ctx.uow(async (repos, tx) => {
        const now = nowIso(ctx.clock);
        await repos.users.update(user.id, { passwordHash: hash, mustChangePassword: false }, now);
        const others = (await repos.sessions.activeSessions(user.id, now)).map((r) => r.id).filter((id) => id !== actor.sessionId);
        await revokeSessions(repos, user.id, 'password_changed', others, (fn) => tx.afterCommit(fn));
        if (input.revoke_api_keys) await revokeApiKeys(repos, actor, user.id, (fn) => tx.afterCommit(fn));
        await ctx.audit.record(repos.db, { actor, action: 'user.password_changed', resourceType: 'user', resourceId: user.id, outcome: 'success' });
        tx.afterCommit(() => ctx.principals.invalidateUser(user.id));
      });
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
