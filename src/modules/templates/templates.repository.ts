import type { Db } from '../../platform/db/database.js';
import type { DB } from '../../platform/db/schema.generated.js';
import { bool, json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';

/** The templates module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type TemplatesTables = Pick<DB, 'configTemplates' | 'configTemplateVersions'>;

/** A template as the service sees it: the stored row with its JSON and boolean columns decoded. */
export type TemplateRow = Omit<TemplatesTables['configTemplates'], 'tags' | 'variablesSchema' | 'active'> & {
  tags: string[];
  variablesSchema: Record<string, unknown> | null;
  active: boolean;
};
export type VersionRow = TemplatesTables['configTemplateVersions'];

const COLUMNS = [
  'configTemplates.id',
  'configTemplates.name',
  'configTemplates.source',
  'configTemplates.sourcePath',
  'configTemplates.sourceRepositoryId',
  'configTemplates.sourceCommit',
  'configTemplates.type',
  'configTemplates.category',
  'configTemplates.description',
  'configTemplates.tags',
  'configTemplates.variablesSchema',
  'configTemplates.active',
  'configTemplates.content',
  'configTemplates.version',
  'configTemplates.createdAt',
  'configTemplates.updatedAt',
] as const;
const VERSION_COLUMNS = [
  'configTemplateVersions.id',
  'configTemplateVersions.templateId',
  'configTemplateVersions.version',
  'configTemplateVersions.contentHash',
  'configTemplateVersions.authorId',
  'configTemplateVersions.authorName',
  'configTemplateVersions.notes',
  'configTemplateVersions.createdAt',
] as const;

function fromDb(r: TemplatesTables['configTemplates']): TemplateRow {
  return {
    ...r,
    tags: json.read<string[]>(r.tags) ?? [],
    variablesSchema: json.read<Record<string, unknown> | null>(r.variablesSchema),
    active: bool.read(r.active),
  };
}
function toDb(r: Partial<TemplateRow>): Partial<TemplatesTables['configTemplates']> {
  const out: Partial<TemplatesTables['configTemplates']> = { ...r } as never;
  if (r.tags !== undefined) out.tags = json.write(r.tags);
  if (r.variablesSchema !== undefined) out.variablesSchema = r.variablesSchema === null ? null : json.write(r.variablesSchema);
  if (r.active !== undefined) out.active = bool.write(r.active);
  return out;
}

export interface TemplateFilter {
  type?: string;
  category?: string;
  active?: boolean;
  q?: string;
}

/** Configuration templates and versions; the only place Kysely touches these tables. */
export function createTemplatesRepository(handle: Db) {
  const db = handle.withTables<TemplatesTables>();
  return {
    async page(filter: TemplateFilter, keys: SortKey[], cursor: string | undefined, limit: number) {
      let q = db.selectFrom('configTemplates').select(COLUMNS);
      if (filter.type !== undefined) q = q.where('configTemplates.type', '=', filter.type);
      if (filter.category !== undefined) q = q.where('configTemplates.category', '=', filter.category);
      if (filter.active !== undefined) q = q.where('configTemplates.active', '=', bool.write(filter.active));
      if (filter.q !== undefined) {
        const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        q = q.where((eb) => eb.or([eb('configTemplates.name', 'like', like), eb('configTemplates.description', 'like', like)]));
      }
      const rows = await applyPage(q, keys, cursor, limit).execute();
      const page = pageResult(rows, keys, limit, camelValue);
      return { items: page.items.map(fromDb), next_cursor: page.next_cursor };
    },
    async byId(id: string): Promise<TemplateRow | null> {
      const r = await db.selectFrom('configTemplates').select(COLUMNS).where('configTemplates.id', '=', id).executeTakeFirst();
      return r ? fromDb(r) : null;
    },
    async activeByName(name: string): Promise<TemplateRow | null> {
      const r = await db
        .selectFrom('configTemplates')
        .select(COLUMNS)
        .where('configTemplates.name', '=', name)
        .where('configTemplates.active', '=', bool.write(true))
        .executeTakeFirst();
      return r ? fromDb(r) : null;
    },
    /** Templates synced from one Git repository (active or not). */
    async bySourceRepository(repositoryId: string): Promise<TemplateRow[]> {
      const rows = await db
        .selectFrom('configTemplates')
        .select(COLUMNS)
        .where('configTemplates.sourceRepositoryId', '=', repositoryId)
        .where('configTemplates.source', '=', 'git')
        .execute();
      return rows.map(fromDb);
    },
    async insert(row: TemplateRow): Promise<void> {
      await db
        .insertInto('configTemplates')
        .values(toDb(row) as TemplatesTables['configTemplates'])
        .execute();
    },
    async update(id: string, changes: Partial<TemplateRow>): Promise<void> {
      await db.updateTable('configTemplates').set(toDb(changes)).where('configTemplates.id', '=', id).execute();
    },
    async delete(id: string): Promise<boolean> {
      await db.deleteFrom('configTemplateVersions').where('configTemplateVersions.templateId', '=', id).execute();
      const r = await db.deleteFrom('configTemplates').where('configTemplates.id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async insertVersion(row: VersionRow): Promise<void> {
      await db.insertInto('configTemplateVersions').values(row).execute();
    },
    async versions(templateId: string, keys: SortKey[], cursor: string | undefined, limit: number) {
      const q = db.selectFrom('configTemplateVersions').select(VERSION_COLUMNS).where('configTemplateVersions.templateId', '=', templateId);
      const rows = await applyPage(q, keys, cursor, limit).execute();
      return pageResult(rows, keys, limit, camelValue);
    },
    async version(templateId: string, version: number): Promise<VersionRow | null> {
      const r = await db
        .selectFrom('configTemplateVersions')
        .select([...VERSION_COLUMNS, 'configTemplateVersions.content'])
        .where('configTemplateVersions.templateId', '=', templateId)
        .where('configTemplateVersions.version', '=', version)
        .executeTakeFirst();
      return r ?? null;
    },
  };
}
export type TemplatesRepository = ReturnType<typeof createTemplatesRepository>;
