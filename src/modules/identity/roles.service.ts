import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { newId, nowIso } from '../../platform/ids.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { IdentityContext, IdentityRepos } from './identity.context.js';
import { BUILTIN_ROLES, type BuiltinRole } from './permissions.fns.js';
import type { RoleRow, TeamRow } from './roles.repository.js';
import type { StepUp } from './step-up.fns.js';

const BUILTIN_DESCRIPTIONS: Record<BuiltinRole, string> = {
  admin: 'Everything, including user, role and credential administration',
  operator: 'Read everything but the audit log, run jobs and workflows, edit inventory, configs and templates',
  viewer: 'Read-only access to inventory, runs, schedules and the rest; never secrets, other users or the audit log',
  auditor: 'Read-only access to everything, the audit log and users included; never secrets',
};

export interface RoleInput {
  name: string;
  description?: string;
  permissions: string[];
}

/** What createRolesService uses of the identity context. */
export type RolesDeps = Pick<IdentityContext, 'repos' | 'uow' | 'audit' | 'principals' | 'registry' | 'clock'>;

/** Roles (built-in ones derive their permissions from the registry) and teams. */
export function createRolesService(ctx: RolesDeps, stepUp: StepUp) {
  function roleView(r: RoleRow) {
    const permissions = r.builtin ? ctx.registry.builtin(r.name as BuiltinRole) : new Set(r.permissions);
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      builtin: r.builtin,
      permissions: permissions === '*' ? ['*'] : [...permissions].sort(),
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    };
  }

  function checkPermissions(list: string[]): void {
    const unknown = list.filter((p) => !ctx.registry.has(p));
    if (unknown.length > 0) {
      throw new ValidationError('PERMISSION_UNKNOWN', `Unknown permission(s): ${unknown.join(', ')}`, [
        { path: 'body.permissions', message: `unknown: ${unknown.join(', ')}` },
      ]);
    }
  }

  async function findRole(repos: IdentityRepos, id: string): Promise<RoleRow> {
    const role = await repos.roles.find(id);
    if (!role) throw new NotFoundError('ROLE_NOT_FOUND', 'The role does not exist');
    return role;
  }

  async function findTeam(repos: IdentityRepos, id: string): Promise<TeamRow> {
    const team = await repos.roles.findTeam(id);
    if (!team) throw new NotFoundError('TEAM_NOT_FOUND', 'The team does not exist');
    return team;
  }

  const teamView = (t: TeamRow, members?: string[]) => ({
    id: t.id,
    name: t.name,
    description: t.description,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    ...(members ? { member_ids: members } : {}),
  });

  return {
    /** Seeds the built-in roles (idempotent, safe for nodes starting together). */
    async seedBuiltins(): Promise<void> {
      const now = nowIso(ctx.clock);
      for (const name of BUILTIN_ROLES) {
        await ctx.repos.roles.insert({ id: newId(), name, description: BUILTIN_DESCRIPTIONS[name], builtin: true, permissions: [] }, now, true);
      }
    },
    permissions(actor: Actor): { items: string[] } {
      requirePermission(actor, 'roles:read');
      return { items: ctx.registry.list() };
    },
    async list(actor: Actor) {
      requirePermission(actor, 'roles:read');
      return { items: (await ctx.repos.roles.list()).map(roleView) };
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'roles:read');
      return roleView(await findRole(ctx.repos, id));
    },
    async create(actor: Actor, input: RoleInput) {
      requirePermission(actor, 'roles:admin');
      await stepUp(actor);
      checkPermissions(input.permissions);
      return ctx.uow(async (repos, tx) => {
        tx.afterCommit(() => ctx.principals.invalidateRoles());
        if ((await repos.roles.findByNames([input.name])).length > 0) {
          throw new ConflictError('ROLE_EXISTS', 'A role with this name exists', [{ path: 'body.name', message: 'is taken' }]);
        }
        const id = newId();
        await repos.roles.insert(
          { id, name: input.name, description: input.description ?? '', builtin: false, permissions: [...new Set(input.permissions)].sort() },
          nowIso(ctx.clock),
        );
        await ctx.audit.record(repos.db, { actor, action: 'role.created', resourceType: 'role', resourceId: id, outcome: 'success', changes: { ...input } });
        return roleView(await findRole(repos, id));
      });
    },
    async update(actor: Actor, id: string, input: Partial<RoleInput>) {
      requirePermission(actor, 'roles:admin');
      await stepUp(actor);
      if (input.permissions) checkPermissions(input.permissions);
      return ctx.uow(async (repos, tx) => {
        const role = await findRole(repos, id);
        if (role.builtin) throw new ConflictError('ROLE_BUILTIN', 'Built-in roles cannot be changed');
        if (input.name && input.name !== role.name && (await repos.roles.findByNames([input.name])).length > 0) {
          throw new ConflictError('ROLE_EXISTS', 'A role with this name exists', [{ path: 'body.name', message: 'is taken' }]);
        }
        await repos.roles.update(id, { ...input, ...(input.permissions ? { permissions: [...new Set(input.permissions)].sort() } : {}) }, nowIso(ctx.clock));
        await ctx.audit.record(repos.db, { actor, action: 'role.updated', resourceType: 'role', resourceId: id, outcome: 'success', changes: { ...input } });
        tx.afterCommit(() => ctx.principals.invalidateRoles());
        return roleView(await findRole(repos, id));
      });
    },
    async delete(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'roles:admin');
      await stepUp(actor);
      await ctx.uow(async (repos, tx) => {
        const role = await findRole(repos, id);
        if (role.builtin) throw new ConflictError('ROLE_BUILTIN', 'Built-in roles cannot be deleted');
        if ((await repos.roles.usersHolding(id)) > 0) throw new ConflictError('ROLE_IN_USE', 'Users still hold this role; remove it from them first');
        await repos.roles.delete(id);
        await ctx.audit.record(repos.db, {
          actor,
          action: 'role.deleted',
          resourceType: 'role',
          resourceId: id,
          outcome: 'success',
          changes: { name: role.name },
        });
        tx.afterCommit(() => ctx.principals.invalidateRoles());
      });
    },

    async listTeams(actor: Actor) {
      requirePermission(actor, 'teams:read');
      return { items: (await ctx.repos.roles.listTeams()).map((t) => teamView(t)) };
    },
    async getTeam(actor: Actor, id: string) {
      requirePermission(actor, 'teams:read');
      return teamView(await findTeam(ctx.repos, id), await ctx.repos.roles.members(id));
    },
    async createTeam(actor: Actor, input: { name: string; description?: string }) {
      requirePermission(actor, 'teams:admin');
      return ctx.uow(async (repos) => {
        if (await repos.roles.teamNameTaken(input.name)) {
          throw new ConflictError('TEAM_EXISTS', 'A team with this name exists', [{ path: 'body.name', message: 'is taken' }]);
        }
        const id = newId();
        await repos.roles.insertTeam({ id, name: input.name, description: input.description ?? '' }, nowIso(ctx.clock));
        await ctx.audit.record(repos.db, { actor, action: 'team.created', resourceType: 'team', resourceId: id, outcome: 'success', changes: { ...input } });
        return teamView(await findTeam(repos, id), []);
      });
    },
    async updateTeam(actor: Actor, id: string, input: { name?: string; description?: string }) {
      requirePermission(actor, 'teams:admin');
      return ctx.uow(async (repos) => {
        await findTeam(repos, id);
        if (input.name && (await repos.roles.teamNameTaken(input.name, id))) {
          throw new ConflictError('TEAM_EXISTS', 'A team with this name exists', [{ path: 'body.name', message: 'is taken' }]);
        }
        await repos.roles.updateTeam(id, input, nowIso(ctx.clock));
        await ctx.audit.record(repos.db, { actor, action: 'team.updated', resourceType: 'team', resourceId: id, outcome: 'success', changes: { ...input } });
        return teamView(await findTeam(repos, id), await repos.roles.members(id));
      });
    },
    async deleteTeam(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'teams:admin');
      await ctx.uow(async (repos, tx) => {
        const team = await findTeam(repos, id);
        const members = await repos.roles.members(id);
        await repos.roles.deleteTeam(id);
        await ctx.audit.record(repos.db, {
          actor,
          action: 'team.deleted',
          resourceType: 'team',
          resourceId: id,
          outcome: 'success',
          changes: { name: team.name },
        });
        tx.afterCommit(async () => {
          for (const m of members) await ctx.principals.invalidateUser(m);
        });
      });
    },
    async setMember(actor: Actor, teamId: string, userId: string, member: boolean): Promise<void> {
      requirePermission(actor, 'teams:admin');
      await ctx.uow(async (repos, tx) => {
        await findTeam(repos, teamId);
        if (!(await repos.users.find(userId))) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
        if (member) await repos.roles.addMember(teamId, userId, nowIso(ctx.clock));
        else if (!(await repos.roles.removeMember(teamId, userId))) throw new NotFoundError('TEAM_MEMBER_NOT_FOUND', 'The user is not in this team');
        await ctx.audit.record(repos.db, {
          actor,
          action: member ? 'team.member_added' : 'team.member_removed',
          resourceType: 'team',
          resourceId: teamId,
          outcome: 'success',
          changes: { user_id: userId },
        });
        tx.afterCommit(() => ctx.principals.invalidateUser(userId));
      });
    },
  };
}
export type RolesService = ReturnType<typeof createRolesService>;
