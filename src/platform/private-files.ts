import fs from 'node:fs';

/**
 * The data directory holds the database, the master key and the JWT secret: only the
 * service's own user may enter it. Created 0700; an existing directory of ours that others can
 * enter is tightened (it was created 0755 before).
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dir);
  if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) fs.chmodSync(dir, 0o700);
}

/**
 * A file only the service's user may read or write: created 0600 when missing (SQLite gives its
 * -wal and -shm files the database file's mode), tightened when it is ours and looser.
 */
export function ensurePrivateFile(file: string): void {
  try {
    fs.writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(f);
    } catch {
      continue;
    }
    if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) fs.chmodSync(f, 0o600);
  }
}
