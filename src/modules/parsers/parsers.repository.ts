import type { Db } from '../../platform/db/database.js';
import type { DB } from '../../platform/db/schema.generated.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';

/** The parsers module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type ParsersTables = Pick<DB, 'parserTemplates'>;

export type CustomTemplateRow = ParsersTables['parserTemplates'];

export type CustomTemplateChanges = Partial<Pick<CustomTemplateRow, 'name' | 'platform' | 'command' | 'description' | 'content'>>;

const COLUMNS = [
  'parserTemplates.id',
  'parserTemplates.name',
  'parserTemplates.platform',
  'parserTemplates.command',
  'parserTemplates.description',
  'parserTemplates.content',
  'parserTemplates.createdAt',
  'parserTemplates.updatedAt',
] as const;

/** User templates (`parser_templates`); the only place Kysely touches the parsers tables. */
export function createParsersRepository(handle: Db) {
  const db = handle.withTables<ParsersTables>();
  return {
    /** Every template, in lookup order (by name): earlier rows win a platform/command match. */
    async all(): Promise<CustomTemplateRow[]> {
      return db.selectFrom('parserTemplates').select(COLUMNS).orderBy('parserTemplates.name').orderBy('parserTemplates.id').execute();
    },
    async page(filter: { platform?: string }, keys: SortKey[], cursor: string | undefined, limit: number) {
      let q = db.selectFrom('parserTemplates').select(COLUMNS);
      if (filter.platform !== undefined) q = q.where('parserTemplates.platform', '=', filter.platform);
      const rows = await applyPage(q, keys, cursor, limit).execute();
      return pageResult(rows, keys, limit, camelValue);
    },
    async byId(id: string): Promise<CustomTemplateRow | null> {
      return (await db.selectFrom('parserTemplates').select(COLUMNS).where('parserTemplates.id', '=', id).executeTakeFirst()) ?? null;
    },
    async idByName(name: string): Promise<string | null> {
      const row = await db.selectFrom('parserTemplates').select('parserTemplates.id').where('parserTemplates.name', '=', name).executeTakeFirst();
      return row?.id ?? null;
    },
    async insert(row: CustomTemplateRow): Promise<void> {
      await db.insertInto('parserTemplates').values(row).execute();
    },
    async update(id: string, changes: CustomTemplateChanges, updatedAt: string): Promise<void> {
      await db
        .updateTable('parserTemplates')
        .set({ ...changes, updatedAt })
        .where('parserTemplates.id', '=', id)
        .execute();
    },
    async delete(id: string): Promise<boolean> {
      const r = await db.deleteFrom('parserTemplates').where('parserTemplates.id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
export type ParsersRepository = ReturnType<typeof createParsersRepository>;
