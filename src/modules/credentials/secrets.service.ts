import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import { requirePermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { Envelope, RecordRef } from '../../platform/crypto/index.js';
import { createSecretsRepository, type SecretRow } from './secrets.repository.js';
import { createCredentialsRepository } from './credentials.repository.js';
import { SECRET_SORT, type CreateSecretBody, type ListSecretsQuery, type Secret, type UpdateSecretBody } from './secrets.schemas.js';
import type { AuditRecorder } from './credentials.ports.js';

const ref = (id: string): RecordRef => ({ kind: 'secret', id, type: 'value' });

const toView = (row: SecretRow): Secret => ({
  key: row.key,
  value: '********',
  description: row.description,
  key_id: row.keyId,
  created_by: row.createdBy,
  updated_by: row.updatedBy,
  last_used_at: row.lastUsedAt,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

/** Plain key/value secrets for jobs and workflows; the value leaves only through `resolve`. */
export function createSecretsService(deps: {
  db: Db;
  envelope: Envelope;
  audit: AuditRecorder;
  logger: { error(o: object, m: string): void };
  clock?: () => number;
}) {
  const clock = deps.clock ?? Date.now;
  const repo = createSecretsRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (trx) => ({ repo: createSecretsRepository(trx), access: createCredentialsRepository(trx), trx }),
    (err) => deps.logger.error({ err }, 'after-commit action failed'),
  );

  async function find(key: string): Promise<SecretRow> {
    const row = await repo.findByKey(key);
    if (!row) throw new NotFoundError('SECRET_NOT_FOUND', `Secret '${key}' does not exist`);
    return row;
  }

  return {
    async list(actor: Actor, query: ListSecretsQuery) {
      requirePermission(actor, 'secrets:read');
      const sort = parseSort(query.sort, SECRET_SORT, 'id', 'key');
      const limit = query.limit ?? 50;
      const page = await repo.list(query.q, sort, query.cursor, limit);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, key: string) {
      requirePermission(actor, 'secrets:read');
      return toView(await find(key));
    },
    async create(actor: Actor, input: CreateSecretBody) {
      requirePermission(actor, 'secrets:write');
      if (await repo.findByKey(input.key)) {
        throw new ConflictError('SECRET_KEY_TAKEN', `A secret '${input.key}' already exists`, [{ path: 'body.key', message: 'is already in use' }]);
      }
      const id = newId();
      const now = nowIso(clock);
      const sealed = deps.envelope.seal(ref(id), { value: input.value });
      const row: SecretRow = {
        id,
        key: input.key,
        description: input.description ?? '',
        keyId: sealed.keyId,
        wrappedKey: sealed.wrappedKey,
        ciphertext: sealed.sealed.value!,
        createdBy: actor.name,
        updatedBy: actor.name,
        lastUsedAt: null,
        createdAt: now,
        updatedAt: now,
      };
      await uow(async ({ repo: r, trx }) => {
        await r.insert(row);
        await deps.audit.record(trx, {
          actor,
          action: 'secret.created',
          resourceType: 'secret',
          resourceId: id,
          outcome: 'success',
          changes: { key: input.key },
        });
      });
      return toView(row);
    },
    async update(actor: Actor, key: string, input: UpdateSecretBody) {
      requirePermission(actor, 'secrets:write');
      const row = await find(key);
      const sealed = input.value !== undefined ? deps.envelope.seal(ref(row.id), { value: input.value }, row) : null;
      const patch: Partial<SecretRow> = {
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(sealed ? { keyId: sealed.keyId, wrappedKey: sealed.wrappedKey, ciphertext: sealed.sealed.value! } : {}),
        updatedBy: actor.name,
        updatedAt: nowIso(clock),
      };
      await uow(async ({ repo: r, trx }) => {
        await r.update(row.id, patch);
        await deps.audit.record(trx, {
          actor,
          action: 'secret.updated',
          resourceType: 'secret',
          resourceId: row.id,
          outcome: 'success',
          changes: { key, fields: Object.keys(input).sort() },
        });
      });
      return toView({ ...row, ...patch });
    },
    async remove(actor: Actor, key: string): Promise<void> {
      requirePermission(actor, 'secrets:write');
      const row = await find(key);
      await uow(async ({ repo: r, trx }) => {
        await r.remove(row.id);
        await deps.audit.record(trx, { actor, action: 'secret.deleted', resourceType: 'secret', resourceId: row.id, outcome: 'success', changes: { key } });
      });
    },
    /** The value for a job or workflow, recorded in the access log and the audit log. */
    async resolve(key: string, purpose: string, jobRunId: string | null, actor: Actor = SYSTEM_ACTOR): Promise<string> {
      requirePermission(actor, 'credentials:use');
      const row = await find(key);
      let outcome: 'success' | 'failure' = 'failure';
      try {
        const value = deps.envelope.open(ref(row.id), row, { value: row.ciphertext }).value!;
        outcome = 'success';
        return value;
      } finally {
        const time = nowIso(clock);
        await uow(async ({ repo: r, access, trx }) => {
          await access.insertAccess({
            id: newId(),
            time,
            resourceType: 'secret',
            resourceId: row.id,
            action: 'resolve',
            actorKind: actor.kind,
            actorId: actor.id,
            actorName: actor.name,
            purpose: purpose.slice(0, 500),
            jobRunId,
            outcome,
          });
          if (outcome === 'success') await r.markUsed(row.id, time);
          await deps.audit.record(trx, {
            actor,
            action: 'secret.resolved',
            resourceType: 'secret',
            resourceId: row.id,
            outcome,
            changes: { key, purpose: purpose.slice(0, 500), ...(jobRunId ? { job_run_id: jobRunId } : {}) },
          });
        });
      }
    },
  };
}

export type SecretsService = ReturnType<typeof createSecretsService>;
