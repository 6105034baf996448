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
import { ROLES_TAG, type Principal, type Principals } from './principals.js';
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

export const apiKeyTag = (prefix: string) => `identity:api-key:${prefix}`;
const TOUCH_EVERY_MS = 60_000;

/**
 * Bearer JWTs, `X-API-Key` and `Authorization: Bearer odk_…`. Hot path without a database
 * round trip: verified tokens are kept in an LRU until they expire, revocations are an
 * in-memory set (see revocations.ts), principals and API keys come from the platform cache.
 */
export function createIdentityAuthenticator(deps: {
  db: Db;
  cache: Cache;
  jwt: Jwt;
  revocations: RevocationList;
  principals: Principals;
  audit: AuditService;
  logger: Pick<Logger, 'warn'>;
  clock: () => number;
}): Authenticator & { authenticateToken(token: string, context: { ip?: string; requestId?: string }): Promise<Actor> } {
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

  async function fromJwt(token: string, ctx: { ip?: string; requestId?: string }): Promise<Actor> {
    const claims = await claimsOf(token);
    if (deps.revocations.has(claims.jti) || deps.revocations.has(claims.sid)) throw new UnauthorizedError('TOKEN_REVOKED', 'The access token has been revoked');
    const principal = await deps.principals.get(claims.sub);
    if (!principal?.active) throw new UnauthorizedError('TOKEN_REVOKED', 'The access token has been revoked');
    return {
      kind: 'user',
      id: principal.id,
      name: principal.username,
      ...baseOf(principal),
      userId: principal.id,
      credentialId: claims.jti,
      sessionId: claims.sid,
      ...(claims.mfa ? { mfaAt: claims.mfa } : {}),
      ...ctx,
    };
  }

  async function fromApiKey(raw: string, ctx: { ip?: string; requestId?: string }): Promise<Actor> {
    const parsed = parseApiKey(raw);
    if (!parsed) throw new UnauthorizedError('API_KEY_INVALID', 'The API key is invalid');
    const key = await deps.cache.wrap<CachedKey | false>(`identity:api-key:${parsed.prefix}`, { tags: [apiKeyTag(parsed.prefix), ROLES_TAG], ttlMs: 60_000 }, async () => {
      const row = await createApiKeysRepository(deps.db).findByPrefix(parsed.prefix);
      return row
        ? { id: row.id, userId: row.userId, name: row.name, secretHash: row.secretHash, roleName: row.roleName, permissions: row.permissions, expiresAt: row.expiresAt, revoked: row.revokedAt !== null }
        : false;
    });
    if (!key || !digestEquals(sha256(parsed.secret), key.secretHash)) throw new UnauthorizedError('API_KEY_INVALID', 'The API key is invalid');
    if (key.revoked) throw new UnauthorizedError('API_KEY_REVOKED', 'The API key has been revoked');
    const now = deps.clock();
    if (key.expiresAt && Date.parse(key.expiresAt) <= now) throw new UnauthorizedError('API_KEY_EXPIRED', 'The API key has expired');
    const owner = await deps.principals.get(key.userId);
    if (!owner?.active) throw new UnauthorizedError('API_KEY_REVOKED', 'The API key has been revoked');
    const byRole = key.roleName ? ((await deps.principals.rolePermissions())[key.roleName] ?? []) : (key.permissions ?? []);
    // The cache hands out the same objects until something changes, so the grant is computed once per change.
    let memo = grants.get(key);
    if (memo?.owner !== owner || memo.byRole !== byRole) {
      memo = { owner, byRole, granted: intersectPermissions(byRole === '*' ? '*' : new Set(byRole), baseOf(owner).permissions) };
      grants.set(key, memo);
    }
    const granted = memo.granted;
    if ((lastTouched.get(key.id) ?? 0) + TOUCH_EVERY_MS <= now) {
      lastTouched.set(key.id, now);
      // NOTE: last-used is advisory; writing it per request would be a DB round trip per call.
      createApiKeysRepository(deps.db)
        .touch(key.id, nowIso(deps.clock))
        .catch((err: unknown) => deps.logger.warn({ err }, 'api key last-used update failed'));
    }
    return { kind: 'api_key', id: key.id, name: key.name, permissions: granted, teamIds: owner.teamIds, userId: key.userId, credentialId: key.id, ...ctx };
  }

  async function authenticateToken(token: string, ctx: { ip?: string; requestId?: string }): Promise<Actor> {
    return token.startsWith('odk_') ? fromApiKey(token, ctx) : fromJwt(token, ctx);
  }

  return {
    authenticateToken,
    async authenticate(request: FastifyRequest): Promise<Actor | null> {
      const ctx = { ip: request.ip, requestId: String(request.id) };
      const apiKey = request.headers['x-api-key'];
      if (typeof apiKey === 'string') return fromApiKey(apiKey, ctx);
      const header = request.headers.authorization;
      if (header === undefined) return null;
      if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') throw new UnauthorizedError('AUTH_SCHEME_UNSUPPORTED', 'Use Authorization: Bearer <token> or X-API-Key');
      return authenticateToken(header.slice(7).trim(), ctx);
    },
    async onDenied(request, actor, permission): Promise<void> {
      await deps.audit.record(deps.db, {
        actor,
        action: 'permission.denied',
        resourceType: 'route',
        resourceId: `${request.method} ${request.routeOptions.url ?? ''}`,
        outcome: 'denied',
        changes: { permission },
      });
    },
  };
}
