import type { Db } from '../../platform/db/database.js';
import type { Cache } from '../../platform/cache/index.js';
import type { AuthMemo } from './auth-memo.js';
import { BUILTIN_ROLES, unionPermissions, type BuiltinRole, type PermissionRegistry } from './permissions.fns.js';
import { createRolesRepository } from './roles.repository.js';
import { createUsersRepository } from './users.repository.js';

/** What the authenticator needs to know about a user, cached on every node (JSON-serialisable). */
export interface Principal {
  id: string;
  username: string;
  active: boolean;
  roles: string[];
  permissions: string[] | '*';
  teamIds: string[];
  totpEnabled: boolean;
  mustChangePassword: boolean;
}

export type RolePermissions = Record<string, string[] | '*'>;

const TTL_MS = 60_000;
export const ROLES_TAG = 'identity:roles';
export const userTag = (id: string) => `identity:user:${id}`;
export const apiKeyTag = (prefix: string) => `identity:api-key:${prefix}`;

/** Until the password is changed after an admin reset, a user may only manage their own account. */
export const SELF_SERVICE = ['account:read', 'account:manage'];

/**
 * Principals and role permissions through the platform cache: tag invalidation reaches every
 * node (Redis in a cluster), so a disabled user or an edited role takes effect everywhere.
 * The invalidators here are the only way identity data is invalidated (they also empty the
 * authenticator's credential memo).
 */
export function createPrincipals(deps: { db: Db; cache: Cache; registry: PermissionRegistry; memo: Pick<AuthMemo<unknown>, 'invalidate'> }) {
  async function loadRolePermissions(db: Db): Promise<RolePermissions> {
    const out: RolePermissions = {};
    for (const role of await createRolesRepository(db).list()) {
      if (role.builtin && (BUILTIN_ROLES as readonly string[]).includes(role.name)) {
        const p = deps.registry.builtin(role.name as BuiltinRole);
        out[role.name] = p === '*' ? '*' : [...p];
      } else {
        out[role.name] = role.permissions.filter((p) => deps.registry.has(p));
      }
    }
    return out;
  }

  async function rolePermissions(): Promise<RolePermissions> {
    return deps.cache.wrap('identity:role-permissions', { tags: [ROLES_TAG], ttlMs: TTL_MS }, () => loadRolePermissions(deps.db));
  }

  function permissionsOf(roles: string[], byRole: RolePermissions): string[] | '*' {
    const merged = unionPermissions(roles.map((r) => (byRole[r] === '*' ? '*' : new Set(byRole[r] ?? []))));
    return merged === '*' ? '*' : [...merged].sort();
  }

  async function load(db: Db, userId: string, roleSource: () => Promise<RolePermissions>): Promise<Principal | null> {
    const users = createUsersRepository(db);
    const user = await users.find(userId);
    if (!user) return null;
    const roles = (await users.roleNamesOf([userId])).get(userId) ?? [];
    return {
      id: user.id,
      username: user.username,
      active: user.status === 'active',
      roles,
      permissions: user.mustChangePassword ? SELF_SERVICE : permissionsOf(roles, await roleSource()),
      teamIds: await users.teamIdsOf(userId),
      totpEnabled: user.totpEnabled,
      mustChangePassword: user.mustChangePassword,
    };
  }

  /** Every identity cache invalidation also empties the credential memo, on every node. */
  const invalidate = (tag: string) => deps.memo.invalidate(() => deps.cache.invalidateTag(tag));

  return {
    rolePermissions,
    permissionsOf,
    async get(userId: string): Promise<Principal | null> {
      // Cache absence too (as false): a deleted user's tokens are refused without a query each time.
      const cached = await deps.cache.wrap(
        `identity:principal:${userId}`,
        { tags: [userTag(userId), ROLES_TAG], ttlMs: TTL_MS },
        async () => (await load(deps.db, userId, rolePermissions)) ?? (false as const),
      );
      return cached === false ? null : cached;
    },
    /** The principal as the given handle (a transaction's) sees it, bypassing the cache. */
    getWithin(db: Db, userId: string): Promise<Principal | null> {
      return load(db, userId, () => loadRolePermissions(db));
    },
    /** Call after any change to a user's status, roles, teams, password or 2FA (after commit). */
    invalidateUser: (userId: string) => invalidate(userTag(userId)),
    invalidateRoles: () => invalidate(ROLES_TAG),
    invalidateApiKey: (prefix: string) => invalidate(apiKeyTag(prefix)),
  };
}
export type Principals = ReturnType<typeof createPrincipals>;
