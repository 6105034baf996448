import type { Db } from '../../platform/db/database.js';
import { sql } from 'kysely';
import { bool, json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { ConfigsTables } from './configs.tables.js';

const COLUMNS = [
  'id',
  'name',
  'category',
  'url',
  'branch',
  'path',
  'credentialId',
  'verifyTls',
  'caCert',
  'syncIntervalSeconds',
  'description',
  'active',
  'lastSyncAt',
  'lastSyncStatus',
  'lastSyncError',
  'lastSyncRunId',
  'headCommit',
  'webhookCredentialId',
  'nextSyncAt',
  'syncOwnerId',
  'allowedExtensions',
  'createdBy',
  'createdAt',
  'updatedAt',
] as const;

type Raw = ConfigsTables['gitRepositories'];
export type RepositoryRow = Omit<Raw, 'verifyTls' | 'active' | 'allowedExtensions'> & {
  verifyTls: boolean;
  active: boolean;
  allowedExtensions: string[] | null;
};

const read = (r: Raw): RepositoryRow => ({
  ...r,
  verifyTls: bool.read(r.verifyTls),
  active: bool.read(r.active),
  allowedExtensions: json.read<string[] | null>(r.allowedExtensions ?? null),
});
function write(r: Partial<RepositoryRow>): Partial<Raw> {
  const out = { ...r } as Partial<Raw>;
  if (r.verifyTls !== undefined) out.verifyTls = bool.write(r.verifyTls);
  if (r.active !== undefined) out.active = bool.write(r.active);
  if (r.allowedExtensions !== undefined) out.allowedExtensions = r.allowedExtensions === null ? null : json.write(r.allowedExtensions);
  return out;
}

/** git_repositories: the registry of remotes Opsdeck mirrors. */
export function createRepositoriesRepository(base: Db) {
  const db = base.withTables<ConfigsTables>();
  const rows = () => db.selectFrom('gitRepositories').select(COLUMNS);
  return {
    async insert(row: RepositoryRow): Promise<void> {
      await db
        .insertInto('gitRepositories')
        .values(write(row) as Raw)
        .execute();
    },
    async find(id: string): Promise<RepositoryRow | undefined> {
      const r = await rows().where('id', '=', id).executeTakeFirst();
      return r ? read(r as Raw) : undefined;
    },
    async nameTaken(name: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('gitRepositories').select('id').where('name', '=', name);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async update(id: string, patch: Partial<RepositoryRow>): Promise<boolean> {
      const r = await db.updateTable('gitRepositories').set(write(patch)).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('gitRepositories').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    async list(filter: { category?: string[] | undefined; active?: boolean | undefined }, keys: SortKey[], cursor: string | undefined, limit: number) {
      let q = rows();
      if (filter.category?.length) q = q.where('category', 'in', filter.category);
      if (filter.active !== undefined) q = q.where('active', '=', bool.write(filter.active));
      const page = pageResult((await applyPage(q, keys, cursor, limit).execute()) as Raw[], keys, limit, camelValue);
      return { items: page.items.map(read), next_cursor: page.next_cursor };
    },
    /** Active repositories with a sync interval whose next sync is due (or was never planned). */
    async dueForSync(now: string): Promise<RepositoryRow[]> {
      const q = rows()
        .where('active', '=', bool.write(true))
        .where('syncIntervalSeconds', 'is not', null)
        .where((eb) => eb.or([eb('nextSyncAt', 'is', null), eb('nextSyncAt', '<=', now)]))
        .orderBy('nextSyncAt')
        .limit(100);
      return ((await q.execute()) as Raw[]).map(read);
    },
    /**
     * Moves a repository's next sync from the value this node read to `next`: true for exactly
     * one of the nodes racing on one due sync (compare-and-set).
     */
    async claimSync(id: string, seen: string | null, next: string): Promise<boolean> {
      const r = await db
        .updateTable('gitRepositories')
        .set({ nextSyncAt: next })
        .where('id', '=', id)
        .where(seen === null ? sql<boolean>`${sql.ref('nextSyncAt')} is null` : sql<boolean>`${sql.ref('nextSyncAt')} = ${seen}`)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Active repositories of a category (the sync of `configs` repositories, the textfsm library). */
    async byCategory(category: string): Promise<RepositoryRow[]> {
      return ((await rows().where('category', '=', category).where('active', '=', bool.write(true)).orderBy('name').execute()) as Raw[]).map(read);
    },
  };
}

export type RepositoriesRepository = ReturnType<typeof createRepositoriesRepository>;
