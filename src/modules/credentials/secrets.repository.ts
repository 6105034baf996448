import type { Selectable } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { dialectOf } from '../../platform/db/database.js';
import { ilike, likeEscape } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { CredentialsTables } from './credentials.tables.js';
import { createSealedRowsRepository } from './sealed-rows.repository.js';

export type SecretRow = Selectable<CredentialsTables['secrets']>;
const COLUMNS = ['id', 'key', 'description', 'keyId', 'wrappedKey', 'ciphertext', 'createdBy', 'updatedBy', 'lastUsedAt', 'createdAt', 'updatedAt'] as const;

/** The only place Kysely touches the secrets table. */
export function createSecretsRepository(rawDb: Db) {
  const db = rawDb.withTables<CredentialsTables>();
  const dialect = dialectOf(rawDb);
  return {
    findByKey: (key: string) => db.selectFrom('secrets').select(COLUMNS).where('key', '=', key).executeTakeFirst(),
    async list(q: string | undefined, sort: SortKey[], cursor: string | undefined, limit: number) {
      let query = db.selectFrom('secrets').select(COLUMNS);
      if (q) query = query.where((eb) => ilike(dialect, eb.ref('key'), `%${likeEscape(q)}%`));
      const rows = await applyPage(query, sort, cursor, limit).execute();
      return pageResult(rows, sort, limit, camelValue);
    },
    async insert(row: SecretRow): Promise<void> {
      await db.insertInto('secrets').values(row).execute();
    },
    async update(id: string, patch: Partial<SecretRow>): Promise<void> {
      await db.updateTable('secrets').set(patch).where('id', '=', id).execute();
    },
    async remove(id: string): Promise<void> {
      await db.deleteFrom('secrets').where('id', '=', id).execute();
    },
    async markUsed(id: string, at: string): Promise<void> {
      await db.updateTable('secrets').set({ lastUsedAt: at }).where('id', '=', id).execute();
    },
    sealedNotUnder(keyId: string, afterId: string, limit: number) {
      return db
        .selectFrom('secrets')
        .select(['id', 'keyId', 'wrappedKey'])
        .where('keyId', '!=', keyId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
    },
    ...createSealedRowsRepository(rawDb, 'secrets'),
  };
}
