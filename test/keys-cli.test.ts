import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOpsdeck } from './helpers/process.js';
import { TEST_JWT_SECRET } from './helpers/server.js';
import { redisTestUrl } from './helpers/redis.js';
import { createDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { createKeyRing, KEY_FILE_NAME } from '../src/platform/crypto/index.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createDomainEvents } from '../src/platform/events/domain-events.js';
import { createMemoryBus } from '../src/platform/bus/index.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { createCredentialsModule } from '../src/modules/credentials/index.js';

const PASSWORD = 'Cli-Rotation-Pw-3141';
const keyFileEntries = (dir: string) =>
  fs
    .readFileSync(path.join(dir, KEY_FILE_NAME), 'utf8')
    .split('\n')
    .filter((l) => /^k\w*:/.test(l));

/** A vault over the data dir's SQLite file, with a given key ring (audit is not under test here). */
async function withVault<T>(dataDir: string, ring: string[], fn: (vault: ReturnType<typeof createCredentialsModule>) => Promise<T>): Promise<T> {
  const database = createDatabase({ dialect: 'sqlite', sqlitePath: path.join(dataDir, 'opsdeck.db') });
  await migrateToLatest(database.db);
  const logger = createLogger({ level: 'silent' });
  const events = createDomainEvents({ db: database.db, bus: createMemoryBus(), logger });
  try {
    return await fn(
      createCredentialsModule({
        db: database.db,
        keyRing: createKeyRing(ring),
        events,
        audit: { record: async () => undefined },
        stepUp: { require: async () => undefined },
        logger,
      }),
    );
  } finally {
    await database.destroy();
  }
}

describe('opsdeck keys', () => {
  it('generates a key file, adds a key, rotates every record onto it, and decrypts after the old key is removed', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-keys-'));
    const status = runOpsdeck(['keys', 'status'], { OPSDECK_DATA_DIR: dataDir });
    expect(await status.exited, status.stderr()).toBe(0);
    expect(status.stdout()).toMatch(/Key ring \(newest last\): k\d{17}\nRecords per master key: \(none\)/);
    expect(fs.statSync(path.join(dataDir, KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
    const [oldKey] = keyFileEntries(dataDir);
    const id = await withVault(
      dataDir,
      [oldKey!],
      async (v) => (await v.service.create(SYSTEM_ACTOR, { name: 'r1', type: 'basic', username: 'u', password: PASSWORD })).id,
    );

    const generate = runOpsdeck(['keys', 'generate'], { OPSDECK_DATA_DIR: dataDir });
    expect(await generate.exited, generate.stderr()).toBe(0);
    const entries = keyFileEntries(dataDir);
    expect(entries).toHaveLength(2);
    const newId = entries[1]!.split(':')[0]!;
    expect(generate.stdout()).toContain(`Added master key ${newId}`);
    expect(generate.stdout()).not.toContain(entries[1]!.split(':')[1]!);

    const rotate = runOpsdeck(['keys', 'rotate'], { OPSDECK_DATA_DIR: dataDir });
    expect(await rotate.exited, rotate.stderr()).toBe(0);
    expect(rotate.stdout()).toContain(
      `Re-wrapped data keys under master key ${newId}:\n  credentials: 1 re-wrapped, 0 failed\n  secrets: 0 re-wrapped, 0 failed`,
    );
    expect(rotate.stdout()).toContain(`No record uses ${oldKey!.split(':')[0]}`);
    // The rotation is in the audit log, as the system, with its counts and no key material.
    const database = createDatabase({ dialect: 'sqlite', sqlitePath: path.join(dataDir, 'opsdeck.db') });
    const audited = (await database.db
      .selectFrom('auditLog' as never)
      .selectAll()
      .where('action' as never, '=', 'master_key.rotated' as never)
      .execute()) as Record<string, unknown>[];
    await database.destroy();
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ actorKind: 'system', resourceType: 'master_key', resourceId: newId, outcome: 'success' });
    expect(JSON.parse(audited[0]!.changes as string)).toEqual({ rewrapped: 1, failed: 0, failed_ids: [] });
    expect(JSON.stringify(audited[0])).not.toContain(entries[1]!.split(':')[1]!);

    fs.writeFileSync(path.join(dataDir, KEY_FILE_NAME), `${entries[1]}\n`, { mode: 0o600 });
    const plain = await withVault(dataDir, [entries[1]!], (v) => v.resolve(id, 'after rotation', null));
    expect(plain.secrets).toEqual({ password: PASSWORD });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('prints a new key for OPSDECK_MASTER_KEY when keys come from the environment', async () => {
    const p = runOpsdeck(['keys', 'generate'], {
      OPSDECK_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-keys-')),
      OPSDECK_MASTER_KEY: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    });
    expect(await p.exited).toBe(0);
    expect(createKeyRing([p.stdout().trim()]).current.id).toMatch(/^k\d{17}$/);
    expect(p.stderr()).toMatch(/Append it to OPSDECK_MASTER_KEY/);
  });

  it('refuses to start a cluster node without OPSDECK_MASTER_KEY, saying why', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-keys-'));
    const p = runOpsdeck(['serve'], { OPSDECK_DATA_DIR: dataDir, OPSDECK_REDIS_URL: redisTestUrl(), OPSDECK_JWT_SECRET: TEST_JWT_SECRET, OPSDECK_PORT: '0' });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/OPSDECK_MASTER_KEY is required in cluster mode/);
    expect(fs.existsSync(path.join(dataDir, KEY_FILE_NAME))).toBe(false);
  });

  it('rejects duplicate key ids in OPSDECK_MASTER_KEY without echoing the keys', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const p = runOpsdeck(['config'], { OPSDECK_MASTER_KEY: `a:${key},a:${key}` });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/OPSDECK_MASTER_KEY=.*distinct key ids/);
    expect(p.stderr()).not.toContain(key);
  });
});
