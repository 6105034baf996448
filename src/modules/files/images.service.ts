/**
 * Images registered from library files: disk images inspected with `qemu-img info` (a backing
 * file is refused unless the `files.allow_backing_files` setting allows it) and converted by the
 * `qemu_convert` job; firmware with vendor/model/version, checked against the vendor's SHA-256.
 */
import fsp from 'node:fs/promises';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import { parseSort } from '../../platform/http/pagination.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import { canSee, ownerOf, visibilityOf, type FilesRepository, type ImageRow } from './files.repository.js';
import type { FilesService, FileView } from './files.service.js';
import { qemuConvert, qemuInfo, QemuError, type ConvertFormat } from './qemu.js';
import type { LocalStorage } from './storage.js';
import type { AuditPort, EventsPort, FilesSettings, UploadsService } from './uploads.service.js';

export interface ImageView {
  id: string;
  file_id: string;
  kind: 'disk' | 'firmware';
  format: string | null;
  virtual_size: number | null;
  backing_file: string | null;
  vendor: string | null;
  model: string | null;
  version: string | null;
  vendor_sha256: string | null;
  owner_id: string;
  team_id: string | null;
  created_at: string;
  updated_at: string;
}

const imageView = (i: ImageRow): ImageView => ({
  id: i.id,
  file_id: i.fileId,
  kind: i.kind as ImageView['kind'],
  format: i.format,
  virtual_size: i.virtualSize,
  backing_file: i.backingFile,
  vendor: i.vendor,
  model: i.model,
  version: i.version,
  vendor_sha256: i.vendorSha256,
  owner_id: i.ownerId,
  team_id: i.teamId,
  created_at: i.createdAt,
  updated_at: i.updatedAt,
});

/** Content types (by magic bytes) a disk image may have; `application/octet-stream` covers raw images. */
const DISK_TYPES = ['application/x-qemu-disk', 'application/x-vmdk', 'application/x-iso9660-image', 'application/octet-stream'];

export type RegisterImageInput =
  | { kind: 'disk'; file_id: string }
  | { kind: 'firmware'; file_id: string; vendor: string; model: string; version: string; vendor_sha256?: string };

export interface ImagesServiceDeps {
  repo: FilesRepository;
  unitOfWork: UnitOfWork<FilesRepository>;
  files: FilesService;
  uploads: UploadsService;
  storage: LocalStorage;
  settings: () => FilesSettings;
  audit: AuditPort;
  events: EventsPort;
  now: () => number;
  qemuTimeoutMs: number;
  /** Starts a `qemu_convert` job run as the actor (the jobs module's createRun, wired in modules.ts); answers the run id. */
  startConvert: (actor: Actor, params: { image_id: string; format: ConvertFormat }) => Promise<string>;
}

