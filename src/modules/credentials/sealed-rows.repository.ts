import type { Db } from '../../platform/db/database.js';
import type { CredentialsTables } from './credentials.tables.js';

/**
 * Key-rotation writes shared by the two sealed tables, `credentials` and `secrets`: both carry
 * `key_id` and `wrapped_key`, and rotation re-wraps them the same way.
 */
export function createSealedRowsRepository(rawDb: Db, table: 'credentials' | 'secrets') {
  // NOTE: Kysely cannot type a column across a union of tables; the queries are typed against
  // one of them and touch only columns both have (id, key_id, wrapped_key).
  const t = table as 'credentials';
  const db = rawDb.withTables<CredentialsTables>();
  return {
    /** Swaps the wrapped data key only if nobody changed it meanwhile. */
    async replaceWrap(id: string, old: { keyId: string; wrappedKey: string }, next: { keyId: string; wrappedKey: string }): Promise<boolean> {
      const r = await db
        .updateTable(t)
        .set({ keyId: next.keyId, wrappedKey: next.wrappedKey })
        .where('id', '=', id)
        .where('keyId', '=', old.keyId)
        .where('wrappedKey', '=', old.wrappedKey)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async countByKey(): Promise<{ keyId: string; n: number }[]> {
      const rows = await db
        .selectFrom(t)
        .select(['keyId', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('keyId')
        .execute();
      return rows.map((r) => ({ keyId: r.keyId, n: Number(r.n) }));
    },
  };
}
