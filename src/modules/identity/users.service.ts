import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import { newId, nowIso } from '../../platform/ids.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters, type FilterFields } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import type { Db } from '../../platform/db/database.js';
import type { TxContext } from '../../platform/db/unit-of-work.js';
import type { AuthService } from './auth.service.js';
import type { IdentityContext, IdentityRepos } from './identity.context.js';
import { hashPassword, passwordProblems } from './password.fns.js';
import { USER_SORT } from './users.repository.js';
import { toUserView, type UserView } from './user-view.js';
import { isPrivileged, type StepUp } from './step-up.fns.js';

export const USER_FILTERS: FilterFields = {
  username: { type: 'string', column: 'users.username' },
  email: { type: 'string', column: 'users.email' },
  status: { type: 'enum', column: 'users.status', values: ['active', 'disabled'] },
  created_at: { type: 'date', column: 'users.createdAt' },
};

export interface CreateUserInput {
  username: string;
  email: string;
  password: string;
  display_name?: string;
  roles: string[];
  must_change_password?: boolean;
}

export interface UpdateUserInput {
  email?: string;
  display_name?: string;
  roles?: string[];
  status?: 'active' | 'disabled';
}

/** What createUsersService uses of the identity context. */
export type UsersDeps = Pick<IdentityContext, 'repos' | 'uow' | 'audit' | 'principals' | 'events' | 'settings' | 'clock'>;

