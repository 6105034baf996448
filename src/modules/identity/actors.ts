import type { Db } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/auth.js';
import { createApiKeysRepository } from './api-keys.repository.js';
import { intersectPermissions } from './permissions.fns.js';
import type { Principals } from './principals.js';

/**
 * Who a stored principal (a run's initiator) is now, for work that acts later on its behalf
 * (job runs): a user's current roles and teams, an API key's grant within its owner's. Null when
 * the user is gone or disabled, or the key revoked or expired: the same rules as authentication.
 */
export function createActorLookup(deps: { db: Db; principals: Principals; clock: () => number }) {
  return async function actorOf(kind: 'user' | 'api_key', id: string): Promise<Actor | null> {
    if (kind === 'user') {
      const p = await deps.principals.get(id);
      if (!p?.active) return null;
      return {
        kind: 'user',
        id: p.id,
        name: p.username,
        permissions: p.permissions === '*' ? '*' : new Set(p.permissions),
        teamIds: [...p.teamIds],
        userId: p.id,
      };
    }
    const key = await createApiKeysRepository(deps.db).find(id);
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && Date.parse(key.expiresAt) <= deps.clock())) return null;
    const owner = await deps.principals.get(key.userId);
    if (!owner?.active) return null;
    const byRole = key.roleName ? ((await deps.principals.rolePermissions())[key.roleName] ?? []) : (key.permissions ?? []);
    const permissions = intersectPermissions(byRole === '*' ? '*' : new Set(byRole), owner.permissions === '*' ? '*' : new Set(owner.permissions));
    return { kind: 'api_key', id: key.id, name: key.name, permissions, teamIds: [...owner.teamIds], userId: key.userId, credentialId: key.id };
  };
}
