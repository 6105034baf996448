/**
 * Local file storage under the data directory: `files/objects/<id>` (finished files) and
 * `files/uploads/<id>` (tus uploads in progress). Directories 0700, files 0600. Paths are
 * built from ids only (UUIDs), never from a client's name.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir } from '../../platform/private-files.js';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkedId(id: string): string {
  if (!ID.test(id)) throw new Error(`not a storage id: ${id}`);
  return id;
}

/** The local store; `root` is `<data dir>/files`. */
export function createLocalStorage(root: string) {
  const objects = path.join(root, 'objects');
  const uploads = path.join(root, 'uploads');
  const scratch = path.join(root, 'scratch');
  for (const dir of [root, objects, uploads, scratch]) ensurePrivateDir(dir);
  return {
    root,
    objectPath: (id: string) => path.join(objects, checkedId(id)),
    uploadPath: (id: string) => path.join(uploads, checkedId(id)),
    /** A path for a tool's output (qemu-img convert) before it becomes an object. */
    scratchPath: (id: string) => path.join(scratch, checkedId(id)),
    /** Creates an empty upload file (0600); fails if it exists. */
    async createUpload(id: string): Promise<void> {
      const handle = await fsp.open(path.join(uploads, checkedId(id)), 'wx', 0o600);
      await handle.close();
    },
    /** Moves a finished upload or scratch file into the objects (same file system: a rename). */
    async promote(from: string, id: string): Promise<void> {
      await fsp.chmod(from, 0o600);
      await fsp.rename(from, path.join(objects, checkedId(id)));
    },
    async removeObject(id: string): Promise<void> {
      await fsp.rm(path.join(objects, checkedId(id)), { force: true });
    },
    async removeUpload(id: string): Promise<void> {
      await fsp.rm(path.join(uploads, checkedId(id)), { force: true });
    },
    async size(file: string): Promise<number | null> {
      try {
        return (await fsp.stat(file)).size;
      } catch {
        return null;
      }
    },
    /** The upload and scratch file names present (for the orphan sweep). */
    leftovers(): { uploads: string[]; scratch: string[] } {
      return { uploads: fs.readdirSync(uploads), scratch: fs.readdirSync(scratch) };
    },
  };
}
export type LocalStorage = ReturnType<typeof createLocalStorage>;
