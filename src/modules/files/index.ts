/**
 * Public surface of the files module: resumable (tus 1.0) and multipart uploads, the file
 * library with safe downloads, and the image library (qemu-img disk images, firmware) with the
 * `qemu_convert` executor the jobs module runs. Other modules import from here only.
 */
import path from 'node:path';
import type { RoutePlugin } from '../../app.js';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import type { Actor } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import { createFilesRepository } from './files.repository.js';
import { filesRoutes } from './files.routes.js';
import { createFilesService } from './files.service.js';
import { createImagesService } from './images.service.js';
import { imagesRoutes } from './images.routes.js';
import { qemuConvertExecutor } from './qemu-convert.executor.js';
import type { ConvertFormat } from './qemu.js';
import { createLocalStorage } from './storage.js';
import { createUploadsService, type AuditPort, type EventsPort, type FilesSettings } from './uploads.service.js';
import { multipartLimit, uploadsRoutes } from './uploads.routes.js';

export type { FilesSettings } from './uploads.service.js';

export const FILES_PERMISSIONS = ['files:read', 'files:write', 'images:read', 'images:write'] as const;

export interface FilesModuleDeps {
  db: Db;
  /** The data directory; files live under `<dataDir>/files`. */
  dataDir: string;
  settings: () => FilesSettings;
  audit: AuditPort;
  events: EventsPort;
  logger: Logger;
  /** Starts a `qemu_convert` run as the actor (jobs' createRun, wired in modules.ts; called after start-up only). */
  startConvert: (actor: Actor, params: { image_id: string; format: ConvertFormat }) => Promise<string>;
  now?: () => number;
  /** Longest `qemu-img info` may take (default 30 s). */
  qemuTimeoutMs?: number;
  /** How often expired uploads are swept (default 5 min; 0: never). */
  sweepEveryMs?: number;
}

export function createFilesModule(deps: FilesModuleDeps) {
  const now = deps.now ?? Date.now;
  const onError = (err: unknown) => deps.logger.error({ err }, 'files after-commit step failed');
  const repo = createFilesRepository(deps.db);
  const unitOfWork = createUnitOfWork(deps.db, createFilesRepository, onError);
  const storage = createLocalStorage(path.join(deps.dataDir, 'files'));
  const common = { repo, unitOfWork, storage, audit: deps.audit, events: deps.events, now };
  const uploads = createUploadsService({ ...common, settings: deps.settings, onError });
  const files = createFilesService(common);
  const images = createImagesService({
    ...common,
    files,
    uploads,
    settings: deps.settings,
    qemuTimeoutMs: deps.qemuTimeoutMs ?? 30_000,
    startConvert: deps.startConvert,
  });
  const plugins: RoutePlugin[] = [
    { prefix: '/api/v1', plugin: uploadsRoutes(uploads, () => multipartLimit(deps.settings().max_upload_mb)) },
    { prefix: '/api/v1', plugin: filesRoutes(files) },
    { prefix: '/api/v1', plugin: imagesRoutes(images) },
  ];
  let timer: NodeJS.Timeout | undefined;
  return {
    uploads,
    files,
    images,
    storage,
    plugins,
    executors: [qemuConvertExecutor(() => images)],
    permissions: FILES_PERMISSIONS,
    /** The audit list hides entries about other teams' files and images. */
    teamScoped: { file: (ids: readonly string[]) => repo.teamsOf('files', ids), image: (ids: readonly string[]) => repo.teamsOf('images', ids) },
    /** Sweeps expired uploads and orphaned temporary files now and then on its interval. */
    start(): void {
      const every = deps.sweepEveryMs ?? 300_000;
      const sweep = () => void uploads.sweep().catch((err: unknown) => deps.logger.warn({ err }, 'upload sweep failed'));
      sweep();
      if (every > 0) timer = setInterval(sweep, every).unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
    },
  };
}
export type FilesModule = ReturnType<typeof createFilesModule>;
