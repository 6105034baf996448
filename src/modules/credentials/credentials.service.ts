import type { Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { probeCredential, type HostKeyCheck } from './credential-probe.js';
import { hasPermission, requirePermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { parseFilters } from '../../platform/http/filters.js';
import { isUuid, newId, nowIso } from '../../platform/ids.js';
import type { Envelope, RecordRef } from '../../platform/crypto/index.js';
import type { Logger } from '../../platform/observability/logger.js';
import { checkFields, splitFields, type CredentialType, type FieldValues } from './credential-types.fns.js';
import { createCredentialsRepository, type CredentialRow } from './credentials.repository.js';
import { createProfilesRepository } from './profiles.repository.js';
import { expiringBefore, inScope, nameKey, teamScope, toAccessView, toView } from './credentials.fns.js';
import {
  CREDENTIAL_FILTERS,
  CREDENTIAL_SORT,
  type CreateCredentialBody,
  type ListCredentialsQuery,
  type RevealBody,
  type Revealed,
  type TestBody,
  type TestResult,
  type UpdateCredentialBody,
} from './credentials.schemas.js';
import type { AuditRecorder, ResolvedCredential, StepUp } from './credentials.ports.js';

export interface CredentialsServiceDeps {
  db: Db;
  envelope: Envelope;
  audit: AuditRecorder;
  stepUp: StepUp;
  logger: Pick<Logger, 'warn' | 'error'>;
  clock?: () => number;
  /** SSH host key pins for the probe (trust on first use); absent: any key. */
  hostKeyCheck?: HostKeyCheck;
}

type Access = { action: 'resolve' | 'reveal' | 'test'; purpose: string; jobRunId?: string | null };

const PAST = { resolve: 'resolved', reveal: 'revealed', test: 'tested' } as const;
const TESTABLE = new Set(['ssh', 'snmp_v2c', 'snmp_v3']);
const ref = (row: Pick<CredentialRow, 'id' | 'type'>): RecordRef => ({ kind: 'credential', id: row.id, type: row.type });

/**
 * Credentials: CRUD on metadata, and the only three paths to a plaintext — `resolve` (executors),
 * `reveal` (a person with credentials:reveal, step-up and a reason) and `test`. Each of
 * them writes the access log and the audit log in one transaction before returning plaintext.
 */
export function createCredentialsService(deps: CredentialsServiceDeps) {
  const clock = deps.clock ?? Date.now;
  const repo = createCredentialsRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (trx) => ({ repo: createCredentialsRepository(trx), profiles: createProfilesRepository(trx), trx }),
    (err) => deps.logger.error({ err }, 'after-commit action failed'),
  );

  async function visible(actor: Actor, id: string): Promise<CredentialRow> {
    // Job templates store references as free text; a non-UUID can name no credential.
    const row = isUuid(id) ? await repo.findById(id) : undefined;
    if (!row || !inScope(teamScope(actor), row.teamId)) throw new NotFoundError('CREDENTIAL_NOT_FOUND', `Credential ${id} does not exist`);
    return row;
  }

  function checkTeam(actor: Actor, teamId: string | null | undefined): void {
    if (teamId && !inScope(teamScope(actor), teamId)) {
      throw new ForbiddenError('CREDENTIAL_TEAM_FORBIDDEN', 'You can only assign credentials to a team you belong to');
    }
  }

  async function checkName(name: string, exceptId?: string): Promise<void> {
    if (await repo.nameTaken(nameKey(name), exceptId)) {
      throw new ConflictError('CREDENTIAL_NAME_TAKEN', `A credential named '${name.trim()}' already exists`, [
        { path: 'body.name', message: 'is already in use' },
      ]);
    }
  }

  function invalid(errors: ReturnType<typeof checkFields>): never {
    throw new BadRequestError('VALIDATION_FAILED', 'The request is invalid', errors);
  }

  /** Decrypts a row and records the access (access log + audit) in one transaction. */
  async function open(actor: Actor, row: CredentialRow, access: Access): Promise<ResolvedCredential> {
    let secrets: Record<string, string>;
    try {
      secrets = deps.envelope.open(ref(row), row, json.read<Record<string, string>>(row.ciphertext));
    } catch (err) {
      await record(actor, row, access, 'failure');
      throw err;
    }
    await record(actor, row, access, 'success');
    return { id: row.id, name: row.name, type: row.type, attributes: json.read<Record<string, string>>(row.attributes), secrets };
  }

  async function record(actor: Actor, row: CredentialRow, access: Access, outcome: 'success' | 'failure' | 'denied'): Promise<void> {
    const time = nowIso(clock);
    await uow(async ({ repo: r, trx }) => {
      await r.insertAccess({
        id: newId(),
        time,
        resourceType: 'credential',
        resourceId: row.id,
        action: access.action,
        actorKind: actor.kind,
        actorId: actor.id,
        actorName: actor.name,
        purpose: access.purpose,
        jobRunId: access.jobRunId ?? null,
        outcome,
      });
      if (access.action !== 'reveal' && outcome === 'success') await r.markUsed(row.id, actor.name, time);
      await deps.audit.record(trx, {
        actor,
        action: `credential.${PAST[access.action]}`,
        resourceType: 'credential',
        resourceId: row.id,
        outcome,
        changes: { purpose: access.purpose, ...(access.jobRunId ? { job_run_id: access.jobRunId } : {}) },
      });
    });
  }

  return {
    async list(actor: Actor, query: ListCredentialsQuery) {
      requirePermission(actor, 'credentials:read');
      const sort = parseSort(query.sort, CREDENTIAL_SORT, 'id', 'name');
      const limit = query.limit ?? 50;
      const page = await repo.list({
        scope: teamScope(actor),
        filters: parseFilters(query, CREDENTIAL_FILTERS),
        ...(query.q ? { q: query.q } : {}),
        ...(query.tag ? { tags: query.tag } : {}),
        ...(query.expiring_within ? { expiringBefore: expiringBefore(query.expiring_within, clock()) } : {}),
        sort,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        limit,
      });
      const now = clock();
      return { items: page.items.map((r) => toView(r, now)), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string) {
      requirePermission(actor, 'credentials:read');
      return toView(await visible(actor, id), clock());
    },

    async create(actor: Actor, input: CreateCredentialBody) {
      requirePermission(actor, 'credentials:write');
      checkTeam(actor, input.team_id);
      const type = input.type;
      const { pub, secret } = splitFields(input);
      const errors = checkFields(type, { ...pub, ...secret } as FieldValues, { ...pub, ...secret });
      if (errors.length > 0) invalid(errors);
      await checkName(input.name);
      const id = newId();
      const now = nowIso(clock);
      const sealed = deps.envelope.seal({ kind: 'credential', id, type }, secret as Record<string, string>);
      const row: CredentialRow = {
        id,
        name: input.name.trim(),
        nameKey: nameKey(input.name),
        type,
        description: input.description ?? '',
        tags: json.write(input.tags ?? []),
        teamId: input.team_id ?? null,
        attributes: json.write(pub),
        secretFields: json.write(Object.keys(secret).sort()),
        keyId: sealed.keyId,
        wrappedKey: sealed.wrappedKey,
        ciphertext: JSON.stringify(sealed.sealed),
        expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
        expiryNotifiedAt: null,
        createdBy: actor.name,
        updatedBy: actor.name,
        lastUsedAt: null,
        lastUsedBy: null,
        createdAt: now,
        updatedAt: now,
      };
      await uow(async ({ repo: r, trx }) => {
        await r.insert(row);
        await deps.audit.record(trx, {
          actor,
          action: 'credential.created',
          resourceType: 'credential',
          resourceId: id,
          outcome: 'success',
          changes: { name: row.name, type, secret_fields: Object.keys(secret) },
        });
      });
      return toView(row, clock());
    },

    async update(actor: Actor, id: string, input: UpdateCredentialBody) {
      requirePermission(actor, 'credentials:write');
      const row = await visible(actor, id);
      if (input.team_id !== undefined) checkTeam(actor, input.team_id);
      const type = row.type as CredentialType;
      const { pub, secret } = splitFields(input);
      const attributes = json.read<Record<string, string>>(row.attributes);
      const stored = json.read<Record<string, string>>(row.ciphertext);
      const merged: FieldValues = { ...attributes };
      for (const f of json.read<string[]>(row.secretFields)) merged[f as keyof FieldValues] = '(stored)';
      for (const [f, v] of Object.entries({ ...pub, ...secret })) {
        if (v === null) delete merged[f as keyof FieldValues];
        else merged[f as keyof FieldValues] = v;
      }
      const errors = checkFields(type, merged, { ...pub, ...secret });
      if (errors.length > 0) invalid(errors);
      if (input.name !== undefined) await checkName(input.name, id);

      for (const [f, v] of Object.entries(pub)) {
        if (v === null) delete attributes[f];
        else attributes[f] = v;
      }
      const newValues = Object.fromEntries(Object.entries(secret).filter((e): e is [string, string] => e[1] !== null));
      // Untouched fields keep their ciphertext: only the new values are sealed, under the record's data key.
      const sealed = deps.envelope.seal(ref(row), newValues, row);
      const ciphertext = { ...stored, ...sealed.sealed };
      for (const [f, v] of Object.entries(secret)) if (v === null) delete ciphertext[f];
      const expiresAt = input.expires_at === undefined ? row.expiresAt : input.expires_at === null ? null : new Date(input.expires_at).toISOString();
      const patch: Partial<CredentialRow> = {
        ...(input.name !== undefined ? { name: input.name.trim(), nameKey: nameKey(input.name) } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.tags !== undefined ? { tags: json.write(input.tags) } : {}),
        ...(input.team_id !== undefined ? { teamId: input.team_id } : {}),
        ...(expiresAt !== row.expiresAt ? { expiresAt, expiryNotifiedAt: null } : {}),
        attributes: json.write(attributes),
        secretFields: json.write(Object.keys(ciphertext).sort()),
        keyId: sealed.keyId,
        wrappedKey: sealed.wrappedKey,
        ciphertext: JSON.stringify(ciphertext),
        updatedBy: actor.name,
        updatedAt: nowIso(clock),
      };
      await uow(async ({ repo: r, trx }) => {
        await r.update(id, patch);
        await deps.audit.record(trx, {
          actor,
          action: 'credential.updated',
          resourceType: 'credential',
          resourceId: id,
          outcome: 'success',
          changes: { fields: Object.keys(input).sort() },
        });
      });
      return toView({ ...row, ...patch }, clock());
    },

    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'credentials:write');
      const row = await visible(actor, id);
      await uow(async ({ repo: r, profiles, trx }) => {
        const usedBy = await profiles.profilesUsing(id);
        if (usedBy.length > 0) {
          throw new ConflictError(
            'CREDENTIAL_IN_USE',
            `Credential '${row.name}' is in credential profile(s) ${usedBy.map((p) => `'${p}'`).join(', ')}; remove it from them first`,
          );
        }
        await r.remove(id);
        await deps.audit.record(trx, {
          actor,
          action: 'credential.deleted',
          resourceType: 'credential',
          resourceId: id,
          outcome: 'success',
          changes: { name: row.name },
        });
      });
    },

    /** Plaintext for a person: credentials:reveal, 2FA step-up when enrolled, a reason; audited either way. */
    async reveal(actor: Actor, id: string, input: RevealBody): Promise<Revealed> {
      const row = await visible(actor, id);
      const access: Access = { action: 'reveal', purpose: input.reason.trim() };
      if (!hasPermission(actor, 'credentials:reveal')) {
        await record(actor, row, access, 'denied');
        requirePermission(actor, 'credentials:reveal');
      }
      try {
        await deps.stepUp.require(actor, input.totp);
      } catch (err) {
        await record(actor, row, access, 'denied');
        throw err;
      }
      const plain = await open(actor, row, access);
      return { id: row.id, name: row.name, type: row.type as CredentialType, attributes: plain.attributes, secrets: plain.secrets };
    },

    /** The only way executors get plaintext. `actor` is the job's (system by default). */
    async resolve(credentialId: string, purpose: string, jobRunId: string | null, actor: Actor = SYSTEM_ACTOR): Promise<ResolvedCredential> {
      requirePermission(actor, 'credentials:use');
      const row = await visible(actor, credentialId);
      return open(actor, row, { action: 'resolve', purpose: purpose.slice(0, 500), jobRunId });
    },

    /** Tries the credential against a host (SSH login or SNMP sysName get); the plaintext never leaves. */
    async test(actor: Actor, id: string, input: TestBody): Promise<TestResult> {
      requirePermission(actor, 'credentials:use');
      const row = await visible(actor, id);
      if (!TESTABLE.has(row.type)) {
        throw new ValidationError('CREDENTIAL_TEST_UNSUPPORTED', `A ${row.type} credential cannot be tested; only ssh, snmp_v2c and snmp_v3 can`);
      }
      const target = `${input.host}${input.port ? `:${input.port}` : ''}`;
      const plain = await open(actor, row, { action: 'test', purpose: `test against ${target}` });
      return (await probeCredential(plain, {
        host: input.host,
        ...(input.port ? { port: input.port } : {}),
        timeoutMs: input.timeout_ms ?? 10_000,
        ...(deps.hostKeyCheck ? { hostKeyCheck: deps.hostKeyCheck } : {}),
      }))!;
    },

    async accessLog(actor: Actor, id: string, query: { limit?: number; cursor?: string }) {
      requirePermission(actor, 'credentials:read');
      await visible(actor, id);
      const sort = parseSort('-id', {}, 'id');
      const limit = query.limit ?? 50;
      const page = await repo.listAccess('credential', id, sort, query.cursor, limit);
      return { items: page.items.map(toAccessView), next_cursor: page.next_cursor };
    },

    /** Whether `actor` may use the credential: `credentials:use` and the credential in their team scope (no decryption, no record). */
    async usableBy(actor: Actor, credentialId: string): Promise<boolean> {
      if (!hasPermission(actor, 'credentials:use') || !isUuid(credentialId)) return false;
      const row = await repo.findById(credentialId.toLowerCase());
      return row !== undefined && inScope(teamScope(actor), row.teamId);
    },

    /**
     * Whether a credential is stored (and, given an actor, in their team scope: another team's
     * credential does not exist for them, so naming it in another module's write says nothing);
     * `db` reads within the caller's transaction (another module's write).
     */
    async exists(credentialId: string, db?: Db, actor?: Actor): Promise<boolean> {
      if (!isUuid(credentialId)) return false;
      const row = await (db ? createCredentialsRepository(db) : repo).findById(credentialId.toLowerCase());
      return row !== undefined && (!actor || inScope(teamScope(actor), row.teamId));
    },
  };
}

export type CredentialsService = ReturnType<typeof createCredentialsService>;
