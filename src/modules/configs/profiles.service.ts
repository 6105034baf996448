import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { AuditRecorder } from '../credentials/index.js';
import { checkProfilePatterns } from './backup.fns.js';
import { BUILTIN_PROFILES, profileFor, type PlatformProfile } from './platform-profiles.fns.js';
import { createProfilesRepository, type ProfileRow } from './profiles.repository.js';
import type { CreateProfileBody, Profile, ProfileBody } from './profiles.schemas.js';

const MEMO_KEY = 'configs.profiles';
const notFound = (id: string) => new NotFoundError('CONFIG_PROFILE_NOT_FOUND', `No platform profile '${id}'`);

function toView(p: PlatformProfile, row?: ProfileRow): Profile {
  return {
    id: p.id,
    name: p.name,
    drivers: p.drivers,
    mode: p.mode,
    enable: p.enable,
    prompt: p.prompt ?? null,
    setup_commands: p.setupCommands,
    backup_commands: p.backupCommands,
    strip_lines: p.stripLines,
    mask: p.mask,
    configure: p.configure,
    builtin: !row,
    created_at: row?.createdAt ?? null,
    updated_at: row?.updatedAt ?? null,
  };
}

function fromBody(id: string, b: ProfileBody): PlatformProfile {
  return {
    id,
    name: b.name,
    drivers: b.drivers,
    mode: b.mode,
    enable: b.enable ?? false,
    ...(b.prompt ? { prompt: b.prompt } : {}),
    setupCommands: b.setup_commands ?? [],
    backupCommands: b.backup_commands,
    stripLines: b.strip_lines ?? [],
    mask: b.mask ?? [],
    configure: b.configure ?? null,
  };
}

function checked(body: ProfileBody): void {
  const errors = checkProfilePatterns(body);
  if (errors.length) throw new ValidationError('CONFIG_PROFILE_INVALID', 'The profile has invalid patterns', errors);
}

/**
 * Platform profiles: the built-ins and the user-defined ones (`config_profiles`); a user-defined
 * profile with a built-in's id replaces it. Patterns are checked as RE2 when saved.
 */
export function createProfilesService(deps: { db: Db; audit: AuditRecorder; logger: Logger }) {
  const repo = createProfilesRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (db) => ({ db, repos: createProfilesRepository(db) }),
    (err) => deps.logger.error({ err }, 'profiles after-commit step failed'),
  );

  async function all(): Promise<Profile[]> {
    const custom = await repo.all();
    const ids = new Set(custom.map((r) => r.profile.id));
    return [...BUILTIN_PROFILES.filter((p) => !ids.has(p.id)).map((p) => toView(p)), ...custom.map((r) => toView(r.profile, r))].sort((a, b) =>
      a.id.localeCompare(b.id),
    );
  }

  return {
    async list(actor: Actor) {
      requirePermission(actor, 'configs:read');
      return { items: await all() };
    },

    async get(actor: Actor, id: string): Promise<Profile> {
      requirePermission(actor, 'configs:read');
      const row = await repo.find(id);
      if (row) return toView(row.profile, row);
      const builtin = BUILTIN_PROFILES.find((p) => p.id === id);
      if (!builtin) throw notFound(id);
      return toView(builtin);
    },

    async create(actor: Actor, body: CreateProfileBody): Promise<Profile> {
      requirePermission(actor, 'configs:write');
      const { id, ...rest } = body;
      checked(rest);
      if (await repo.find(id)) {
        throw new ConflictError('CONFIG_PROFILE_EXISTS', `A user-defined profile '${id}' exists`, [{ path: 'body.id', message: 'already taken' }]);
      }
      const now = new Date().toISOString();
      const row: ProfileRow = { profile: fromBody(id, rest), createdBy: actor.id, createdAt: now, updatedAt: now };
      await uow(async ({ db, repos }) => {
        await repos.insert(row);
        await deps.audit.record(db, {
          actor,
          action: 'config_profile.created',
          resourceType: 'config_profile',
          resourceId: id,
          outcome: 'success',
          changes: { name: body.name, drivers: body.drivers },
        });
      });
      return toView(row.profile, row);
    },

    async update(actor: Actor, id: string, body: ProfileBody): Promise<Profile> {
      requirePermission(actor, 'configs:write');
      checked(body);
      const current = await repo.find(id);
      if (!current) throw BUILTIN_PROFILES.some((p) => p.id === id) ? builtinReadOnly(id) : notFound(id);
      const profile = fromBody(id, body);
      const now = new Date().toISOString();
      await uow(async ({ db, repos }) => {
        if (!(await repos.update(profile, now))) throw notFound(id);
        await deps.audit.record(db, {
          actor,
          action: 'config_profile.updated',
          resourceType: 'config_profile',
          resourceId: id,
          outcome: 'success',
          changes: { name: body.name, drivers: body.drivers },
        });
      });
      return toView(profile, { ...current, profile, updatedAt: now });
    },

    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'configs:write');
      await uow(async ({ db, repos }) => {
        if (!(await repos.remove(id))) throw BUILTIN_PROFILES.some((p) => p.id === id) ? builtinReadOnly(id) : notFound(id);
        await deps.audit.record(db, { actor, action: 'config_profile.deleted', resourceType: 'config_profile', resourceId: id, outcome: 'success' });
      });
    },

    /**
     * The profile a backup or push uses: the one named (run param `profile`), else the one serving the
     * device's driver; null when none. `memo` (a run's `ctx.shared`) makes the user-defined profiles one
     * read per run, not one per target.
     */
    async resolve(name: string | undefined, driver: string | null | undefined, memo?: Map<string, unknown>): Promise<PlatformProfile | null> {
      let read = memo?.get(MEMO_KEY) as Promise<PlatformProfile[]> | undefined;
      if (!read) {
        read = repo.all().then((rows) => rows.map((r) => r.profile));
        memo?.set(MEMO_KEY, read);
      }
      const custom = await read;
      if (name) return custom.find((p) => p.id === name) ?? BUILTIN_PROFILES.find((p) => p.id === name) ?? null;
      return profileFor(driver, custom);
    },
  };
}

function builtinReadOnly(id: string) {
  return new ConflictError('CONFIG_PROFILE_BUILTIN', `'${id}' is a built-in profile; create a user-defined profile with the same id to replace it`);
}

export type ProfilesService = ReturnType<typeof createProfilesService>;
