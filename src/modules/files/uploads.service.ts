/**
 * Resumable uploads (tus 1.0 core: creation, offset, append, termination, expiration) and
 * small multipart uploads, into the local store. Quotas are reserved in the transaction that
 * creates an upload; SHA-256 is computed while bytes arrive and checked at completion; the type
 * is decided by the content.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromBuffer } from 'file-type';
import { AppError, BadRequestError, ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { isUuid, newId } from '../../platform/ids.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import {
  checkContent,
  checkDeclared,
  cleanName,
  parseUploadMetadata,
  SHA256_PATTERN,
  sniff,
  SNIFF_BYTES,
  type Sniffed,
  type UploadPolicy,
} from './files.fns.js';
import { ownerOf, type FileRow, type FilesRepository, type UploadRow } from './files.repository.js';
import type { LocalStorage } from './storage.js';
import { fileView, type FileView } from './files.views.js';

export interface FilesSettings {
  max_upload_mb: number;
  allowed_extensions: readonly string[];
  allowed_types: readonly string[];
  quota_mb: number;
  upload_expiry_hours: number;
  allow_backing_files: boolean;
}

export interface AuditPort {
  record(
    db: FilesRepository['db'],
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}
export interface EventsPort {
  record(db: FilesRepository['db'], name: string, payload: unknown): Promise<unknown>;
  relay(): Promise<void>;
}

export interface UploadsServiceDeps {
  repo: FilesRepository;
  unitOfWork: UnitOfWork<FilesRepository>;
  storage: LocalStorage;
  settings: () => FilesSettings;
  audit: AuditPort;
  events: EventsPort;
  now: () => number;
  /** Smallest gap between two progress events of one upload (ms). */
  progressEveryMs?: number;
  onError: (err: unknown) => void;
}

export const MiB = 1024 * 1024;
export const policyOf = (s: FilesSettings): UploadPolicy => ({ maxBytes: s.max_upload_mb * MiB, extensions: s.allowed_extensions, types: s.allowed_types });

export class QuotaExceededError extends AppError {
  constructor(bytes: number, limit: number) {
    super('FILE_QUOTA_EXCEEDED', 413, `This upload of ${bytes} bytes would exceed your quota of ${limit} bytes`, [
      { path: 'headers.upload-length', message: 'exceeds the remaining quota' },
    ]);
  }
}

/** What a caller sees of an upload (also the tus headers). */
export interface UploadView {
  id: string;
  name: string;
  length: number;
  offset: number;
  file_id: string | null;
  expires_at: string;
  created_at: string;
}
const view = (u: UploadRow): UploadView => ({
  id: u.id,
  name: u.name,
  length: u.length,
  offset: u.offset,
  file_id: u.fileId,
  expires_at: u.expiresAt,
  created_at: u.createdAt,
});

interface Active {
  abort: AbortController;
}

/**
 * A failed request stream (the client went away, a malformed multipart body) is the client's
 * 400; a file system error (it has a `syscall`) stays a server error.
 */
function streamFailure(err: unknown): unknown {
  if (err instanceof AppError || (err as { syscall?: string } | null)?.syscall) return err;
  return new BadRequestError('UPLOAD_INTERRUPTED', 'The request body ended early or was malformed; resume from the upload offset', [
    { path: 'body', message: err instanceof Error ? err.message.slice(0, 200) : 'unreadable' },
  ]);
}

export interface CreateUploadInput {
  length: number;
  metadata: string | undefined;
}

