import type { Db } from '../../platform/db/database.js';
import type { Envelope, WrappedKey } from '../../platform/crypto/index.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import type { AuditRecorder } from './credentials.ports.js';
import { createCredentialsRepository } from './credentials.repository.js';
import { createSecretsRepository } from './secrets.repository.js';
import { totpKeyUsage, totpRotationTables } from '../identity/index.js';
import { webhookKeyUsage, webhookRotationTable } from '../events/index.js';

/**
 * `opsdeck keys rotate` and `keys status`: re-wraps every record's data key under the newest
 * master key. Secret fields are never decrypted, so the cost is one small AES-GCM unwrap and
 * wrap per record. Each swap is conditional on the old wrapped key, so a record updated
 * meanwhile (already under the newest key) is left alone.
 */
export interface TableRotation {
  rewrapped: number;
  /** Records whose data key could not be unwrapped: tampered, or under a key no longer configured. */
  failed: number;
  failed_ids: string[];
}

export interface RotationReport {
  key_id: string;
  credentials: TableRotation;
  secrets: TableRotation;
  /** Users' TOTP seeds (identity), enabled and pending. */
  two_factor: TableRotation;
  /** Outbound webhooks' signing secrets (events). */
  webhooks: TableRotation;
  /** Records per master key id after the rotation; only `key_id` should remain. */
  usage: Record<string, number>;
}

const FIRST_ID = '00000000-0000-0000-0000-000000000000';
const MAX_FAILED_IDS = 50;

type Sealed = { id: string; type?: string } & WrappedKey;
interface Table {
  kind: 'credential' | 'secret' | 'user' | 'webhook';
  batch(keyId: string, afterId: string, limit: number): Promise<Sealed[]>;
  replace(db: Db, id: string, old: WrappedKey, next: WrappedKey): Promise<boolean>;
}

async function rotateTable(db: Db, envelope: Envelope, table: Table, batchSize: number): Promise<TableRotation> {
  const out: TableRotation = { rewrapped: 0, failed: 0, failed_ids: [] };
  const current = envelope.ring.current.id;
  let after = FIRST_ID;
  for (;;) {
    const rows = await table.batch(current, after, batchSize);
    if (rows.length === 0) return out;
    after = rows[rows.length - 1]!.id;
    const next: { row: Sealed; wrapped: WrappedKey }[] = [];
    for (const row of rows) {
      try {
        const wrapped = envelope.rewrap({ kind: table.kind, id: row.id, type: row.type ?? 'value' }, row);
        if (wrapped) next.push({ row, wrapped });
      } catch {
        out.failed++;
        if (out.failed_ids.length < MAX_FAILED_IDS) out.failed_ids.push(row.id);
      }
    }
    // One transaction per batch: 10,000 records are 20 commits, not 10,000.
    out.rewrapped += await db.transaction().execute(async (trx) => {
      let n = 0;
      for (const { row, wrapped } of next) if (await table.replace(trx, row.id, row, wrapped)) n++;
      return n;
    });
  }
}

/** Records per master key id, across credentials and secrets. */
export async function keyUsage(db: Db): Promise<Record<string, number>> {
  const usage: Record<string, number> = {};
  for (const { keyId, n } of [
    ...(await createCredentialsRepository(db).countByKey()),
    ...(await createSecretsRepository(db).countByKey()),
    ...(await totpKeyUsage(db)),
    ...(await webhookKeyUsage(db)),
  ]) {
    usage[keyId] = (usage[keyId] ?? 0) + n;
  }
  return usage;
}

/** Re-wraps every data key not under the newest master key. */
export async function rotateMasterKey(
  deps: { db: Db; envelope: Envelope; audit: AuditRecorder },
  options: { batchSize?: number } = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 500;
  const credentials = createCredentialsRepository(deps.db);
  const secrets = createSecretsRepository(deps.db);
  const report: RotationReport = {
    key_id: deps.envelope.ring.current.id,
    credentials: await rotateTable(
      deps.db,
      deps.envelope,
      {
        kind: 'credential',
        batch: (k, a, l) => credentials.sealedNotUnder(k, a, l),
        replace: (trx, id, o, n) => createCredentialsRepository(trx).replaceWrap(id, o, n),
      },
      batchSize,
    ),
    secrets: await rotateTable(
      deps.db,
      deps.envelope,
      { kind: 'secret', batch: (k, a, l) => secrets.sealedNotUnder(k, a, l), replace: (trx, id, o, n) => createSecretsRepository(trx).replaceWrap(id, o, n) },
      batchSize,
    ),
    two_factor: { rewrapped: 0, failed: 0, failed_ids: [] },
    webhooks: await rotateTable(deps.db, deps.envelope, webhookRotationTable(deps.db), batchSize),
    usage: {},
  };
  for (const table of totpRotationTables(deps.db)) {
    const r = await rotateTable(deps.db, deps.envelope, table, batchSize);
    report.two_factor.rewrapped += r.rewrapped;
    report.two_factor.failed += r.failed;
    report.two_factor.failed_ids.push(...r.failed_ids.slice(0, MAX_FAILED_IDS - report.two_factor.failed_ids.length));
  }
  report.usage = await keyUsage(deps.db);
  const parts = [report.credentials, report.secrets, report.two_factor, report.webhooks];
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  await deps.audit.record(deps.db, {
    actor: SYSTEM_ACTOR,
    action: 'master_key.rotated',
    resourceType: 'master_key',
    resourceId: report.key_id,
    outcome: failed > 0 ? 'failure' : 'success',
    // Totals: fields named after credentials or secrets are redacted by the audit log.
    changes: {
      rewrapped: parts.reduce((n, p) => n + p.rewrapped, 0),
      failed,
      failed_ids: parts.flatMap((p) => p.failed_ids),
    },
  });
  return report;
}
