import { ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { newId, nowIso } from '../../platform/ids.js';
import { hasPermission, requirePermission, type Actor } from '../../platform/http/auth.js';
import type { ApiKeyRow } from './api-keys.repository.js';
import type { IdentityContext } from './identity.context.js';
import { isSubset } from './permissions.fns.js';
import { newApiKey } from './secrets.fns.js';
import { actingUserId } from './two-factor.service.js';
import { isPrivileged, type StepUp } from './step-up.fns.js';

export interface CreateApiKeyInput {
  name: string;
  role?: string;
  permissions?: string[];
  expires_at?: string;
}

const view = (k: ApiKeyRow, now: number) => ({
  id: k.id,
  name: k.name,
  prefix: `odk_${k.prefix}`,
  user_id: k.userId,
  role: k.roleName,
  permissions: k.permissions,
  expires_at: k.expiresAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
  created_at: k.createdAt,
  status: k.revokedAt ? ('revoked' as const) : k.expiresAt && Date.parse(k.expiresAt) <= now ? ('expired' as const) : ('active' as const),
});

/** What createApiKeysService uses of the identity context. */
export type ApiKeysDeps = Pick<IdentityContext, 'repos' | 'uow' | 'audit' | 'principals' | 'registry' | 'clock'>;

/** API keys: shown once, stored hashed, never wider than their creator. */
export function createApiKeysService(ctx: ApiKeysDeps, stepUp: StepUp) {
  async function own(actor: Actor, id: string): Promise<ApiKeyRow> {
    const key = await ctx.repos.apiKeys.find(id);
    if (!key || (key.userId !== actingUserId(actor) && !hasPermission(actor, 'api-keys:admin'))) {
      throw new NotFoundError('API_KEY_NOT_FOUND', 'The API key does not exist');
    }
    return key;
  }

  async function create(actor: Actor, input: CreateApiKeyInput, audit = 'api_key.created') {
    requirePermission(actor, 'api-keys:write');
    const userId = actingUserId(actor);
    if (!userId) throw new ValidationError('API_KEY_OWNER_REQUIRED', 'API keys belong to a user; the system actor cannot create one');
    if ((input.role === undefined) === (input.permissions === undefined)) {
      throw new ValidationError('API_KEY_GRANT', 'Give either a role or a list of permissions', [
        { path: 'body', message: 'exactly one of role, permissions is required' },
      ]);
    }
    if (input.expires_at && Date.parse(input.expires_at) <= ctx.clock()) {
      throw new ValidationError('API_KEY_EXPIRY', 'The expiry is in the past', [{ path: 'body.expires_at', message: 'must be in the future' }]);
    }
    let roleId: string | null = null;
    let wanted: ReadonlySet<string> | '*';
    if (input.role !== undefined) {
      const [role] = await ctx.repos.roles.findByNames([input.role]);
      if (!role) throw new ValidationError('ROLE_NOT_FOUND', `Unknown role '${input.role}'`, [{ path: 'body.role', message: 'unknown role' }]);
      roleId = role.id;
      const byRole = (await ctx.principals.rolePermissions())[role.name] ?? [];
      wanted = byRole === '*' ? '*' : new Set(byRole);
    } else {
      const unknown = input.permissions!.filter((p) => !ctx.registry.has(p));
      if (unknown.length > 0) {
        throw new ValidationError('PERMISSION_UNKNOWN', `Unknown permission(s): ${unknown.join(', ')}`, [
          { path: 'body.permissions', message: `unknown: ${unknown.join(', ')}` },
        ]);
      }
      wanted = new Set(input.permissions);
    }
    if (!isSubset(wanted, actor.permissions)) throw new ForbiddenError('API_KEY_TOO_WIDE', 'An API key cannot have permissions its creator does not hold');
    if (isPrivileged(wanted)) await stepUp(actor);
    const generated = newApiKey();
    const id = newId();
    await ctx.uow(async (repos) => {
      await repos.apiKeys.insert({
        id,
        userId,
        name: input.name,
        prefix: generated.prefix,
        secretHash: generated.secretHash,
        roleId,
        permissions: input.permissions ? [...new Set(input.permissions)].sort() : null,
        expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
        createdAt: nowIso(ctx.clock),
      });
      await ctx.audit.record(repos.db, {
        actor,
        action: audit,
        resourceType: 'api_key',
        resourceId: id,
        outcome: 'success',
        changes: { name: input.name, role: input.role ?? null, permissions: input.permissions ?? null },
      });
    });
    const row = await ctx.repos.apiKeys.find(id);
    return { ...view(row!, ctx.clock()), key: generated.key };
  }

  async function revoke(actor: Actor, id: string, action = 'api_key.revoked'): Promise<ApiKeyRow> {
    requirePermission(actor, 'api-keys:write');
    const key = await own(actor, id);
    await ctx.uow(async (repos, tx) => {
      if (!(await repos.apiKeys.revoke(id, nowIso(ctx.clock)))) throw new NotFoundError('API_KEY_NOT_FOUND', 'The API key is already revoked');
      await ctx.audit.record(repos.db, { actor, action, resourceType: 'api_key', resourceId: id, outcome: 'success', changes: { name: key.name } });
      tx.afterCommit(() => ctx.principals.invalidateApiKey(key.prefix));
    });
    return key;
  }

  return {
    create,
    revoke: async (actor: Actor, id: string) => void (await revoke(actor, id)),
    async list(actor: Actor) {
      requirePermission(actor, 'api-keys:read');
      const everyone = hasPermission(actor, 'api-keys:admin');
      const rows = await ctx.repos.apiKeys.list(everyone ? undefined : (actingUserId(actor) ?? '00000000-0000-0000-0000-000000000000'));
      return { items: rows.map((k) => view(k, ctx.clock())) };
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'api-keys:read');
      return view(await own(actor, id), ctx.clock());
    },
    /** A new secret with the same name and grant; the old key stops working at once. */
    async rotate(actor: Actor, id: string) {
      const old = await own(actor, id);
      if (old.revokedAt) throw new NotFoundError('API_KEY_NOT_FOUND', 'The API key is revoked');
      const created = await create(
        actor,
        {
          name: old.name,
          ...(old.roleName ? { role: old.roleName } : { permissions: old.permissions ?? [] }),
          ...(old.expiresAt && Date.parse(old.expiresAt) > ctx.clock() ? { expires_at: old.expiresAt } : {}),
        },
        'api_key.rotated',
      );
      await revoke(actor, id);
      return created;
    },
  };
}
export type ApiKeysService = ReturnType<typeof createApiKeysService>;