/** The uploads service; `close()` stops the expiry sweep. */
export function createUploadsService(deps: UploadsServiceDeps) {
  const { repo, storage } = deps;
  const iso = (ms = deps.now()) => new Date(ms).toISOString();
  const expiry = () => iso(deps.now() + deps.settings().upload_expiry_hours * 3_600_000);
  /** Running SHA-256 per upload, valid while its `offset` equals the upload's (else rebuilt from the file). */
  const hashes = new Map<string, { hash: Hash; offset: number }>();
  /** Uploads with a PATCH in progress on this node. */
  const active = new Map<string, Active>();

  async function visibleUpload(actor: Actor, id: string): Promise<UploadRow> {
    const u = await repo.getUpload(id);
    // An upload is its creator's alone (and the admins'), whatever its team.
    if (!u || !(actor.permissions === '*' || u.ownerId === ownerOf(actor))) throw new NotFoundError('UPLOAD_NOT_FOUND', `Upload ${id} not found`);
    return u;
  }

  async function hashAt(u: UploadRow): Promise<Hash> {
    const kept = hashes.get(u.id);
    if (kept && kept.offset === u.offset) return kept.hash;
    const hash = createHash('sha256');
    if (u.offset > 0) for await (const chunk of fs.createReadStream(storage.uploadPath(u.id), { start: 0, end: u.offset - 1 })) hash.update(chunk as Buffer);
    return hash;
  }

  async function progress(u: UploadRow, offset: number): Promise<void> {
    await deps.unitOfWork(async (r) => {
      await deps.events.record(r.db, 'upload.progress', { upload_id: u.id, name: u.name, owner_id: u.ownerId, offset, length: u.length });
    });
    await deps.events.relay();
  }

  /** Deletes an unfinished upload: its row, its temporary file, its quota reservation. */
  async function discard(id: string): Promise<boolean> {
    hashes.delete(id);
    const row = await deps.unitOfWork(async (r) => {
      const gone = await r.deleteUpload(id);
      if (gone && gone.fileId === null) await r.release(gone.ownerId, gone.length);
      return gone;
    });
    await storage.removeUpload(id);
    return row !== undefined;
  }

  async function sniffFile(file: string, size: number): Promise<Sniffed> {
    const handle = await fsp.open(file, 'r');
    try {
      const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
      await handle.read(head, 0, head.length, 0);
      return sniff(head, await fileTypeFromBuffer(head));
    } finally {
      await handle.close();
    }
  }

  /** The finished bytes at `file` become a library file owned by `owner` (quota already reserved). */
  async function publish(
    actor: Actor,
    file: string,
    meta: { name: string; size: number; sha256: string; type: Sniffed; ownerId: string; teamId: string | null; tags: string[]; description: string },
    uploadId: string | null,
  ): Promise<FileRow> {
    const now = iso();
    const row: FileRow = {
      id: newId(),
      name: meta.name,
      size: meta.size,
      sha256: meta.sha256,
      contentType: meta.type.mime,
      ownerId: meta.ownerId,
      teamId: meta.teamId,
      tags: meta.tags,
      description: meta.description,
      createdAt: now,
      updatedAt: now,
    };
    await storage.promote(file, row.id);
    try {
      await deps.unitOfWork(async (r, tx) => {
        await r.insertFile(row);
        if (uploadId) await r.finishUpload(uploadId, row.id, now);
        await deps.events.record(r.db, 'file.uploaded', { id: row.id, name: row.name, size: row.size, sha256: row.sha256, content_type: row.contentType });
        await deps.audit.record(r.db, {
          actor,
          action: 'file.uploaded',
          resourceType: 'file',
          resourceId: row.id,
          outcome: 'success',
          changes: { name: row.name, size: row.size },
        });
        tx.afterCommit(() => deps.events.relay());
      });
    } catch (err) {
      await storage.removeObject(row.id);
      throw err;
    }
    return row;
  }

  function metadataOf(actor: Actor, header: string | undefined, length: number) {
    const meta = parseUploadMetadata(header);
    const errors: FieldError[] = [];
    if (meta === null) {
      throw new ValidationError('UPLOAD_METADATA_INVALID', 'Upload-Metadata is malformed', [
        { path: 'headers.upload-metadata', message: 'must be comma-separated `key base64value` pairs' },
      ]);
    }
    const name = meta.filename ?? meta.name;
    if (!name) errors.push({ path: 'headers.upload-metadata.filename', message: 'is required' });
    const sha256 = meta.sha256?.toLowerCase() ?? null;
    if (sha256 !== null && !SHA256_PATTERN.test(sha256)) errors.push({ path: 'headers.upload-metadata.sha256', message: 'must be 64 hexadecimal digits' });
    const tags = (meta.tags ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tags.some((t) => t.length > 50 || /["\\]/.test(t)) || tags.length > 20) {
      errors.push({ path: 'headers.upload-metadata.tags', message: 'at most 20 tags of 50 characters, without quotes' });
    }
    const description = meta.description ?? '';
    if (description.length > 2000) errors.push({ path: 'headers.upload-metadata.description', message: 'must be at most 2000 characters' });
    const teamId = meta.team_id || null;
    if (teamId !== null && actor.permissions !== '*' && !actor.teamIds.includes(teamId)) {
      errors.push({ path: 'headers.upload-metadata.team_id', message: 'is not one of your teams' });
    }
    const clean = cleanName(name ?? '');
    if (name) {
      errors.push(
        ...checkDeclared(clean, length, policyOf(deps.settings()), 'headers.upload-metadata').map((e) =>
          e.path.endsWith('.length') ? { ...e, path: 'headers.upload-length' } : e,
        ),
      );
    }
    if (errors.length > 0) throw new ValidationError('UPLOAD_REFUSED', 'The upload is refused', errors);
    return { name: clean, sha256, tags, description, teamId };
  }

  async function reserveOrThrow(r: FilesRepository, ownerId: string, bytes: number): Promise<void> {
    const limit = deps.settings().quota_mb * MiB;
    if (!(await r.reserve(ownerId, bytes, limit))) throw new QuotaExceededError(bytes, limit);
  }

  return {
    /** tus creation: reserves `length` bytes of the owner's quota and an empty temporary file. */
    async create(actor: Actor, input: CreateUploadInput): Promise<UploadView> {
      requirePermission(actor, 'files:write');
      const meta = metadataOf(actor, input.metadata, input.length);
      const now = iso();
      const row: UploadRow = {
        id: newId(),
        name: meta.name,
        length: input.length,
        offset: 0,
        declaredSha256: meta.sha256,
        ownerId: ownerOf(actor),
        teamId: meta.teamId,
        tags: meta.tags,
        description: meta.description,
        fileId: null,
        expiresAt: expiry(),
        createdAt: now,
        updatedAt: now,
      };
      await deps.unitOfWork(async (r) => {
        await reserveOrThrow(r, row.ownerId, row.length);
        await r.insertUpload(row);
      });
      try {
        await storage.createUpload(row.id);
      } catch (err) {
        await discard(row.id);
        throw err;
      }
      return view(row);
    },

    async get(actor: Actor, id: string): Promise<UploadView> {
      requirePermission(actor, 'files:write');
      return view(await visibleUpload(actor, id));
    },

    /**
     * tus append: `offset` must be the upload's. Bytes received before a dropped connection are
     * kept (the offset moves by what reached the disk), so the client resumes from HEAD's offset.
     */
    async append(actor: Actor, id: string, offset: number, body: Readable): Promise<UploadView> {
      requirePermission(actor, 'files:write');
      const u = await visibleUpload(actor, id);
      if (u.fileId !== null || u.offset !== offset) {
        throw new ConflictError('UPLOAD_OFFSET_MISMATCH', `The upload is at offset ${u.offset}, not ${offset}`, [
          { path: 'headers.upload-offset', message: `must be ${u.offset}` },
        ]);
      }
      if (active.has(id)) throw new AppError('UPLOAD_LOCKED', 423, 'Another request is appending to this upload; retry after it ends');
      const entry: Active = { abort: new AbortController() };
      active.set(id, entry);
      try {
        return await appendLocked(actor, u, body, entry.abort.signal);
      } finally {
        active.delete(id);
      }
    },

    async terminate(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'files:write');
      const u = await visibleUpload(actor, id);
      const running = active.get(id);
      if (running) {
        running.abort.abort(new Error('terminated'));
        while (active.has(id)) await new Promise((r) => setTimeout(r, 10));
      }
      await discard(u.id);
    },

    /** A small upload in one multipart request: stored, then the quota is reserved for its real size. */
    async uploadWhole(
      actor: Actor,
      input: { filename: string; stream: Readable; tags: string[]; description: string; teamId: string | null; truncated: () => boolean },
    ): Promise<FileRow> {
      requirePermission(actor, 'files:write');
      if (input.teamId !== null && (!isUuid(input.teamId) || (actor.permissions !== '*' && !actor.teamIds.includes(input.teamId)))) {
        throw new ValidationError('UPLOAD_REFUSED', 'The upload is refused', [{ path: 'body.team_id', message: 'is not one of your teams' }]);
      }
      const name = cleanName(input.filename);
      const policy = policyOf(deps.settings());
      const declared = checkDeclared(name, 0, policy, 'body.file');
      if (declared.length > 0) {
        input.stream.resume();
        throw new ValidationError('UPLOAD_REFUSED', 'The upload is refused', declared);
      }
      const scratch = storage.scratchPath(newId());
      const hash = createHash('sha256');
      let size = 0;
      try {
        await pipeline(
          input.stream,
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              size += chunk.length;
              hash.update(chunk);
              cb(null, chunk);
            },
          }),
          fs.createWriteStream(scratch, { mode: 0o600, flags: 'wx' }),
        ).catch((err: unknown) => {
          throw streamFailure(err);
        });
        if (input.truncated() || size > policy.maxBytes) {
          throw new AppError('FILE_TOO_LARGE', 413, `Files are limited to ${policy.maxBytes} bytes`, [
            { path: 'body.file', message: `must be at most ${policy.maxBytes} bytes` },
          ]);
        }
        const type = await sniffFile(scratch, size);
        const refused = checkContent(name, type, policy);
        if (refused) throw new AppError('FILE_TYPE_REFUSED', 415, refused, [{ path: 'body.file', message: refused }]);
        const ownerId = ownerOf(actor);
        await deps.unitOfWork((r) => reserveOrThrow(r, ownerId, size));
        try {
          return await publish(
            actor,
            scratch,
            { name, size, sha256: hash.digest('hex'), type, ownerId, teamId: input.teamId, tags: input.tags, description: input.description },
            null,
          );
        } catch (err) {
          await repo.release(ownerId, size);
          throw err;
        }
      } finally {
        await fsp.rm(scratch, { force: true });
      }
    },

    /** A file Opsdeck made (a conversion's output) joins the library as the actor's, inside their quota. */
    async adopt(actor: Actor, file: string, meta: { name: string; teamId: string | null; tags: string[]; description: string }): Promise<FileView> {
      const size = (await fsp.stat(file)).size;
      const hash = createHash('sha256');
      for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
      const type = await sniffFile(file, size);
      const ownerId = ownerOf(actor);
      await deps.unitOfWork((r) => reserveOrThrow(r, ownerId, size));
      try {
        return fileView(await publish(actor, file, { ...meta, name: cleanName(meta.name), size, sha256: hash.digest('hex'), type, ownerId }, null));
      } catch (err) {
        await repo.release(ownerId, size);
        throw err;
      }
    },

    /** Deletes expired unfinished uploads (and finished ones' records), then temporary files no upload owns. */
    async sweep(): Promise<number> {
      let removed = 0;
      for (;;) {
        const ids = await repo.expiredUploads(iso(), 100);
        for (const id of ids) if (!active.has(id)) await discard(id);
        removed += ids.length;
        if (ids.length < 100) break;
      }
      const files = storage.leftovers();
      const known = await repo.uploadIds();
      for (const name of files.uploads) if (!known.has(name)) await fsp.rm(`${storage.uploadPath(name)}`, { force: true }).catch(() => undefined);
      return removed;
    },
    active: () => active.size,
  };

  async function appendLocked(actor: Actor, u: UploadRow, body: Readable, signal: AbortSignal): Promise<UploadView> {
    const file = storage.uploadPath(u.id);
    const hash = await hashAt(u);
    hashes.delete(u.id);
    await fsp.truncate(file, u.offset);
    let hashed = 0;
    let lastEvent = deps.now();
    const every = deps.progressEveryMs ?? 1000;
    const room = u.length - u.offset;
    let tooLong = false;
    const out = fs.createWriteStream(file, { flags: 'r+', start: u.offset });
    let failure: unknown = null;
    try {
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            if (hashed + chunk.length > room) {
              tooLong = true;
              cb(new Error('more bytes than Upload-Length'));
              return;
            }
            hashed += chunk.length;
            hash.update(chunk);
            if (deps.now() - lastEvent >= every) {
              lastEvent = deps.now();
              progress(u, u.offset + hashed).catch(deps.onError);
            }
            cb(null, chunk);
          },
        }),
        out,
        { signal },
      );
    } catch (err) {
      failure = err;
    }
    // NOTE: not events.once, which rejects on the 'error' a destroyed stream emits before 'close'.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    const written = out.bytesWritten;
    // Keep the running hash only when it covers exactly the bytes on disk.
    if (written === hashed) hashes.set(u.id, { hash, offset: u.offset + written });
    const to = u.offset + written;
    if (!(await repo.advanceUpload(u.id, u.offset, to, expiry(), iso()))) {
      hashes.delete(u.id);
      throw new NotFoundError('UPLOAD_NOT_FOUND', `Upload ${u.id} not found`);
    }
    const now: UploadRow = { ...u, offset: to };
    if (tooLong) {
      throw new AppError(
        'UPLOAD_TOO_LONG',
        413,
        `The upload is ${u.length} bytes long; more were sent`,
        [{ path: 'body', message: `at most ${room} more bytes` }],
        { 'upload-offset': String(to) },
      );
    }
    if (failure) throw streamFailure(failure);
    if (u.offset < Math.min(SNIFF_BYTES, u.length) && to >= Math.min(SNIFF_BYTES, u.length)) await refuseByContent(u, file, to);
    if (to === u.length) await complete(actor, now, file);
    if (to !== u.length && to - u.offset > 0) progress(now, to).catch(deps.onError);
    return view((await repo.getUpload(u.id)) ?? now);
  }

  async function refuseByContent(u: UploadRow, file: string, size: number): Promise<void> {
    const refused = checkContent(u.name, await sniffFile(file, size), policyOf(deps.settings()));
    if (!refused) return;
    await discard(u.id);
    throw new AppError('FILE_TYPE_REFUSED', 415, refused, [{ path: 'body', message: refused }]);
  }

  async function complete(actor: Actor, u: UploadRow, file: string): Promise<void> {
    const kept = hashes.get(u.id);
    hashes.delete(u.id);
    const sha256 = (kept?.offset === u.length ? kept.hash : await hashAt({ ...u, offset: u.length })).digest('hex');
    if (u.declaredSha256 !== null && u.declaredSha256 !== sha256) {
      await discard(u.id);
      throw new AppError('FILE_CHECKSUM_MISMATCH', 422, `The content's SHA-256 is ${sha256}, not the declared ${u.declaredSha256}`, [
        { path: 'headers.upload-metadata.sha256', message: 'does not match the content' },
      ]);
    }
    const type = await sniffFile(file, u.length);
    const refused = checkContent(u.name, type, policyOf(deps.settings()));
    if (refused) {
      await discard(u.id);
      throw new AppError('FILE_TYPE_REFUSED', 415, refused, [{ path: 'body', message: refused }]);
    }
    await publish(
      actor,
      file,
      { name: u.name, size: u.length, sha256, type, ownerId: u.ownerId, teamId: u.teamId, tags: u.tags, description: u.description },
      u.id,
    );
  }
}
export type UploadsService = ReturnType<typeof createUploadsService>;
