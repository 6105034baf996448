/** The file library: metadata, listing, changes, deletion and downloads of stored files. */
import fs from 'node:fs';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { parseRange, type RangeResult } from './files.fns.js';
import { canSee, visibilityOf, type FileRow, type FilesRepository } from './files.repository.js';
import type { LocalStorage } from './storage.js';
import { fileView, type FileView } from './files.views.js';

export type { FileView } from './files.views.js';
import type { AuditPort, EventsPort } from './uploads.service.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';

export interface ListFilesInput {
  limit?: number;
  cursor?: string;
  sort?: string;
  content_type?: string;
  tag?: string;
  owner_id?: string;
  team_id?: string;
  q?: string;
}

export interface PatchFileInput {
  name?: string;
  tags?: string[];
  description?: string;
  team_id?: string | null;
}

const SORT = { name: 'name', size: 'size', created_at: 'createdAt', updated_at: 'updatedAt' };

export interface FilesServiceDeps {
  repo: FilesRepository;
  unitOfWork: UnitOfWork<FilesRepository>;
  storage: LocalStorage;
  audit: AuditPort;
  events: EventsPort;
  now: () => number;
}

/** A download: the stored file, the part asked for, and the headers that keep browsers from rendering it. */
export interface Download {
  file: FileView;
  range: RangeResult;
  open: (start?: number, end?: number) => fs.ReadStream;
}

export function createFilesService(deps: FilesServiceDeps) {
  const { repo } = deps;
  async function visible(actor: Actor, id: string): Promise<FileRow> {
    const f = await repo.getFile(id);
    if (!f || !canSee(visibilityOf(actor), f)) throw new NotFoundError('FILE_NOT_FOUND', `File ${id} not found`);
    return f;
  }
  return {
    visible,
    async list(actor: Actor, q: ListFilesInput) {
      requirePermission(actor, 'files:read');
      const keys = parseSort(q.sort, SORT, 'id', '-created_at', Object.keys(SORT));
      const limit = q.limit ?? 50;
      const page = await repo.listFiles(visibilityOf(actor), {
        keys,
        limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.content_type ? { contentType: q.content_type } : {}),
        ...(q.tag ? { tag: q.tag } : {}),
        ...(q.owner_id ? { ownerId: q.owner_id } : {}),
        ...(q.team_id ? { teamId: q.team_id } : {}),
        ...(q.q ? { q: q.q } : {}),
      });
      return { items: page.items.map(fileView), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, id: string): Promise<FileView> {
      requirePermission(actor, 'files:read');
      return fileView(await visible(actor, id));
    },
    async update(actor: Actor, id: string, input: PatchFileInput): Promise<FileView> {
      requirePermission(actor, 'files:write');
      await visible(actor, id);
      if (input.team_id && actor.permissions !== '*' && !actor.teamIds.includes(input.team_id)) {
        throw new ValidationError('FILE_INVALID', 'The change is invalid', [{ path: 'body.team_id', message: 'is not one of your teams' }]);
      }
      const now = new Date(deps.now()).toISOString();
      await deps.unitOfWork(async (r, tx) => {
        await r.updateFile(
          id,
          {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.tags !== undefined ? { tags: input.tags } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.team_id !== undefined ? { teamId: input.team_id } : {}),
          },
          now,
        );
        await deps.events.record(r.db, 'file.updated', { id, changes: Object.keys(input) });
        await deps.audit.record(r.db, { actor, action: 'file.updated', resourceType: 'file', resourceId: id, outcome: 'success', changes: { ...input } });
        tx.afterCommit(() => deps.events.relay());
      });
      return fileView(await visible(actor, id));
    },
    /** Deletes the record (and any image registered from it), releases the quota, then removes the bytes. */
    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'files:write');
      const f = await visible(actor, id);
      await deps.unitOfWork(async (r, tx) => {
        if (!(await r.deleteFile(id))) throw new NotFoundError('FILE_NOT_FOUND', `File ${id} not found`);
        await r.release(f.ownerId, f.size);
        await deps.events.record(r.db, 'file.deleted', { id, name: f.name });
        await deps.audit.record(r.db, { actor, action: 'file.deleted', resourceType: 'file', resourceId: id, outcome: 'success', changes: { name: f.name } });
        tx.afterCommit(() => deps.events.relay());
      });
      await deps.storage.removeObject(id);
    },
    async download(actor: Actor, id: string, rangeHeader: string | undefined): Promise<Download> {
      requirePermission(actor, 'files:read');
      const f = await visible(actor, id);
      const path = deps.storage.objectPath(f.id);
      return {
        file: fileView(f),
        range: parseRange(rangeHeader, f.size),
        open: (start, end) => fs.createReadStream(path, start === undefined ? {} : { start, ...(end === undefined ? {} : { end }) }),
      };
    },
    /** The path of a visible file, for tools that read it (qemu-img): Opsdeck's own path, never a client's. */
    async pathOf(actor: Actor, id: string): Promise<{ row: FileRow; path: string }> {
      const row = await visible(actor, id);
      return { row, path: deps.storage.objectPath(row.id) };
    },
  };
}
export type FilesService = ReturnType<typeof createFilesService>;
