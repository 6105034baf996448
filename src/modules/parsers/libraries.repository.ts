import type { Db } from '../../platform/db/database.js';
import type { DB } from '../../platform/db/schema.generated.js';
import { json } from '../../platform/db/columns.js';

/** Libraries fed by `textfsm` Git repositories (`parser_libraries`, `parser_library_files`). */
export type LibrariesTables = Pick<DB, 'parserLibraries' | 'parserLibraryFiles'>;

export interface SkippedTemplate {
  template: string;
  line: number | null;
  message: string;
}

export type LibraryRow = Omit<LibrariesTables['parserLibraries'], 'skipped' | 'indexText'> & { skipped: SkippedTemplate[] };

const COLUMNS = [
  'parserLibraries.id',
  'parserLibraries.name',
  'parserLibraries.commitSha',
  'parserLibraries.sourcePath',
  'parserLibraries.templates',
  'parserLibraries.skipped',
  'parserLibraries.createdAt',
  'parserLibraries.updatedAt',
] as const;

const decode = (r: LibrariesTables['parserLibraries'] | Omit<LibrariesTables['parserLibraries'], 'indexText'>): LibraryRow => {
  const { skipped, ...rest } = r as LibrariesTables['parserLibraries'];
  const { indexText: _i, ...row } = rest;
  return { ...row, templates: Number(row.templates), skipped: json.read<SkippedTemplate[]>(skipped) ?? [] };
};

/** The only place Kysely touches the library tables. */
export function createLibrariesRepository(handle: Db) {
  const db = handle.withTables<LibrariesTables>();
  return {
    /** Every library in lookup order (by name, then id). */
    async all(): Promise<LibraryRow[]> {
      const rows = await db.selectFrom('parserLibraries').select(COLUMNS).orderBy('parserLibraries.name').orderBy('parserLibraries.id').execute();
      return rows.map(decode);
    },
    async byId(id: string): Promise<LibraryRow | null> {
      const r = await db.selectFrom('parserLibraries').select(COLUMNS).where('parserLibraries.id', '=', id).executeTakeFirst();
      return r ? decode(r) : null;
    },
    /** The index and every template of one library (what a node loads into memory). */
    async contents(id: string): Promise<{ indexText: string; files: { name: string; content: string }[] } | null> {
      const lib = await db.selectFrom('parserLibraries').select('parserLibraries.indexText').where('parserLibraries.id', '=', id).executeTakeFirst();
      if (!lib) return null;
      const files = await db
        .selectFrom('parserLibraryFiles')
        .select(['parserLibraryFiles.name', 'parserLibraryFiles.content'])
        .where('parserLibraryFiles.libraryId', '=', id)
        .execute();
      return { indexText: lib.indexText, files };
    },
    async hashes(id: string): Promise<Map<string, string>> {
      const rows = await db
        .selectFrom('parserLibraryFiles')
        .select(['parserLibraryFiles.name', 'parserLibraryFiles.contentHash'])
        .where('parserLibraryFiles.libraryId', '=', id)
        .execute();
      return new Map(rows.map((r) => [r.name, r.contentHash]));
    },
    async upsert(row: Omit<LibrariesTables['parserLibraries'], 'skipped'> & { skipped: SkippedTemplate[] }, exists: boolean): Promise<void> {
      const values = { ...row, skipped: json.write(row.skipped) };
      if (exists) {
        const { id, createdAt: _c, ...changes } = values;
        await db.updateTable('parserLibraries').set(changes).where('parserLibraries.id', '=', id).execute();
      } else {
        await db.insertInto('parserLibraries').values(values).execute();
      }
    },
    async insertFiles(libraryId: string, files: { name: string; contentHash: string; content: string }[]): Promise<void> {
      // Batches keep each statement under SQLite's and PostgreSQL's bound-parameter limits.
      for (let i = 0; i < files.length; i += 200) {
        await db
          .insertInto('parserLibraryFiles')
          .values(files.slice(i, i + 200).map((f) => ({ libraryId, ...f })))
          .execute();
      }
    },
    async deleteFiles(libraryId: string, names: string[]): Promise<void> {
      for (let i = 0; i < names.length; i += 500) {
        await db
          .deleteFrom('parserLibraryFiles')
          .where('parserLibraryFiles.libraryId', '=', libraryId)
          .where('parserLibraryFiles.name', 'in', names.slice(i, i + 500))
          .execute();
      }
    },
    async remove(id: string): Promise<boolean> {
      await db.deleteFrom('parserLibraryFiles').where('parserLibraryFiles.libraryId', '=', id).execute();
      const r = await db.deleteFrom('parserLibraries').where('parserLibraries.id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
export type LibrariesRepository = ReturnType<typeof createLibrariesRepository>;
