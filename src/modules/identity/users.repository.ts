import { sql, type SqlBool } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { bool } from '../../platform/db/columns.js';
import { dialectOf } from '../../platform/db/database.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { IdentityTables, UserStatus } from './identity.tables.js';

const USER_COLUMNS = [
  'users.id',
  'users.username',
  'users.email',
  'users.displayName',
  'users.status',
  'users.mustChangePassword',
  'users.failedLogins',
  'users.lockedUntil',
  'users.totpSecret',
  'users.lastLoginAt',
  'users.createdAt',
  'users.updatedAt',
] as const;

export interface UserRow {
  id: string;
  username: string;
  email: string;
  displayName: string;
  status: UserStatus;
  mustChangePassword: boolean;
  failedLogins: number;
  lockedUntil: string | null;
  totpEnabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UserCredentials extends UserRow {
  passwordHash: string;
  totpSecret: string | null;
  totpPendingSecret: string | null;
  totpLastStep: number | null;
}

type Raw = Omit<UserRow, 'mustChangePassword' | 'totpEnabled'> & { mustChangePassword: unknown; totpSecret: string | null };
const toRow = ({ totpSecret, ...r }: Raw): UserRow => ({ ...r, mustChangePassword: bool.read(r.mustChangePassword), totpEnabled: totpSecret !== null });

interface NewUser {
  id: string;
  username: string;
  email: string;
  displayName: string;
  passwordHash: string;
  mustChangePassword: boolean;
  now: string;
}

function newUserValues(u: NewUser) {
  return {
    id: u.id,
    username: u.username,
    usernameKey: u.username.toLowerCase(),
    email: u.email,
    emailKey: u.email.toLowerCase(),
    displayName: u.displayName,
    passwordHash: u.passwordHash,
    status: 'active' as const,
    mustChangePassword: bool.write(u.mustChangePassword),
    failedLogins: 0,
    lockedUntil: null,
    totpSecret: null,
    totpPendingSecret: null,
    totpLastStep: null,
    lastLoginAt: null,
    createdAt: u.now,
    updatedAt: u.now,
  };
}

export const USER_SORT = { username: 'users.username', email: 'users.email', created_at: 'users.createdAt', last_login_at: 'users.lastLoginAt' };

/** Users, their roles and team memberships, recovery codes. */
export type TotpColumn = 'totpSecret' | 'totpPendingSecret';

/** Advisory-lock key of the set of active admins (an arbitrary constant, unique in Opsdeck). */
const ADMIN_SET_LOCK = 0x6f70_6164; // 'opad'

export function createUsersRepository(base: Db) {
  const db = base.withTables<IdentityTables>();
  const dialect = dialectOf(base);
  return {
    async count(): Promise<number> {
      const r = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async insert(u: NewUser): Promise<void> {
      await db.insertInto('users').values(newUserValues(u)).execute();
    },
    /** Returns false when the username is taken (first-start race between nodes). */
    async insertIfAbsent(u: NewUser): Promise<boolean> {
      const r = await db
        .insertInto('users')
        .values(newUserValues(u))
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    async find(id: string): Promise<UserRow | undefined> {
      const r = await db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
      return r ? toRow(r) : undefined;
    },
    async findCredentials(id: string): Promise<UserCredentials | undefined> {
      const r = await db
        .selectFrom('users')
        .select([...USER_COLUMNS, 'users.passwordHash', 'users.totpPendingSecret', 'users.totpLastStep'])
        .where('id', '=', id)
        .executeTakeFirst();
      return r
        ? { ...toRow(r), passwordHash: r.passwordHash, totpSecret: r.totpSecret, totpPendingSecret: r.totpPendingSecret, totpLastStep: r.totpLastStep }
        : undefined;
    },
    /** By username or email, case-insensitively. */
    async findLogin(login: string): Promise<UserCredentials | undefined> {
      const key = login.toLowerCase();
      const r = await db
        .selectFrom('users')
        .select([...USER_COLUMNS, 'users.passwordHash', 'users.totpPendingSecret', 'users.totpLastStep'])
        .where((eb) => eb.or([eb('usernameKey', '=', key), eb('emailKey', '=', key)]))
        .orderBy('createdAt')
        .executeTakeFirst();
      return r
        ? { ...toRow(r), passwordHash: r.passwordHash, totpSecret: r.totpSecret, totpPendingSecret: r.totpPendingSecret, totpLastStep: r.totpLastStep }
        : undefined;
    },
    async taken(username: string | undefined, email: string | undefined, exceptId?: string): Promise<{ username: boolean; email: boolean }> {
      const rows = await db
        .selectFrom('users')
        .select(['usernameKey', 'emailKey'])
        .where((eb) =>
          eb.or([
            ...(username ? [eb('usernameKey', '=', username.toLowerCase())] : []),
            ...(email ? [eb('emailKey', '=', email.toLowerCase())] : []),
            sql<SqlBool>`1 = 0`,
          ]),
        )
        .$if(exceptId !== undefined, (q) => q.where('id', '!=', exceptId!))
        .execute();
      return {
        username: username !== undefined && rows.some((r) => r.usernameKey === username.toLowerCase()),
        email: email !== undefined && rows.some((r) => r.emailKey === email.toLowerCase()),
      };
    },
    async list(filters: FilterCondition[], keys: SortKey[], cursor: string | undefined, limit: number) {
      const rows = await applyPage(applyFilters(db.selectFrom('users').select(USER_COLUMNS), filters, dialect), keys, cursor, limit).execute();
      return pageResult(rows.map(toRow), keys, limit, camelValue);
    },
    async update(
      id: string,
      patch: Partial<{
        username: string;
        email: string;
        displayName: string;
        status: UserStatus;
        passwordHash: string;
        mustChangePassword: boolean;
        failedLogins: number;
        lockedUntil: string | null;
        totpSecret: string | null;
        totpPendingSecret: string | null;
        totpLastStep: number | null;
        lastLoginAt: string;
      }>,
      now: string,
    ): Promise<void> {
      const { mustChangePassword, ...rest } = patch;
      await db
        .updateTable('users')
        .set({
          ...rest,
          ...(patch.username !== undefined ? { usernameKey: patch.username.toLowerCase() } : {}),
          ...(patch.email !== undefined ? { emailKey: patch.email.toLowerCase() } : {}),
          ...(mustChangePassword !== undefined ? { mustChangePassword: bool.write(mustChangePassword) } : {}),
          updatedAt: now,
        })
        .where('id', '=', id)
        .execute();
    },
    /** Records a failed login atomically; returns the new count. */
    async recordFailure(id: string, lockedUntil: (failures: number) => string | null): Promise<number> {
      const r = await db
        .updateTable('users')
        .set((eb) => ({ failedLogins: eb('failedLogins', '+', 1) }))
        .where('id', '=', id)
        .returning('failedLogins')
        .executeTakeFirst();
      const failures = r?.failedLogins ?? 0;
      const until = lockedUntil(failures);
      if (until) await db.updateTable('users').set({ lockedUntil: until }).where('id', '=', id).execute();
      return failures;
    },
    /** Only consumes a TOTP time step newer than the last one used (replay protection, race-safe). */
    async consumeTotpStep(id: string, step: number): Promise<boolean> {
      const r = await db
        .updateTable('users')
        .set({ totpLastStep: step })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('totpLastStep', 'is', null), eb('totpLastStep', '<', step)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('users').where('id', '=', id).execute();
    },

    async roleNamesOf(userIds: string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>(userIds.map((id) => [id, []]));
      if (userIds.length === 0) return out;
      const rows = await db
        .selectFrom('userRoles')
        .innerJoin('roles', 'roles.id', 'userRoles.roleId')
        .select(['userRoles.userId', 'roles.name'])
        .where('userRoles.userId', 'in', userIds)
        .orderBy('roles.name')
        .execute();
      for (const r of rows) out.get(r.userId)?.push(r.name);
      return out;
    },
    async setRoles(userId: string, roleIds: string[]): Promise<void> {
      await db.deleteFrom('userRoles').where('userId', '=', userId).execute();
      if (roleIds.length > 0) {
        await db
          .insertInto('userRoles')
          .values(roleIds.map((roleId) => ({ userId, roleId })))
          .execute();
      }
    },
    /** Active users other than `userId` holding the built-in admin role. */
    /** Users holding a sealed TOTP seed (enabled or pending), by id after `afterId`. */
    async sealedTotp(afterId: string, limit: number): Promise<{ id: string; totpSecret: string | null; totpPendingSecret: string | null }[]> {
      return db
        .selectFrom('users')
        .select(['id', 'totpSecret', 'totpPendingSecret'])
        .where('id', '>', afterId)
        .where((eb) => eb.or([eb('totpSecret', 'is not', null), eb('totpPendingSecret', 'is not', null)]))
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    /** Swaps a sealed seed if it is still `old` (re-sealing and rotation race with nothing). */
    async replaceTotp(id: string, column: TotpColumn, old: string, next: string): Promise<boolean> {
      const r = await db
        .updateTable('users')
        .set({ [column]: next })
        .where('id', '=', id)
        .where(column, '=', old)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /**
     * Serialises every change that could remove an admin until the transaction ends, so the
     * last-admin check and the change are atomic. PostgreSQL: a transaction-scoped advisory lock
     * (READ COMMITTED would otherwise let two demotions each count the other admin). SQLite: its
     * single connection already runs one transaction at a time.
     */
    async lockAdminSet(): Promise<void> {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${ADMIN_SET_LOCK})`.execute(db);
    },

    async otherActiveAdmins(userId: string): Promise<number> {
      const row = await db
        .selectFrom('userRoles')
        .innerJoin('roles', 'roles.id', 'userRoles.roleId')
        .innerJoin('users', 'users.id', 'userRoles.userId')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('roles.name', '=', 'admin')
        .where('roles.builtin', '=', bool.write(true))
        .where('users.status', '=', 'active')
        .where('users.id', '!=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async userIdsWithRole(roleId: string): Promise<string[]> {
      return (await db.selectFrom('userRoles').select('userId').where('roleId', '=', roleId).execute()).map((r) => r.userId);
    },
    async teamIdsOf(userId: string): Promise<string[]> {
      return (await db.selectFrom('teamMembers').select('teamId').where('userId', '=', userId).orderBy('teamId').execute()).map((r) => r.teamId);
    },

    async replaceRecoveryCodes(userId: string, codes: { id: string; codeHash: string }[]): Promise<void> {
      await db.deleteFrom('recoveryCodes').where('userId', '=', userId).execute();
      if (codes.length > 0) {
        await db
          .insertInto('recoveryCodes')
          .values(codes.map((c) => ({ ...c, userId, usedAt: null })))
          .execute();
      }
    },
    /** Marks an unused code used; false when there is none with that hash. */
    async useRecoveryCode(userId: string, codeHash: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('recoveryCodes')
        .set({ usedAt: now })
        .where('userId', '=', userId)
        .where('codeHash', '=', codeHash)
        .where('usedAt', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async unusedRecoveryCodes(userId: string): Promise<number> {
      const r = await db
        .selectFrom('recoveryCodes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('userId', '=', userId)
        .where('usedAt', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
export type UsersRepository = ReturnType<typeof createUsersRepository>;
