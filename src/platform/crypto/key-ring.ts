import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../config.js';
import { ensurePrivateDir } from '../private-files.js';

/**
 * The master key ring of the credential vault. Keys are `keyid:base64(32 bytes)`, newest last:
 * new data keys are wrapped under the newest, older ones stay readable until `opsdeck keys
 * rotate` has re-wrapped every data key, after which a retired key can be removed.
 */
export interface MasterKey {
  id: string;
  key: Buffer;
}

export interface KeyRing {
  /** The newest key: every new or re-wrapped data key is wrapped under it. */
  readonly current: MasterKey;
  /** A key by id, undefined when it is not (or no longer) in the ring. */
  get(id: string): MasterKey | undefined;
  readonly ids: readonly string[];
  /** Where the keys came from: the environment or a key file in the data directory. */
  readonly source: 'env' | 'file';
}

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const KEY_FILE_NAME = 'master.key';

/** Parses `keyid:base64` entries (a bare base64 key is `k1`); throws on duplicates or bad keys. */
export function createKeyRing(entries: readonly string[], source: 'env' | 'file' = 'env'): KeyRing {
  if (entries.length === 0) throw new Error('the master key ring is empty');
  const keys = new Map<string, MasterKey>();
  for (const entry of entries) {
    const sep = entry.indexOf(':');
    const id = sep >= 0 ? entry.slice(0, sep) : 'k1';
    const key = Buffer.from(sep >= 0 ? entry.slice(sep + 1) : entry, 'base64');
    // NOTE: the message names the key id only; a key value must never reach an error or a log.
    if (!KEY_ID_PATTERN.test(id) || key.length !== 32) throw new Error(`master key '${KEY_ID_PATTERN.test(id) ? id : '?'}' is not keyid:base64 of 32 bytes`);
    if (keys.has(id)) throw new Error(`master key id '${id}' appears twice`);
    keys.set(id, { id, key });
  }
  const ordered = [...keys.values()];
  return Object.freeze({ current: ordered[ordered.length - 1]!, get: (id: string) => keys.get(id), ids: Object.freeze(ordered.map((k) => k.id)), source });
}

/** A fresh `keyid:base64` entry; the id is the UTC time to the millisecond, so ids sort by age. */
export function generateMasterKeyEntry(now = new Date()): string {
  const id = `k${now
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 17)}`;
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export interface LoadKeyRingOptions {
  /** `OPSDECK_MASTER_KEY` entries, if configured. */
  configured: readonly string[] | undefined;
  dataDir: string;
  mode: 'single' | 'cluster';
  logger: { warn(obj: object, msg: string): void };
}

function readKeyFile(file: string): string[] {
  const mode = fs.statSync(file).mode & 0o777;
  // NOTE: refused, not warned about: whoever can read this file can decrypt every credential.
  if ((mode & 0o077) !== 0) throw new ConfigError([`the master key file ${file} is open to other users (mode ${mode.toString(8)}): run chmod 600 ${file}`]);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/**
 * The key ring for this process: `OPSDECK_MASTER_KEY` when set; otherwise, on a single node,
 * the data directory's key file, generated (0600) with a warning on first start. A cluster
 * must configure the key: nodes with different generated keys could not read each other's
 * credentials.
 */
export function loadKeyRing(options: LoadKeyRingOptions): KeyRing {
  if (options.configured && options.configured.length > 0) return createKeyRing(options.configured, 'env');
  if (options.mode === 'cluster') {
    throw new ConfigError([
      'OPSDECK_MASTER_KEY is required in cluster mode (OPSDECK_REDIS_URL is set): every node must share the vault master key; create one with `opsdeck keys generate`',
    ]);
  }
  const file = keyFilePath(options.dataDir);
  if (!fs.existsSync(file)) {
    ensurePrivateDir(options.dataDir);
    try {
      // 'wx' fails if another process created it meanwhile; then that process's key is used.
      fs.writeFileSync(
        file,
        `# Opsdeck vault master keys, newest last. Back this file up: without it the credentials are unrecoverable.\n${generateMasterKeyEntry()}\n`,
        { mode: 0o600, flag: 'wx' },
      );
      options.logger.warn(
        { file },
        'OPSDECK_MASTER_KEY is not set: generated a vault master key file; back it up, without it stored credentials cannot be recovered',
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return createKeyRing(readKeyFile(file), 'file');
}

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, KEY_FILE_NAME);
}

/** Appends a new key to the data directory's key file (single node without OPSDECK_MASTER_KEY). */
export function appendKeyToFile(dataDir: string, entry: string): void {
  fs.appendFileSync(keyFilePath(dataDir), `${entry}\n`, { mode: 0o600 });
}