export function createImagesService(deps: ImagesServiceDeps) {
  const { repo } = deps;
  const iso = () => new Date(deps.now()).toISOString();
  async function visible(actor: Actor, id: string): Promise<ImageRow> {
    const i = await repo.getImage(id);
    if (!i || !canSee(visibilityOf(actor), i)) throw new NotFoundError('IMAGE_NOT_FOUND', `Image ${id} not found`);
    return i;
  }
  async function inspect(file: string) {
    try {
      return await qemuInfo(file, deps.qemuTimeoutMs);
    } catch (err) {
      if (err instanceof QemuError) {
        throw new ValidationError('IMAGE_UNREADABLE', 'qemu-img cannot read this file as a disk image', [{ path: 'body.file_id', message: err.message }]);
      }
      throw err;
    }
  }
  async function insert(actor: Actor, row: ImageRow, action: string): Promise<ImageView> {
    await deps.unitOfWork(async (r, tx) => {
      if (await r.imageOfFile(row.fileId)) {
        throw new ConflictError('IMAGE_EXISTS', 'This file is already registered as an image', [{ path: 'body.file_id', message: 'already an image' }]);
      }
      await r.insertImage(row);
      await deps.events.record(r.db, 'image.registered', { id: row.id, file_id: row.fileId, kind: row.kind, format: row.format });
      await deps.audit.record(r.db, {
        actor,
        action,
        resourceType: 'image',
        resourceId: row.id,
        outcome: 'success',
        changes: { file_id: row.fileId, kind: row.kind },
      });
      tx.afterCommit(() => deps.events.relay());
    });
    return imageView(row);
  }
  function base(actor: Actor, file: FileView, kind: ImageRow['kind']): ImageRow {
    const now = iso();
    return {
      id: newId(),
      fileId: file.id,
      kind,
      format: null,
      virtualSize: null,
      backingFile: null,
      vendor: null,
      model: null,
      version: null,
      vendorSha256: null,
      ownerId: ownerOf(actor),
      teamId: file.team_id,
      createdAt: now,
      updatedAt: now,
    };
  }
  return {
    async register(actor: Actor, input: RegisterImageInput): Promise<ImageView> {
      requirePermission(actor, 'images:write');
      const file = await deps.files.get(actor, input.file_id).catch(() => {
        throw new ValidationError('IMAGE_INVALID', 'The image is invalid', [{ path: 'body.file_id', message: 'no such file' }]);
      });
      const row = base(actor, file, input.kind);
      if (input.kind === 'firmware') {
        const vendorSha = input.vendor_sha256?.toLowerCase() ?? null;
        if (vendorSha !== null && vendorSha !== file.sha256) {
          throw new ValidationError('IMAGE_CHECKSUM_MISMATCH', "The file's SHA-256 differs from the vendor's", [
            { path: 'body.vendor_sha256', message: `the file's SHA-256 is ${file.sha256}` },
          ]);
        }
        return insert(actor, { ...row, vendor: input.vendor, model: input.model, version: input.version, vendorSha256: vendorSha }, 'image.registered');
      }
      if (!DISK_TYPES.includes(file.content_type)) {
        throw new ValidationError('IMAGE_NOT_DISK', `A ${file.content_type} file is no disk image`, [
          { path: 'body.file_id', message: `content is ${file.content_type}` },
        ]);
      }
      const { path } = await deps.files.pathOf(actor, file.id);
      const info = await inspect(path);
      if (info.backingFile !== null && !deps.settings().allow_backing_files) {
        throw new ValidationError('IMAGE_BACKING_FILE_REFUSED', 'Disk images with a backing file are refused (setting files.allow_backing_files)', [
          { path: 'body.file_id', message: `names the backing file '${info.backingFile.slice(0, 200)}'` },
        ]);
      }
      return insert(actor, { ...row, format: info.format, virtualSize: info.virtualSize, backingFile: info.backingFile }, 'image.registered');
    },
    async list(actor: Actor, q: { limit?: number; cursor?: string; kind?: 'disk' | 'firmware' }) {
      requirePermission(actor, 'images:read');
      const keys = parseSort(undefined, { created_at: 'createdAt' }, 'id', '-created_at', ['created_at']);
      const page = await repo.listImages(visibilityOf(actor), keys, q.limit ?? 50, q.cursor, q.kind);
      return { items: page.items.map(imageView), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, id: string): Promise<ImageView> {
      requirePermission(actor, 'images:read');
      return imageView(await visible(actor, id));
    },
    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'images:write');
      await visible(actor, id);
      await deps.unitOfWork(async (r, tx) => {
        await r.deleteImage(id);
        await deps.events.record(r.db, 'image.deleted', { id });
        await deps.audit.record(r.db, { actor, action: 'image.deleted', resourceType: 'image', resourceId: id, outcome: 'success' });
        tx.afterCommit(() => deps.events.relay());
      });
    },
    /** Starts a conversion job run; 422 for a firmware image or one already in the format. */
    async startConvert(actor: Actor, id: string, format: ConvertFormat): Promise<{ run_id: string }> {
      requirePermission(actor, 'images:write');
      const image = await visible(actor, id);
      if (image.kind !== 'disk') {
        throw new ValidationError('IMAGE_NOT_DISK', 'Only disk images convert', [{ path: 'params.id', message: 'is a firmware image' }]);
      }
      if (image.format === format) {
        throw new ValidationError('IMAGE_SAME_FORMAT', `The image is already ${format}`, [{ path: 'body.format', message: `is the image's format` }]);
      }
      return { run_id: await deps.startConvert(actor, { image_id: id, format }) };
    },
    /**
     * The conversion itself (the `qemu_convert` executor), as the run's initiator checked now:
     * into a scratch file, then a new library file (quota reserved) and a new disk image.
     */
    async convert(actor: Actor, id: string, format: ConvertFormat, ctx: { signal: AbortSignal; onProgress: (percent: number) => void }): Promise<ImageView> {
      requirePermission(actor, 'images:write');
      const image = await visible(actor, id);
      if (image.kind !== 'disk' || image.format === null) throw new ValidationError('IMAGE_NOT_DISK', 'Only disk images convert', []);
      const { row: source, path } = await deps.files.pathOf(actor, image.fileId);
      const dst = deps.storage.scratchPath(newId());
      try {
        await qemuConvert({ src: path, from: image.format, dst, to: format, signal: ctx.signal, onProgress: ctx.onProgress });
        const info = await inspect(dst);
        const stem = source.name.replace(/\.[^.]*$/, '');
        const file = await deps.uploads.adopt(actor, dst, {
          name: `${stem}.${format === 'raw' ? 'img' : format}`,
          teamId: source.teamId,
          tags: source.tags,
          description: `Converted from ${source.name} (${image.format})`,
        });
        return await insert(actor, { ...base(actor, file, 'disk'), format: info.format, virtualSize: info.virtualSize }, 'image.converted');
      } finally {
        await fsp.rm(dst, { force: true });
      }
    },
  };
}
export type ImagesService = ReturnType<typeof createImagesService>;
