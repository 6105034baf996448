import { sql, type Selectable } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { dialectOf } from '../../platform/db/database.js';
import { ilike, likeEscape } from '../../platform/db/columns.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { teamWhere, type TeamScope } from '../../platform/db/team-scope.js';
import type { CredentialsTables } from './credentials.tables.js';
import { createSealedRowsRepository } from './sealed-rows.repository.js';

export type CredentialRow = Selectable<CredentialsTables['credentials']>;
export type AccessLogRow = Selectable<CredentialsTables['credentialAccessLog']>;
export type { TeamScope };

const COLUMNS = [
  'id',
  'name',
  'nameKey',
  'type',
  'description',
  'tags',
  'teamId',
  'attributes',
  'secretFields',
  'keyId',
  'wrappedKey',
  'ciphertext',
  'expiresAt',
  'expiryNotifiedAt',
  'createdBy',
  'updatedBy',
  'lastUsedAt',
  'lastUsedBy',
  'createdAt',
  'updatedAt',
] as const;

export interface ListCriteria {
  scope: TeamScope;
  filters: FilterCondition[];
  q?: string;
  tags?: string[];
  expiringBefore?: string;
  sort: SortKey[];
  cursor?: string;
  limit: number;
}

/** The only place Kysely touches the credentials and credential_access_log tables. */
export function createCredentialsRepository(rawDb: Db) {
  const db = rawDb.withTables<CredentialsTables>();
  const dialect = dialectOf(rawDb);
  return {
    async insert(row: CredentialRow): Promise<void> {
      await db.insertInto('credentials').values(row).execute();
    },
    async update(id: string, patch: Partial<CredentialRow>): Promise<void> {
      await db.updateTable('credentials').set(patch).where('id', '=', id).execute();
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('credentials').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** The team (null: shared) of each credential and credential profile among `ids` that exists. */
    async teamsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
      const out = new Map<string, string | null>();
      if (ids.length === 0) return out;
      const unique = [...new Set(ids)];
      const rows = await db
        .selectFrom('credentials')
        .select(['id', 'teamId'])
        .where('id', 'in', unique)
        .unionAll(db.selectFrom('credentialProfiles').select(['id', 'teamId']).where('id', 'in', unique))
        .execute();
      for (const r of rows) out.set(r.id, r.teamId);
      return out;
    },
    findById(id: string): Promise<CredentialRow | undefined> {
      return db.selectFrom('credentials').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async nameTaken(nameKey: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('credentials').select('id').where('nameKey', '=', nameKey);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async list(c: ListCriteria): Promise<{ items: CredentialRow[]; next_cursor: string | null }> {
      let q = db.selectFrom('credentials').select(COLUMNS);
      q = q.where(teamWhere(c.scope, 'teamId'));
      if (c.q) {
        const pattern = `%${likeEscape(c.q)}%`;
        q = q.where((eb) => eb.or([ilike(dialect, eb.ref('name'), pattern), ilike(dialect, eb.ref('description'), pattern)]));
      }
      // Tags are a JSON array of strings; matching the quoted element keeps `a` from matching `ab`.
      for (const tag of c.tags ?? []) q = q.where((eb) => ilike(dialect, sql`cast(${eb.ref('tags')} as text)`, `%${likeEscape(JSON.stringify(tag))}%`));
      if (c.expiringBefore) q = q.where('expiresAt', 'is not', null).where('expiresAt', '<=', c.expiringBefore);
      q = applyFilters(q, c.filters, dialect);
      const rows = await applyPage(q, c.sort, c.cursor, c.limit).execute();
      return pageResult(rows, c.sort, c.limit, camelValue);
    },
    /** Expired and not yet announced (or announced for an earlier expiry date). */
    dueForExpiry(now: string, limit: number): Promise<Pick<CredentialRow, 'id' | 'name' | 'type' | 'teamId' | 'expiresAt'>[]> {
      return db
        .selectFrom('credentials')
        .select(['id', 'name', 'type', 'teamId', 'expiresAt'])
        .where('expiresAt', 'is not', null)
        .where('expiresAt', '<=', now)
        .where('expiryNotifiedAt', 'is', null)
        .orderBy('expiresAt')
        .limit(limit)
        .execute();
    },
    /** Claims the expiry announcement; false when another node already did. */
    async claimExpiry(id: string, expiresAt: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('credentials')
        .set({ expiryNotifiedAt: now })
        .where('id', '=', id)
        .where('expiresAt', '=', expiresAt)
        .where('expiryNotifiedAt', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async markUsed(id: string, by: string, at: string): Promise<void> {
      await db.updateTable('credentials').set({ lastUsedAt: at, lastUsedBy: by }).where('id', '=', id).execute();
    },
    async insertAccess(row: AccessLogRow): Promise<void> {
      await db.insertInto('credentialAccessLog').values(row).execute();
    },
    async listAccess(resourceType: 'credential' | 'secret', resourceId: string, sort: SortKey[], cursor: string | undefined, limit: number) {
      const q = db
        .selectFrom('credentialAccessLog')
        .select(['id', 'time', 'resourceType', 'resourceId', 'action', 'actorKind', 'actorId', 'actorName', 'purpose', 'jobRunId', 'outcome'])
        .where('resourceType', '=', resourceType)
        .where('resourceId', '=', resourceId);
      const rows = await applyPage(q, sort, cursor, limit).execute();
      return pageResult(rows, sort, limit, camelValue);
    },
    /** Sealed rows not under `keyId`, in id order after `afterId`: the rotation's work list. */
    sealedNotUnder(keyId: string, afterId: string, limit: number) {
      return db
        .selectFrom('credentials')
        .select(['id', 'type', 'keyId', 'wrappedKey'])
        .where('keyId', '!=', keyId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
    },
    ...createSealedRowsRepository(rawDb, 'credentials'),
  };
}

export type CredentialsRepository = ReturnType<typeof createCredentialsRepository>;