/** Users: CRUD, admin password reset, disable. Every change is audited in its transaction. */
export function createUsersService(ctx: UsersDeps, auth: Pick<AuthService, 'revokeSessions'>, stepUp: StepUp) {
  /** Whether holding these roles grants administration or secrets (their current definitions). */
  async function privilegedRoles(names: readonly string[]): Promise<boolean> {
    const byRole = await ctx.principals.rolePermissions();
    return names.some((n) => {
      const p = byRole[n];
      return p !== undefined && isPrivileged(p);
    });
  }

  const s = ctx.settings;

  async function roleIds(repos: IdentityRepos, names: string[]): Promise<string[]> {
    const unique = [...new Set(names)];
    const found = await repos.roles.findByNames(unique);
    const missing = unique.filter((n) => !found.some((r) => r.name === n));
    if (missing.length > 0) {
      throw new ValidationError('ROLE_NOT_FOUND', `Unknown role(s): ${missing.join(', ')}`, [
        { path: 'body.roles', message: `unknown role(s): ${missing.join(', ')}` },
      ]);
    }
    return found.map((r) => r.id);
  }

  async function view(repos: IdentityRepos, id: string, withTeams = false): Promise<UserView> {
    const user = await repos.users.find(id);
    if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
    const roles = (await repos.users.roleNamesOf([id])).get(id) ?? [];
    return toUserView(user, roles, ctx.clock, withTeams ? await repos.users.teamIdsOf(id) : undefined);
  }

  /**
   * Refuses a change that would leave no active admin (the only way back would be the CLI on
   * the server): disabling, deleting or taking the admin role from the last one.
   */
  async function keepAnAdmin(repos: IdentityRepos, user: { id: string; status: string }, path?: string): Promise<void> {
    if (user.status !== 'active') return;
    if (!((await repos.users.roleNamesOf([user.id])).get(user.id) ?? []).includes('admin')) return;
    // Held to commit: a concurrent demotion waits and then counts this one's result.
    await repos.users.lockAdminSet();
    if ((await repos.users.otherActiveAdmins(user.id)) > 0) return;
    throw new ConflictError(
      'LAST_ADMIN',
      'This is the last active admin: give another active user the admin role first',
      path ? [{ path, message: 'the last active admin keeps the admin role and stays active' }] : [],
    );
  }

  async function checkUnique(repos: IdentityRepos, username: string | undefined, email: string | undefined, exceptId?: string): Promise<void> {
    const taken = await repos.users.taken(username, email, exceptId);
    const errors: FieldError[] = [];
    if (taken.username) errors.push({ path: 'body.username', message: 'is taken' });
    if (taken.email) errors.push({ path: 'body.email', message: 'is taken' });
    if (errors.length > 0) throw new ConflictError('USER_EXISTS', 'A user with this username or email exists', errors);
  }

  /** A user domain event in the change's transaction, relayed after commit. */
  async function announce(db: Db, tx: TxContext, name: string, payload: Record<string, unknown>): Promise<void> {
    const events = ctx.events;
    if (!events) return;
    await events.record(db, name, payload);
    tx.afterCommit(() => void events.relay());
  }

  return {
    async create(actor: Actor, input: CreateUserInput): Promise<UserView> {
      requirePermission(actor, 'users:admin');
      if (await privilegedRoles(input.roles)) await stepUp(actor);
      const problems = await passwordProblems(input.password, { minLength: s.passwordMinLength, username: input.username, email: input.email });
      if (problems.length > 0) throw new ValidationError('PASSWORD_POLICY', 'The password does not meet the policy', problems);
      const hash = await hashPassword(input.password);
      return ctx.uow(async (repos, tx) => {
        await checkUnique(repos, input.username, input.email);
        const ids = await roleIds(repos, input.roles);
        const id = newId();
        await repos.users.insert({
          id,
          username: input.username,
          email: input.email,
          displayName: input.display_name ?? input.username,
          passwordHash: hash,
          mustChangePassword: input.must_change_password ?? false,
          now: nowIso(ctx.clock),
        });
        await repos.users.setRoles(id, ids);
        await ctx.audit.record(repos.db, {
          actor,
          action: 'user.created',
          resourceType: 'user',
          resourceId: id,
          outcome: 'success',
          changes: { username: input.username, email: input.email, roles: input.roles },
        });
        await announce(repos.db, tx, 'user.created', { id, username: input.username, actor: { kind: actor.kind, id: actor.id, name: actor.name } });
        return view(repos, id);
      });
    },

    async list(actor: Actor, query: Record<string, unknown> & { limit?: number; cursor?: string; sort?: string }) {
      requirePermission(actor, 'users:read');
      const keys = parseSort(query.sort, USER_SORT, 'users.id', 'username');
      const page = await ctx.repos.users.list(parseFilters(query, USER_FILTERS), keys, query.cursor, query.limit ?? 50);
      const roles = await ctx.repos.users.roleNamesOf(page.items.map((u) => u.id));
      return { items: page.items.map((u) => toUserView(u, roles.get(u.id) ?? [], ctx.clock)), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string): Promise<UserView> {
      if (id !== (actor.kind === 'user' ? actor.id : actor.userId)) requirePermission(actor, 'users:read');
      return view(ctx.repos, id, true);
    },

    /** Me: the acting user (or an API key's owner) with effective permissions. */
    async me(actor: Actor): Promise<UserView & { permissions: string[] | ['*'] }> {
      requirePermission(actor, 'account:read');
      const id = actor.kind === 'user' ? actor.id : actor.userId;
      if (!id) throw new NotFoundError('USER_NOT_FOUND', 'The system actor is not a user');
      const v = await view(ctx.repos, id, true);
      return { ...v, permissions: actor.permissions === '*' ? ['*'] : [...actor.permissions].sort() };
    },

    async update(actor: Actor, id: string, input: UpdateUserInput): Promise<UserView> {
      requirePermission(actor, 'users:admin');
      if (input.status === 'disabled' && id === actor.id) {
        throw new ValidationError('USER_SELF_DISABLE', 'You cannot disable yourself', [{ path: 'body.status', message: 'cannot disable yourself' }]);
      }
      if (input.roles !== undefined) await stepUp(actor);
      return ctx.uow(async (repos, tx) => {
        const before = await repos.users.find(id);
        if (!before) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
        if (input.email !== undefined) await checkUnique(repos, undefined, input.email, id);
        if (input.status === 'disabled') await keepAnAdmin(repos, before, 'body.status');
        else if (input.roles !== undefined && !input.roles.includes('admin')) await keepAnAdmin(repos, before, 'body.roles');
        const now = nowIso(ctx.clock);
        await repos.users.update(
          id,
          {
            ...(input.email !== undefined ? { email: input.email } : {}),
            ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
            ...(input.status !== undefined ? { status: input.status } : {}),
            // Re-activating also lifts a lockout: that is how an admin unlocks an account.
            ...(input.status === 'active' ? { failedLogins: 0, lockedUntil: null } : {}),
          },
          now,
        );
        if (input.roles !== undefined) await repos.users.setRoles(id, await roleIds(repos, input.roles));
        if (input.status === 'disabled' && before.status !== 'disabled') {
          await auth.revokeSessions(repos, id, 'user_disabled', undefined, (fn) => tx.afterCommit(fn));
        }
        await ctx.audit.record(repos.db, {
          actor,
          action: input.status === 'disabled' ? 'user.disabled' : 'user.updated',
          resourceType: 'user',
          resourceId: id,
          outcome: 'success',
          changes: { ...input },
        });
        await announce(repos.db, tx, input.status === 'disabled' ? 'user.disabled' : 'user.updated', {
          id,
          username: before.username,
          fields: Object.keys(input).sort(),
          actor: { kind: actor.kind, id: actor.id, name: actor.name },
        });
        tx.afterCommit(() => ctx.principals.invalidateUser(id));
        return view(repos, id, true);
      });
    },

    async delete(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'users:admin');
      if (id === actor.id) throw new ValidationError('USER_SELF_DELETE', 'You cannot delete yourself');
      await ctx.uow(async (repos, tx) => {
        const user = await repos.users.find(id);
        if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
        await keepAnAdmin(repos, user);
        await auth.revokeSessions(repos, id, 'user_deleted', undefined, (fn) => tx.afterCommit(fn));
        await repos.users.delete(id);
        await ctx.audit.record(repos.db, {
          actor,
          action: 'user.deleted',
          resourceType: 'user',
          resourceId: id,
          outcome: 'success',
          changes: { username: user.username },
        });
        await announce(repos.db, tx, 'user.deleted', { id, username: user.username, actor: { kind: actor.kind, id: actor.id, name: actor.name } });
        tx.afterCommit(() => ctx.principals.invalidateUser(id));
      });
    },

    /** Admin reset: sets a password the user must change at next login; signs them out everywhere. */
    async resetPassword(actor: Actor, id: string, password: string): Promise<void> {
      requirePermission(actor, 'users:admin');
      const user = await ctx.repos.users.find(id);
      if (!user) throw new NotFoundError('USER_NOT_FOUND', 'The user does not exist');
      const problems = await passwordProblems(password, { minLength: s.passwordMinLength, username: user.username, email: user.email });
      if (problems.length > 0) throw new ValidationError('PASSWORD_POLICY', 'The password does not meet the policy', problems);
      const hash = await hashPassword(password);
      await ctx.uow(async (repos, tx) => {
        await repos.users.update(id, { passwordHash: hash, mustChangePassword: true, failedLogins: 0, lockedUntil: null }, nowIso(ctx.clock));
        await auth.revokeSessions(repos, id, 'password_reset', undefined, (fn) => tx.afterCommit(fn));
        await ctx.audit.record(repos.db, { actor, action: 'user.password_reset', resourceType: 'user', resourceId: id, outcome: 'success' });
        tx.afterCommit(() => ctx.principals.invalidateUser(id));
      });
    },

    /** Looks a user up by username (CLI). */
    async idByUsername(username: string): Promise<string> {
      const user = await ctx.repos.users.findLogin(username);
      if (!user || user.username.toLowerCase() !== username.toLowerCase()) throw new NotFoundError('USER_NOT_FOUND', `No user '${username}'`);
      return user.id;
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;
