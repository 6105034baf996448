import type { Db } from '../../platform/db/database.js';
import { bool, json } from '../../platform/db/columns.js';
import type { IdentityTables } from './identity.tables.js';

export interface RoleRow {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  /** Stored permissions; empty for built-in roles, whose permissions are derived from the registry. */
  permissions: string[];
  createdAt: string;
  updatedAt: string;
}

export interface TeamRow {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

const ROLE_COLUMNS = ['id', 'name', 'description', 'builtin', 'permissions', 'createdAt', 'updatedAt'] as const;
const toRole = (r: {
  id: string;
  name: string;
  description: string;
  builtin: unknown;
  permissions: unknown;
  createdAt: string;
  updatedAt: string;
}): RoleRow => ({
  ...r,
  builtin: bool.read(r.builtin),
  permissions: json.read<string[]>(r.permissions) ?? [],
});
const TEAM_COLUMNS = ['id', 'name', 'description', 'createdAt', 'updatedAt'] as const;

/** Roles (built-in and custom) and teams with their members. */
export function createRolesRepository(base: Db) {
  const db = base.withTables<IdentityTables>();
  return {
    async list(): Promise<RoleRow[]> {
      return (await db.selectFrom('roles').select(ROLE_COLUMNS).orderBy('name').execute()).map(toRole);
    },
    async find(id: string): Promise<RoleRow | undefined> {
      const r = await db.selectFrom('roles').select(ROLE_COLUMNS).where('id', '=', id).executeTakeFirst();
      return r ? toRole(r) : undefined;
    },
    async findByNames(names: string[]): Promise<RoleRow[]> {
      if (names.length === 0) return [];
      return (await db.selectFrom('roles').select(ROLE_COLUMNS).where('name', 'in', names).execute()).map(toRole);
    },
    /** Inserts unless a role of that name exists (built-in seeding, concurrent nodes). */
    async insert(r: Omit<RoleRow, 'createdAt' | 'updatedAt'>, now: string, ifAbsent = false): Promise<void> {
      let q = db.insertInto('roles').values({ ...r, builtin: bool.write(r.builtin), permissions: json.write(r.permissions), createdAt: now, updatedAt: now });
      if (ifAbsent) q = q.onConflict((oc) => oc.doNothing());
      await q.execute();
    },
    async update(id: string, patch: Partial<{ name: string; description: string; permissions: string[] }>, now: string): Promise<void> {
      await db
        .updateTable('roles')
        .set({ ...patch, ...(patch.permissions ? { permissions: json.write(patch.permissions) } : {}), updatedAt: now })
        .where('id', '=', id)
        .execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('roles').where('id', '=', id).execute();
    },
    async usersHolding(id: string): Promise<number> {
      const r = await db
        .selectFrom('userRoles')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('roleId', '=', id)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async listTeams(): Promise<TeamRow[]> {
      return db.selectFrom('teams').select(TEAM_COLUMNS).orderBy('name').execute();
    },
    async findTeam(id: string): Promise<TeamRow | undefined> {
      return db.selectFrom('teams').select(TEAM_COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async teamNameTaken(name: string, exceptId?: string): Promise<boolean> {
      const r = await db
        .selectFrom('teams')
        .select('id')
        .where('nameKey', '=', name.toLowerCase())
        .$if(exceptId !== undefined, (q) => q.where('id', '!=', exceptId!))
        .executeTakeFirst();
      return r !== undefined;
    },
    async insertTeam(t: Omit<TeamRow, 'createdAt' | 'updatedAt'>, now: string): Promise<void> {
      await db
        .insertInto('teams')
        .values({ ...t, nameKey: t.name.toLowerCase(), createdAt: now, updatedAt: now })
        .execute();
    },
    async updateTeam(id: string, patch: Partial<{ name: string; description: string }>, now: string): Promise<void> {
      await db
        .updateTable('teams')
        .set({ ...patch, ...(patch.name ? { nameKey: patch.name.toLowerCase() } : {}), updatedAt: now })
        .where('id', '=', id)
        .execute();
    },
    async deleteTeam(id: string): Promise<void> {
      await db.deleteFrom('teams').where('id', '=', id).execute();
    },
    async members(teamId: string): Promise<string[]> {
      return (await db.selectFrom('teamMembers').select('userId').where('teamId', '=', teamId).orderBy('userId').execute()).map((r) => r.userId);
    },
    async addMember(teamId: string, userId: string, now: string): Promise<void> {
      await db
        .insertInto('teamMembers')
        .values({ teamId, userId, createdAt: now })
        .onConflict((oc) => oc.doNothing())
        .execute();
    },
    async removeMember(teamId: string, userId: string): Promise<boolean> {
      const r = await db.deleteFrom('teamMembers').where('teamId', '=', teamId).where('userId', '=', userId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
export type RolesRepository = ReturnType<typeof createRolesRepository>;
