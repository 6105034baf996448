import type { Db } from '../../platform/db/database.js';
import { bool } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { ConfigsTables } from './configs.tables.js';

const COLUMNS = [
  'id', 'name', 'category', 'url', 'branch', 'path', 'credentialId', 'verifyTls', 'caCert', 'syncIntervalSeconds', 'description', 'active',
  'lastSyncAt', 'lastSyncStatus', 'lastSyncError', 'lastSyncRunId', 'headCommit', 'webhookCredentialId', 'createdBy', 'createdAt', 'updatedAt',
] as const;

type Raw = ConfigsTables['gitRepositories'];
export type RepositoryRow = Omit<Raw, 'verifyTls' | 'active'> & { verifyTls: boolean; active: boolean };

const read = (r: Raw): RepositoryRow => ({ ...r, verifyTls: bool.read(r.verifyTls), active: bool.read(r.active) });
function write(r: Partial<RepositoryRow>): Partial<Raw> {
  const out = { ...r } as Partial<Raw>;
  if (r.verifyTls !== undefined) out.verifyTls = bool.write(r.verifyTls);
  if (r.active !== undefined) out.active = bool.write(r.active);
  return out;
}

/** git_repositories: the registry of remotes Opsdeck mirrors. */
export function createRepositoriesRepository(base: Db) {
  const db = base.withTables<ConfigsTables>();
  const rows = () => db.selectFrom('gitRepositories').select(COLUMNS);
  return {
    async insert(row: RepositoryRow): Promise<void> {
      await db.insertInto('gitRepositories').values(write(row) as Raw).execute();
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
    /** Active repositories of a category (the sync of `configs` repositories, the textfsm library). */
    async byCategory(category: string): Promise<RepositoryRow[]> {
      return ((await rows().where('category', '=', category).where('active', '=', bool.write(true)).orderBy('name').execute()) as Raw[]).map(read);
    },
  };
}

export type RepositoriesRepository = ReturnType<typeof createRepositoriesRepository>;
