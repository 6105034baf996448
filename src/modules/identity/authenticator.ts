import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../platform/db/database.js';
import type { Cache } from '../../platform/cache/index.js';
import type { Logger } from '../../platform/observability/logger.js';
import { UnauthorizedError } from '../../platform/errors.js';
import { nowIso } from '../../platform/ids.js';
import type { Actor, Authenticator } from '../../platform/http/auth.js';
import { createApiKeysRepository } from './api-keys.repository.js';
import type { AuditService } from './audit.service.js';
import type { AccessClaims, Jwt } from './jwt.js';
import { intersectPermissions } from './permissions.fns.js';
import type { AuthMemo } from './auth-memo.js';
import { apiKeyTag, ROLES_TAG, type Principal, type Principals } from './principals.js';
import type { RevocationList } from './revocations.js';
import { digestEquals, parseApiKey, sha256 } from './secrets.fns.js';

interface CachedKey {
  id: string;
  userId: string;
  name: string;
  secretHash: string;
  roleName: string | null;
  permissions: string[] | null;
  expiresAt: string | null;
  revoked: boolean;
}

const TOUCH_EVERY_MS = 60_000;
/** Audit records keep this much of a User-Agent header. */
export const USER_AGENT_MAX = 256;

/** An actor without its request context: what a credential resolves to, memoised per credential. */
export type ResolvedCredential = Omit<Actor, 'ip' | 'requestId' | 'userAgent' | 'stepUpCode'>;
type RequestContext = Pick<Actor, 'ip' | 'requestId' | 'userAgent' | 'stepUpCode'>;

/** Field by field: on V8, `{ ...resolved, ...ctx }` costs microseconds (a fresh hidden class per object). */
function withContext(r: ResolvedCredential, ctx: RequestContext): Actor {
  const actor: Actor = {
    kind: r.kind,
    id: r.id,
    name: r.name,
    permissions: r.permissions,
    teamIds: r.teamIds,
    userId: r.userId,
    credentialId: r.credentialId,
    ip: ctx.ip,
    requestId: ctx.requestId,
  };
  if (r.sessionId !== undefined) actor.sessionId = r.sessionId;
  if (r.mfaAt !== undefined) actor.mfaAt = r.mfaAt;
  if (r.authAt !== undefined) actor.authAt = r.authAt;
  if (ctx.stepUpCode !== undefined) actor.stepUpCode = ctx.stepUpCode;
  if (ctx.userAgent !== undefined) actor.userAgent = ctx.userAgent;
  return actor;
}

/**
 * Bearer JWTs, `X-API-Key` and `Authorization: Bearer odk_…`. Hot path without a database
 * round trip or an await: a credential seen before is answered from the memo (auth-memo.ts)
 * after the in-memory revocation check; otherwise verified tokens come from an LRU until they
 * expire, and principals and API keys from the platform cache.
 */
