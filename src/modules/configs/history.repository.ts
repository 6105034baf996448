import { sql } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { ConfigsTables } from './configs.tables.js';

export type CommitRow = ConfigsTables['configCommits'];
export type VersionRow = ConfigsTables['configVersions'];

const VERSION_COLUMNS = [
  'id',
  'repositoryId',
  'commitSha',
  'path',
  'deviceName',
  'change',
  'oldPath',
  'authorName',
  'committedAt',
  'size',
  'contentHash',
] as const;
const NEWEST: SortKey[] = [
  { field: 'committed_at', column: 'committedAt', desc: true, nullable: false },
  { field: 'id', column: 'id', desc: true, nullable: false },
];
const CHUNK = 200;

/** config_commits and config_versions: the history index (one indexed query per question). */
export function createHistoryRepository(base: Db) {
  const db = base.withTables<ConfigsTables>();
  const versions = () => db.selectFrom('configVersions').select(VERSION_COLUMNS);
  return {
    /** Idempotent: commits and versions already indexed are left as they are. */
    async insert(commits: CommitRow[], rows: VersionRow[]): Promise<void> {
      for (let i = 0; i < commits.length; i += CHUNK) {
        await db
          .insertInto('configCommits')
          .values(commits.slice(i, i + CHUNK))
          .onConflict((oc) => oc.columns(['repositoryId', 'sha']).doNothing())
          .execute();
      }
      for (let i = 0; i < rows.length; i += CHUNK) {
        await db
          .insertInto('configVersions')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((oc) => oc.columns(['repositoryId', 'commitSha', 'path']).doNothing())
          .execute();
      }
    },
    async clear(repositoryId: string): Promise<void> {
      await db.deleteFrom('configVersions').where('repositoryId', '=', repositoryId).execute();
      await db.deleteFrom('configCommits').where('repositoryId', '=', repositoryId).execute();
    },
    /** A device's versions, newest first (index config_versions_device_idx). */
    async deviceVersions(deviceName: string, cursor: string | undefined, limit: number) {
      const rows = await applyPage(versions().where('deviceName', '=', deviceName), NEWEST, cursor, limit).execute();
      return pageResult(rows, NEWEST, limit, camelValue);
    },
    async version(id: string): Promise<VersionRow | undefined> {
      return versions().where('id', '=', id).executeTakeFirst();
    },
    /** The version of a device just before `than` (the default `from` of a diff). */
    async previous(deviceName: string, than: VersionRow): Promise<VersionRow | undefined> {
      return versions()
        .where('deviceName', '=', deviceName)
        .where(sql<boolean>`(${sql.ref('committedAt')}, ${sql.ref('id')}) < (${than.committedAt}, ${than.id})`)
        .orderBy('committedAt', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },
    async latest(deviceName: string): Promise<VersionRow | undefined> {
      return versions().where('deviceName', '=', deviceName).orderBy('committedAt', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    },
    /** Every change across the fleet since a time, newest first (index config_versions_time_idx). */
    async changes(since: string, until: string | undefined, cursor: string | undefined, limit: number) {
      let q = versions().where('committedAt', '>', since);
      if (until) q = q.where('committedAt', '<=', until);
      const rows = await applyPage(q, NEWEST, cursor, limit).execute();
      return pageResult(rows, NEWEST, limit, camelValue);
    },
    /** The newest version of every device that still has a configuration (search, compliance). */
    async latestPerDevice(): Promise<VersionRow[]> {
      const rows = await versions()
        .where(({ eb, selectFrom }) =>
          eb(
            'id',
            '=',
            selectFrom('configVersions as w')
              .select('w.id')
              .whereRef('w.deviceName', '=', 'configVersions.deviceName')
              .orderBy('w.committedAt', 'desc')
              .orderBy('w.id', 'desc')
              .limit(1),
          ),
        )
        .where('change', '!=', 'deleted')
        .orderBy('deviceName')
        .execute();
      return rows;
    },
    async commitMessage(repositoryId: string, sha: string): Promise<string | undefined> {
      return (await db.selectFrom('configCommits').select('message').where('repositoryId', '=', repositoryId).where('sha', '=', sha).executeTakeFirst())
        ?.message;
    },
  };
}

export type HistoryRepository = ReturnType<typeof createHistoryRepository>;
