import { sql, type SqlBool } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { Actor } from '../../platform/http/auth.js';
import type { FilesTables } from './files.tables.js';

export type FileRowRaw = FilesTables['files'];
export type FileRow = Omit<FileRowRaw, 'tags'> & { tags: string[] };
export type UploadRowRaw = FilesTables['fileUploads'];
export type UploadRow = Omit<UploadRowRaw, 'tags'> & { tags: string[] };
export type ImageRow = FilesTables['images'];

const FILE_COLUMNS = ['id', 'name', 'size', 'sha256', 'contentType', 'ownerId', 'teamId', 'tags', 'description', 'createdAt', 'updatedAt'] as const;
const UPLOAD_COLUMNS = [
  'id',
  'name',
  'length',
  'offset',
  'declaredSha256',
  'ownerId',
  'teamId',
  'tags',
  'description',
  'fileId',
  'expiresAt',
  'createdAt',
  'updatedAt',
] as const;
const IMAGE_COLUMNS = [
  'id',
  'fileId',
  'kind',
  'format',
  'virtualSize',
  'backingFile',
  'vendor',
  'model',
  'version',
  'vendorSha256',
  'ownerId',
  'teamId',
  'createdAt',
  'updatedAt',
] as const;

/**
 * Who sees a file, upload or image: admins and the system every one; others their own and
 * those of their teams. A file without a team is its owner's alone.
 */
export interface Visibility {
  all: boolean;
  ownerId: string;
  teamIds: readonly string[];
}

export function visibilityOf(actor: Actor): Visibility {
  return { all: actor.permissions === '*', ownerId: ownerOf(actor), teamIds: actor.teamIds };
}

/** The user behind the actor (an API key's creator), so a person's keys share their quota and files. */
export function ownerOf(actor: Actor): string {
  return actor.userId ?? actor.id;
}

function visible(v: Visibility) {
  if (v.all) return sql<SqlBool>`1 = 1`;
  if (v.teamIds.length === 0) return sql<SqlBool>`${sql.ref('ownerId')} = ${v.ownerId}`;
  return sql<SqlBool>`(${sql.ref('ownerId')} = ${v.ownerId} or ${sql.ref('teamId')} in (${sql.join([...v.teamIds])}))`;
}

export const canSee = (v: Visibility, row: { ownerId: string; teamId: string | null }): boolean =>
  v.all || row.ownerId === v.ownerId || (row.teamId !== null && v.teamIds.includes(row.teamId));

const readFile = (r: FileRowRaw): FileRow => ({ ...r, tags: json.read<string[]>(r.tags) });
const readUpload = (r: UploadRowRaw): UploadRow => ({ ...r, tags: json.read<string[]>(r.tags) });

export interface FileListQuery {
  keys: SortKey[];
  limit: number;
  cursor?: string;
  contentType?: string;
  tag?: string;
  ownerId?: string;
  teamId?: string;
  q?: string;
}

