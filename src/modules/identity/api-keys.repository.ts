import type { Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import type { IdentityTables } from './identity.tables.js';

export interface ApiKeyRow {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  roleId: string | null;
  roleName: string | null;
  /** Explicit subset; null when the key has a role. */
  permissions: string[] | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

const COLUMNS = [
  'apiKeys.id',
  'apiKeys.userId',
  'apiKeys.name',
  'apiKeys.prefix',
  'apiKeys.roleId',
  'roles.name as roleName',
  'apiKeys.permissions',
  'apiKeys.expiresAt',
  'apiKeys.lastUsedAt',
  'apiKeys.revokedAt',
  'apiKeys.createdAt',
] as const;

type Raw = Omit<ApiKeyRow, 'permissions'> & { permissions: unknown };
const toRow = (r: Raw): ApiKeyRow => ({ ...r, permissions: r.permissions === null ? null : json.read<string[]>(r.permissions) });

/** API keys: only the secret's SHA-256 is stored; the prefix finds the row. */
export function createApiKeysRepository(base: Db) {
  const db = base.withTables<IdentityTables>();
  const select = () => db.selectFrom('apiKeys').leftJoin('roles', 'roles.id', 'apiKeys.roleId').select(COLUMNS);
  return {
    async insert(k: {
      id: string;
      userId: string;
      name: string;
      prefix: string;
      secretHash: string;
      roleId: string | null;
      permissions: string[] | null;
      expiresAt: string | null;
      createdAt: string;
    }): Promise<void> {
      await db
        .insertInto('apiKeys')
        .values({ ...k, permissions: k.permissions === null ? null : json.write(k.permissions), lastUsedAt: null, revokedAt: null })
        .execute();
    },
    async find(id: string): Promise<ApiKeyRow | undefined> {
      const r = await select().where('apiKeys.id', '=', id).executeTakeFirst();
      return r ? toRow(r) : undefined;
    },
    async findByPrefix(prefix: string): Promise<(ApiKeyRow & { secretHash: string }) | undefined> {
      const r = await select().select('apiKeys.secretHash').where('apiKeys.prefix', '=', prefix).executeTakeFirst();
      return r ? { ...toRow(r), secretHash: r.secretHash } : undefined;
    },
    /** Keys of one user, or of everybody when `userId` is undefined. */
    async list(userId: string | undefined): Promise<ApiKeyRow[]> {
      return (
        await select()
          .$if(userId !== undefined, (q) => q.where('apiKeys.userId', '=', userId!))
          .orderBy('apiKeys.createdAt', 'desc')
          .limit(1000)
          .execute()
      ).map(toRow);
    },
    async revoke(id: string, now: string): Promise<boolean> {
      const r = await db.updateTable('apiKeys').set({ revokedAt: now }).where('id', '=', id).where('revokedAt', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Revokes every active key of a user; the revoked keys' ids and prefixes (for cache invalidation). */
    async revokeAllOf(userId: string, now: string): Promise<{ id: string; prefix: string }[]> {
      const keys = await db.selectFrom('apiKeys').select(['id', 'prefix']).where('userId', '=', userId).where('revokedAt', 'is', null).execute();
      if (keys.length > 0) {
        await db
          .updateTable('apiKeys')
          .set({ revokedAt: now })
          .where(
            'id',
            'in',
            keys.map((k) => k.id),
          )
          .where('revokedAt', 'is', null)
          .execute();
      }
      return keys;
    },
    async touch(id: string, now: string): Promise<void> {
      await db.updateTable('apiKeys').set({ lastUsedAt: now }).where('id', '=', id).execute();
    },
  };
}
export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
