import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, ForbiddenError, NotFoundError, UpstreamError, ValidationError } from '../../platform/errors.js';
import { hasPermission, requirePermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { isUuid, newId, nowIso } from '../../platform/ids.js';
import { createProfilesRepository, type ProfileEntry, type ProfileRow } from './profiles.repository.js';
import { createCredentialsRepository } from './credentials.repository.js';
import { inScope, nameKey, teamScope } from './credentials.fns.js';
import { PROFILE_SORT, type CreateProfileBody, type ListProfilesQuery, type Profile, type UpdateProfileBody } from './profiles.schemas.js';
import type { AuditRecorder, ResolvedCredential } from './credentials.ports.js';
import type { CredentialsService } from './credentials.service.js';

/** Thrown by an executor's attempt when the device rejected the credential: the next entry is tried. */
export class CredentialRejectedError extends Error {
  constructor(message = 'authentication failed') {
    super(message);
    this.name = 'CredentialRejectedError';
  }
}

/** Authentication failures from executors: ours, or ssh2's client-authentication level. */
export function isAuthFailure(err: unknown): boolean {
  return err instanceof CredentialRejectedError || (typeof err === 'object' && err !== null && (err as { level?: string }).level === 'client-authentication');
}

/** Every entry of a profile was rejected by one target. */
export class ProfileExhaustedError extends UpstreamError {
  constructor(profileName: string, deviceKey: string, tried: { name: string; reason: string }[]) {
    super(
      'CREDENTIAL_PROFILE_EXHAUSTED',
      `${deviceKey}: every credential of profile '${profileName}' was rejected (${tried.map((t) => `'${t.name}': ${t.reason}`).join('; ')})`,
    );
  }
}

export interface TryResult<T> {
  result: T;
  credentialId: string;
  /** Entries tried before the one that worked, in order. */
  rejected: string[];
}

const toProfile = (row: ProfileRow, entries: ProfileEntry[]): Profile => ({
  id: row.id,
  name: row.name,
  description: row.description,
  team_id: row.teamId,
  entries: entries.map((e) => ({
    position: e.position,
    credential_id: e.credentialId,
    credential_name: e.credentialName,
    credential_type: e.credentialType as Profile['entries'][number]['credential_type'],
  })),
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

/** Credential profiles: ordered fallback lists, and `tryInOrder` for executors. */
export function createProfilesService(deps: {
  db: Db;
  audit: AuditRecorder;
  credentials: Pick<CredentialsService, 'resolve'>;
  logger: { error(o: object, m: string): void };
  clock?: () => number;
}) {
  const clock = deps.clock ?? Date.now;
  const repo = createProfilesRepository(deps.db);
  const credentials = createCredentialsRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (trx) => ({ repo: createProfilesRepository(trx), trx }),
    (err) => deps.logger.error({ err }, 'after-commit action failed'),
  );

  async function visible(actor: Actor, id: string): Promise<ProfileRow> {
    const row = isUuid(id) ? await repo.findById(id) : undefined;
    if (!row || !inScope(teamScope(actor), row.teamId)) throw new NotFoundError('CREDENTIAL_PROFILE_NOT_FOUND', `Credential profile ${id} does not exist`);
    return row;
  }

  async function checkInput(actor: Actor, input: { name?: string; team_id?: string | null; credential_ids?: string[] }, exceptId?: string): Promise<void> {
    if (input.team_id && !inScope(teamScope(actor), input.team_id)) {
      throw new ForbiddenError('CREDENTIAL_TEAM_FORBIDDEN', 'You can only assign profiles to a team you belong to');
    }
    if (input.name !== undefined && (await repo.nameTaken(nameKey(input.name), exceptId))) {
      throw new ConflictError('CREDENTIAL_PROFILE_NAME_TAKEN', `A credential profile named '${input.name.trim()}' already exists`, [
        { path: 'body.name', message: 'is already in use' },
      ]);
    }
    const missing: { path: string; message: string }[] = [];
    for (const [i, id] of (input.credential_ids ?? []).entries()) {
      const c = await credentials.findById(id);
      if (!c || !inScope(teamScope(actor), c.teamId)) missing.push({ path: `body.credential_ids.${i}`, message: `credential ${id} does not exist` });
    }
    if (missing.length > 0) throw new ValidationError('CREDENTIAL_NOT_FOUND', 'A credential in the profile does not exist', missing);
  }

  async function view(row: ProfileRow): Promise<Profile> {
    return toProfile(row, (await repo.entries([row.id])).get(row.id) ?? []);
  }

  return {
    async list(actor: Actor, query: ListProfilesQuery) {
      requirePermission(actor, 'credentials:read');
      const sort = parseSort(query.sort, PROFILE_SORT, 'id', 'name');
      const page = await repo.list(teamScope(actor), sort, query.cursor, query.limit ?? 50);
      const entries = await repo.entries(page.items.map((r) => r.id));
      return { items: page.items.map((r) => toProfile(r, entries.get(r.id) ?? [])), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'credentials:read');
      return view(await visible(actor, id));
    },
    async create(actor: Actor, input: CreateProfileBody) {
      requirePermission(actor, 'credentials:write');
      await checkInput(actor, input);
      const now = nowIso(clock);
      const row: ProfileRow = {
        id: newId(),
        name: input.name.trim(),
        nameKey: nameKey(input.name),
        description: input.description ?? '',
        teamId: input.team_id ?? null,
        createdAt: now,
        updatedAt: now,
      };
      await uow(async ({ repo: r, trx }) => {
        await r.insert(row);
        await r.replaceEntries(row.id, input.credential_ids);
        await deps.audit.record(trx, {
          actor,
          action: 'credential_profile.created',
          resourceType: 'credential_profile',
          resourceId: row.id,
          outcome: 'success',
          changes: { name: row.name, credential_ids: input.credential_ids },
        });
      });
      return view(row);
    },
    async update(actor: Actor, id: string, input: UpdateProfileBody) {
      requirePermission(actor, 'credentials:write');
      const row = await visible(actor, id);
      await checkInput(actor, input, id);
      const patch: Partial<ProfileRow> = {
        ...(input.name !== undefined ? { name: input.name.trim(), nameKey: nameKey(input.name) } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.team_id !== undefined ? { teamId: input.team_id } : {}),
        updatedAt: nowIso(clock),
      };
      await uow(async ({ repo: r, trx }) => {
        await r.update(id, patch);
        if (input.credential_ids) await r.replaceEntries(id, input.credential_ids);
        await deps.audit.record(trx, {
          actor,
          action: 'credential_profile.updated',
          resourceType: 'credential_profile',
          resourceId: id,
          outcome: 'success',
          changes: { fields: Object.keys(input).sort() },
        });
      });
      return view({ ...row, ...patch });
    },
    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'credentials:write');
      const row = await visible(actor, id);
      await uow(async ({ repo: r, trx }) => {
        await r.remove(id);
        await deps.audit.record(trx, {
          actor,
          action: 'credential_profile.deleted',
          resourceType: 'credential_profile',
          resourceId: id,
          outcome: 'success',
          changes: { name: row.name },
        });
      });
    },

    /** Whether `actor` may use the profile: `credentials:use` and the profile in their team scope (each entry is checked again when resolved). */
    async usableBy(actor: Actor, id: string): Promise<boolean> {
      if (!hasPermission(actor, 'credentials:use') || !isUuid(id)) return false;
      const row = await repo.findById(id.toLowerCase());
      return row !== undefined && inScope(teamScope(actor), row.teamId);
    },

    /** Whether a profile exists (inventory and jobs check references to one). */
    async exists(id: string, db?: Db, actor?: Actor): Promise<boolean> {
      if (!isUuid(id)) return false;
      const row = await createProfilesRepository(db ?? deps.db).findById(id.toLowerCase());
      return row !== undefined && (!actor || inScope(teamScope(actor), row.teamId));
    },

    /**
     * Tries the profile's credentials against one target until one authenticates: the entry
     * that last worked for `deviceKey` first, then the others in order. An attempt signals a
     * rejected credential by throwing CredentialRejectedError (or an ssh2 authentication
     * error); any other error stops at once, since trying more credentials against an
     * unreachable device only risks lock-outs. The winner is remembered for next time.
     */
    async tryInOrder<T>(
      profileId: string,
      deviceKey: string,
      attempt: (credential: ResolvedCredential) => Promise<T>,
      context: { purpose: string; jobRunId: string | null; actor?: Actor },
    ): Promise<TryResult<T>> {
      const actor = context.actor ?? SYSTEM_ACTOR;
      requirePermission(actor, 'credentials:use');
      const profile = await visible(actor, profileId);
      const entries = (await repo.entries([profileId])).get(profileId) ?? [];
      const remembered = await repo.hit(profileId, deviceKey);
      const ordered = [...entries].sort((a, b) => Number(b.credentialId === remembered) - Number(a.credentialId === remembered) || a.position - b.position);
      const rejected: { name: string; reason: string }[] = [];
      for (const entry of ordered) {
        const credential = await deps.credentials.resolve(entry.credentialId, context.purpose, context.jobRunId, actor);
        try {
          const result = await attempt(credential);
          if (entry.credentialId !== remembered) await repo.rememberHit(profileId, deviceKey, entry.credentialId, nowIso(clock));
          return { result, credentialId: entry.credentialId, rejected: rejected.map((r) => r.name) };
        } catch (err) {
          if (!isAuthFailure(err)) throw err;
          rejected.push({ name: entry.credentialName, reason: 'authentication failed' });
        }
      }
      if (remembered) await repo.forgetHit(profileId, deviceKey);
      throw new ProfileExhaustedError(profile.name, deviceKey, rejected);
    },
  };
}

export type ProfilesService = ReturnType<typeof createProfilesService>;