/** files, file_uploads, file_quotas and images. */
export function createFilesRepository(base: Db) {
  const db = base.withTables<FilesTables>();
  return {
    db: base,
    async insertFile(row: FileRow): Promise<void> {
      await db
        .insertInto('files')
        .values({ ...row, tags: json.write(row.tags) })
        .execute();
    },
    async getFile(id: string): Promise<FileRow | undefined> {
      const row = await db.selectFrom('files').select(FILE_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && readFile(row);
    },
    async listFiles(v: Visibility, q: FileListQuery) {
      let qb = db.selectFrom('files').select(FILE_COLUMNS).where(visible(v));
      if (q.contentType) qb = qb.where('contentType', '=', q.contentType);
      if (q.ownerId) qb = qb.where('ownerId', '=', q.ownerId);
      if (q.teamId) qb = qb.where('teamId', '=', q.teamId);
      // Tags are a JSON array of strings: the quoted tag inside it (tags cannot contain quotes).
      if (q.tag) qb = qb.where('tags', 'like', `%${JSON.stringify(q.tag).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      if (q.q) qb = qb.where(sql<SqlBool>`lower(${sql.ref('name')}) like ${`%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
      const rows = await applyPage(qb, q.keys, q.cursor, q.limit).execute();
      const page = pageResult(rows, q.keys, q.limit, camelValue);
      return { items: page.items.map(readFile), next_cursor: page.next_cursor };
    },
    async updateFile(id: string, patch: Partial<Pick<FileRow, 'name' | 'tags' | 'description' | 'teamId'>>, now: string): Promise<void> {
      await db
        .updateTable('files')
        .set({ ...patch, tags: patch.tags ? json.write(patch.tags) : undefined, updatedAt: now })
        .where('id', '=', id)
        .execute();
    },
    async deleteFile(id: string): Promise<boolean> {
      return (await db.deleteFrom('files').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
    },

    async insertUpload(row: UploadRow): Promise<void> {
      await db
        .insertInto('fileUploads')
        .values({ ...row, tags: json.write(row.tags) })
        .execute();
    },
    async getUpload(id: string): Promise<UploadRow | undefined> {
      const row = await db.selectFrom('fileUploads').select(UPLOAD_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && readUpload(row);
    },
    /** Compare-and-set of the offset: false when another request moved it first. */
    async advanceUpload(id: string, from: number, to: number, expiresAt: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('fileUploads')
        .set({ offset: to, expiresAt, updatedAt: now })
        .where('id', '=', id)
        .where('offset', '=', from)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async finishUpload(id: string, fileId: string, now: string): Promise<void> {
      await db.updateTable('fileUploads').set({ fileId, updatedAt: now }).where('id', '=', id).execute();
    },
    async deleteUpload(id: string): Promise<UploadRow | undefined> {
      const row = await db.deleteFrom('fileUploads').where('id', '=', id).returning(UPLOAD_COLUMNS).executeTakeFirst();
      return row && readUpload(row);
    },
    async expiredUploads(now: string, limit: number): Promise<string[]> {
      return (await db.selectFrom('fileUploads').select('id').where('expiresAt', '<', now).limit(limit).execute()).map((r) => r.id);
    },
    async uploadIds(): Promise<Set<string>> {
      return new Set((await db.selectFrom('fileUploads').select('id').execute()).map((r) => r.id));
    },

    /**
     * Reserves bytes of the owner's quota in one conditional UPDATE: two uploads racing for the
     * last bytes cannot both pass (row lock on PostgreSQL, one writer on SQLite).
     */
    async reserve(ownerId: string, bytes: number, limit: number): Promise<boolean> {
      await db
        .insertInto('fileQuotas')
        .values({ ownerId, usedBytes: 0 })
        .onConflict((oc) => oc.column('ownerId').doNothing())
        .execute();
      const r = await db
        .updateTable('fileQuotas')
        .set({ usedBytes: sql`${sql.ref('usedBytes')} + ${bytes}` })
        .where('ownerId', '=', ownerId)
        .where(sql<SqlBool>`${sql.ref('usedBytes')} + ${bytes} <= ${limit}`)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async release(ownerId: string, bytes: number): Promise<void> {
      await db
        .updateTable('fileQuotas')
        .set({ usedBytes: sql`case when ${sql.ref('usedBytes')} > ${bytes} then ${sql.ref('usedBytes')} - ${bytes} else 0 end` })
        .where('ownerId', '=', ownerId)
        .execute();
    },
    async used(ownerId: string): Promise<number> {
      return (await db.selectFrom('fileQuotas').select('usedBytes').where('ownerId', '=', ownerId).executeTakeFirst())?.usedBytes ?? 0;
    },

    async insertImage(row: ImageRow): Promise<void> {
      await db.insertInto('images').values(row).execute();
    },
    async getImage(id: string): Promise<ImageRow | undefined> {
      return db.selectFrom('images').select(IMAGE_COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async imageOfFile(fileId: string): Promise<ImageRow | undefined> {
      return db.selectFrom('images').select(IMAGE_COLUMNS).where('fileId', '=', fileId).executeTakeFirst();
    },
    async listImages(v: Visibility, keys: SortKey[], limit: number, cursor: string | undefined, kind?: string) {
      let qb = db.selectFrom('images').select(IMAGE_COLUMNS).where(visible(v));
      if (kind) qb = qb.where('kind', '=', kind);
      const rows = await applyPage(qb, keys, cursor, limit).execute();
      return pageResult(rows, keys, limit, camelValue);
    },
    async updateImage(id: string, patch: Partial<Pick<ImageRow, 'vendor' | 'model' | 'version' | 'vendorSha256'>>, now: string): Promise<void> {
      await db
        .updateTable('images')
        .set({ ...patch, updatedAt: now })
        .where('id', '=', id)
        .execute();
    },
    /** Team of each file or image (for the audit list's team filtering). */
    async teamsOf(table: 'files' | 'images', ids: readonly string[]): Promise<Map<string, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom(table)
        .select(['id', 'teamId'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, r.teamId]));
    },
    async deleteImage(id: string): Promise<void> {
      await db.deleteFrom('images').where('id', '=', id).execute();
    },
  };
}
export type FilesRepository = ReturnType<typeof createFilesRepository>;
