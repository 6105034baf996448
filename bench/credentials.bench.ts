/**
 * Credential vault costs: envelope encrypt/decrypt per credential (crypto alone, and through the
 * service with its database writes and audit), and `keys rotate` over 10,000 credentials on
 * SQLite and PostgreSQL. The peer figure is a plain primary-key UPDATE per row, the floor any
 * rotation that touches every row must pay.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDatabase, type Database, type Dialect } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { createEnvelope, createKeyRing } from '../src/platform/crypto/index.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createDomainEvents } from '../src/platform/events/domain-events.js';
import { createMemoryBus } from '../src/platform/bus/index.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { createCredentialsModule } from '../src/modules/credentials/index.js';
import { createPgDatabase } from '../test/helpers/db.js';
import { ratio } from './lib.js';

const N = Number(process.env.BENCH_CREDENTIALS ?? 10_000);
const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;
const out = (line: string) => process.stdout.write(`${line}\n`);
const perOp = (ms: number, n: number) => `${((ms * 1000) / n).toFixed(1)} µs`;

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

// 1. Crypto alone: an ssh credential with password + enable secret + an OpenSSH-sized key.
{
  const envelope = createEnvelope(createKeyRing([k1]));
  const fields = { password: 'x'.repeat(20), enable_secret: 'y'.repeat(16), private_key: 'z'.repeat(2600) };
  const ref = { kind: 'credential', id: '0190a0a0-0000-7000-8000-000000000001', type: 'ssh' };
  const reps = 20_000;
  for (let i = 0; i < 1000; i++) {
    const warm = envelope.seal(ref, fields);
    envelope.open(ref, warm, warm.sealed);
  }
  const sealed = envelope.seal(ref, fields);
  const [, sealMs] = time(() => {
    for (let i = 0; i < reps; i++) envelope.seal(ref, fields);
  });
  const [, openMs] = time(() => {
    for (let i = 0; i < reps; i++) envelope.open(ref, sealed, sealed.sealed);
  });
  const both = createEnvelope(createKeyRing([k1, k2]));
  const [, rewrapMs] = time(() => {
    for (let i = 0; i < reps; i++) both.rewrap(ref, sealed);
  });
  out(`\nenvelope crypto (3 fields, ${reps} reps)`);
  out(`  encrypt (new data key, wrap, seal 3 fields)  ${perOp(sealMs, reps)} per credential`);
  out(`  decrypt (unwrap, open 3 fields)              ${perOp(openMs, reps)} per credential`);
  out(`  re-wrap data key only (rotation)             ${perOp(rewrapMs, reps)} per credential`);
}

async function open(dialect: Dialect): Promise<{ database: Database; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-vault-'));
    const database = createDatabase({ dialect, sqlitePath: path.join(dir, 'opsdeck.db') });
    return {
      database,
      drop: async () => {
        await database.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const pgdb = await createPgDatabase();
  const database = createDatabase({ dialect, url: pgdb.url, poolSize: 5 });
  return {
    database,
    drop: async () => {
      await database.destroy();
      await pgdb.drop();
    },
  };
}

// 2. Through the service, and rotation of N credentials.
for (const dialect of ['sqlite', 'postgres'] as const) {
  let db: Awaited<ReturnType<typeof open>>;
  try {
    db = await open(dialect);
  } catch (err) {
    out(`\n${dialect}: skipped (${err instanceof Error ? err.message : String(err)})`);
    continue;
  }
  try {
    await migrateToLatest(db.database.db);
    const logger = createLogger({ level: 'silent' });
    const events = createDomainEvents({ db: db.database.db, bus: createMemoryBus(), logger });
    const vault = (ring: string[]) =>
      createCredentialsModule({
        db: db.database.db,
        keyRing: createKeyRing(ring),
        events,
        audit: { record: async () => undefined },
        stepUp: { require: async () => undefined },
        logger,
      });
    const v1 = vault([k1]);
    const ids: string[] = [];
    const [, createMs] = await timeAsync(async () => {
      for (let i = 0; i < N; i++) {
        ids.push(
          (
            await v1.service.create(SYSTEM_ACTOR, {
              name: `dev-${i}`,
              type: 'ssh',
              username: 'netops',
              password: `pw-${i}-${'x'.repeat(12)}`,
              enable_secret: `en-${i}`,
            })
          ).id,
        );
      }
    });
    const sample = ids.slice(0, 2000);
    const [, resolveMs] = await timeAsync(async () => {
      for (const id of sample) await v1.resolve(id, 'bench', null);
    });
    const [report, rotateMs] = await timeAsync(() => vault([k1, k2]).keys.rotate());
    if (report.credentials.rewrapped !== N || report.credentials.failed !== 0) throw new Error(`rotation incomplete: ${JSON.stringify(report.credentials)}`);
    const check = await vault([k2]).resolve(ids[N - 1]!, 'bench', null);
    if (check.secrets.password !== `pw-${N - 1}-${'x'.repeat(12)}`) throw new Error('value changed by rotation');
    // Peer: the same N rows updated by primary key in batches of 500, with no crypto at all.
    const raw = db.database.db.withTables<{ credentials: { id: string; updatedBy: string } }>();
    const [, updateMs] = await timeAsync(async () => {
      for (let i = 0; i < N; i += 500) {
        await raw.transaction().execute(async (trx) => {
          for (const id of ids.slice(i, i + 500)) await trx.updateTable('credentials').set({ updatedBy: 'bench' }).where('id', '=', id).execute();
        });
      }
    });
    out(`\n${dialect}: ${N} ssh credentials`);
    out(`  create via service (seal + insert + audit tx)  ${perOp(createMs, N)} per credential`);
    out(`  resolve via service (decrypt + access log tx)  ${perOp(resolveMs, sample.length)} per credential`);
    out(`  keys rotate, ${N} credentials                   ${(rotateMs / 1000).toFixed(2)} s (${perOp(rotateMs, N)} per credential)`);
    out(`  peer: plain UPDATE by id, same batches          ${(updateMs / 1000).toFixed(2)} s → rotation costs ${ratio(rotateMs, updateMs)} the bare updates`);
  } finally {
    await db.drop();
  }
}