export function createIdentityAuthenticator(deps: {
  db: Db;
  cache: Cache;
  jwt: Jwt;
  revocations: RevocationList;
  principals: Principals;
  memo: AuthMemo<ResolvedCredential>;
  audit: AuditService;
  logger: Pick<Logger, 'warn'>;
  clock: () => number;
}): Authenticator & { authenticateToken(token: string, context: RequestContext): Promise<Actor> } {
  const verified = new LRUCache<string, AccessClaims>({ max: 10_000 });
  const lastTouched = new Map<string, number>();
  /** Actor bases per principal object (the cache hands out the same object until it changes). */
  const bases = new WeakMap<Principal, Pick<Actor, 'permissions' | 'teamIds'>>();
  const grants = new WeakMap<CachedKey, { owner: Principal; byRole: string[] | '*'; granted: Actor['permissions'] }>();

  function baseOf(p: Principal): Pick<Actor, 'permissions' | 'teamIds'> {
    let b = bases.get(p);
    if (!b) {
      b = { permissions: p.permissions === '*' ? '*' : new Set(p.permissions), teamIds: Object.freeze([...p.teamIds]) };
      bases.set(p, b);
    }
    return b;
  }

  async function claimsOf(token: string): Promise<AccessClaims> {
    let claims = verified.get(token);
    if (claims === undefined) {
      claims = await deps.jwt.verify(token);
      verified.set(token, claims);
    } else if (claims.exp * 1000 <= deps.clock()) {
      verified.delete(token);
      throw new UnauthorizedError('TOKEN_EXPIRED', 'The access token has expired; refresh it');
    }
    return claims;
  }

  function refuseRevoked(jti: string | undefined, sid: string | undefined): void {
    if ((jti !== undefined && deps.revocations.has(jti)) || (sid !== undefined && deps.revocations.has(sid))) {
      throw new UnauthorizedError('TOKEN_REVOKED', 'The access token has been revoked');
    }
  }

  // NOTE: last-used is advisory; writing it per request would be a DB round trip per call.
  function touch(keyId: string): void {
    const now = deps.clock();
    if ((lastTouched.get(keyId) ?? 0) + TOUCH_EVERY_MS > now) return;
    lastTouched.set(keyId, now);
    createApiKeysRepository(deps.db)
      .touch(keyId, nowIso(deps.clock))
      .catch((err: unknown) => deps.logger.warn({ err }, 'api key last-used update failed'));
  }

  /** The memoised answer for a credential seen before; revocations are checked every time. */
  function remembered(token: string, ctx: RequestContext): Actor | undefined {
    const hit = deps.memo.get(token);
    if (hit === undefined) return undefined;
    if (hit.kind === 'api_key') touch(hit.id);
    else refuseRevoked(hit.credentialId, hit.sessionId);
    return withContext(hit, ctx);
  }

  async function fromJwt(token: string, ctx: RequestContext): Promise<Actor> {
    const since = deps.memo.epoch();
    const claims = await claimsOf(token);
    refuseRevoked(claims.jti, claims.sid);
    const principal = await deps.principals.get(claims.sub);
    if (!principal?.active) throw new UnauthorizedError('TOKEN_REVOKED', 'The access token has been revoked');
    const { permissions, teamIds } = baseOf(principal);
    const resolved: ResolvedCredential = {
      kind: 'user',
      id: principal.id,
      name: principal.username,
      permissions,
      teamIds,
      userId: principal.id,
      credentialId: claims.jti,
      sessionId: claims.sid,
    };
    if (claims.mfa) resolved.mfaAt = claims.mfa;
    if (claims.auth) resolved.authAt = claims.auth;
    deps.memo.set(token, resolved, claims.exp * 1000, since);
    return withContext(resolved, ctx);
  }

  async function fromApiKey(raw: string, ctx: RequestContext): Promise<Actor> {
    const since = deps.memo.epoch();
    const parsed = parseApiKey(raw);
    if (!parsed) throw new UnauthorizedError('API_KEY_INVALID', 'The API key is invalid');
    const key = await deps.cache.wrap<CachedKey | false>(
      `identity:api-key:${parsed.prefix}`,
      { tags: [apiKeyTag(parsed.prefix), ROLES_TAG], ttlMs: 60_000 },
      async () => {
        const row = await createApiKeysRepository(deps.db).findByPrefix(parsed.prefix);
        return row
          ? {
              id: row.id,
              userId: row.userId,
              name: row.name,
              secretHash: row.secretHash,
              roleName: row.roleName,
              permissions: row.permissions,
              expiresAt: row.expiresAt,
              revoked: row.revokedAt !== null,
            }
          : false;
      },
    );
    if (!key || !digestEquals(sha256(parsed.secret), key.secretHash)) throw new UnauthorizedError('API_KEY_INVALID', 'The API key is invalid');
    if (key.revoked) throw new UnauthorizedError('API_KEY_REVOKED', 'The API key has been revoked');
    const expiresAt = key.expiresAt ? Date.parse(key.expiresAt) : Infinity;
    if (expiresAt <= deps.clock()) throw new UnauthorizedError('API_KEY_EXPIRED', 'The API key has expired');
    const owner = await deps.principals.get(key.userId);
    if (!owner?.active) throw new UnauthorizedError('API_KEY_REVOKED', 'The API key has been revoked');
    const byRole = key.roleName ? ((await deps.principals.rolePermissions())[key.roleName] ?? []) : (key.permissions ?? []);
    // The cache hands out the same objects until something changes, so the grant is computed once per change.
    let grant = grants.get(key);
    if (grant?.owner !== owner || grant.byRole !== byRole) {
      grant = { owner, byRole, granted: intersectPermissions(byRole === '*' ? '*' : new Set(byRole), baseOf(owner).permissions) };
      grants.set(key, grant);
    }
    touch(key.id);
    const resolved: ResolvedCredential = {
      kind: 'api_key',
      id: key.id,
      name: key.name,
      permissions: grant.granted,
      teamIds: owner.teamIds,
      userId: key.userId,
      credentialId: key.id,
    };
    deps.memo.set(raw, resolved, expiresAt, since);
    return withContext(resolved, ctx);
  }

  /** `keyOnly`: from `X-API-Key`, which carries API keys only, whatever it holds. */
  function authenticateToken(token: string, ctx: RequestContext, keyOnly = false): Actor | Promise<Actor> {
    const isKey = token.startsWith('odk_');
    if (keyOnly && !isKey) throw new UnauthorizedError('API_KEY_INVALID', 'The API key is invalid');
    return remembered(token, ctx) ?? (isKey ? fromApiKey(token, ctx) : fromJwt(token, ctx));
  }

  return {
    authenticateToken: async (token, ctx) => authenticateToken(token, ctx),
    async authenticate(request: FastifyRequest): Promise<Actor | null> {
      const code = request.headers['x-totp-code'];
      const ctx: RequestContext = { ip: request.ip, requestId: String(request.id) };
      const ua = request.headers['user-agent'];
      if (typeof ua === 'string' && ua.length > 0) ctx.userAgent = ua.slice(0, USER_AGENT_MAX);
      if (typeof code === 'string' && code.length > 0 && code.length <= 64) ctx.stepUpCode = code;
      const apiKey = request.headers['x-api-key'];
      if (typeof apiKey === 'string') return authenticateToken(apiKey, ctx, true);
      const header = request.headers.authorization;
      if (header === undefined) return null;
      if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') {
        throw new UnauthorizedError('AUTH_SCHEME_UNSUPPORTED', 'Use Authorization: Bearer <token> or X-API-Key');
      }
      return authenticateToken(header.slice(7).trim(), ctx);
    },
    async onDenied(request, actor, permission): Promise<void> {
      await deps.audit.recordDenied({
        actor,
        action: 'permission.denied',
        resourceType: 'route',
        resourceId: `${request.method} ${request.routeOptions.url ?? ''}`,
        changes: { permission },
      });
    },
  };
}
