import type { Config } from '../../config.js';
import { createDatabase } from '../../platform/db/database.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { appendKeyToFile, createEnvelope, generateMasterKeyEntry, keyFilePath, loadKeyRing } from '../../platform/crypto/index.js';
import { createAuditService } from '../identity/index.js';
import { keyUsage, rotateMasterKey, type RotationReport } from './keys.js';

export const KEYS_HELP = `Usage: opsdeck keys <command>

  generate   Create a new master key. With OPSDECK_MASTER_KEY set (or in cluster mode) it is
             printed: append it to OPSDECK_MASTER_KEY on every node (newest last) and restart.
             On a single node using the key file, it is appended to the file.
  rotate     Re-wrap every credential's, secret's and TOTP seed's data key under the newest master key
             (secret values are not decrypted) and report the counts.
  status     Records per master key id, and keys the records need but the ring lacks.
`;

export type KeysConfig = Pick<Config, 'masterKey' | 'dataDir' | 'mode' | 'databaseDialect' | 'sqlitePath' | 'databaseUrl'>;
export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

function describeUsage(usage: Record<string, number>, ring: readonly string[]): string {
  const entries = Object.entries(usage);
  const lines = [`Records per master key: ${entries.length === 0 ? '(none)' : entries.map(([k, n]) => `${k}=${n}`).join(', ')}`];
  const missing = entries.filter(([k]) => !ring.includes(k)).map(([k]) => k);
  if (missing.length > 0) lines.push(`MISSING from the key ring (these records cannot be decrypted): ${missing.join(', ')}`);
  const unused = ring.filter((k) => k !== ring[ring.length - 1] && !usage[k]);
  if (unused.length > 0) lines.push(`No record uses ${unused.join(', ')}: once your backups are verified, they can be removed from the key ring.`);
  return `${lines.join('\n')}\n`;
}

function describeRotation(r: RotationReport, ring: readonly string[]): string {
  const line = (name: string, t: RotationReport['credentials']) =>
    `  ${name}: ${t.rewrapped} re-wrapped, ${t.failed} failed${t.failed_ids.length > 0 ? ` (${t.failed_ids.join(', ')})` : ''}`;
  return `Re-wrapped data keys under master key ${r.key_id}:\n${line('credentials', r.credentials)}\n${line('secrets', r.secrets)}\n${line('two-factor seeds', r.two_factor)}\n${line('webhook secrets', r.webhooks)}\n${describeUsage(r.usage, ring)}`;
}

/** `opsdeck keys …`; logic here, printing and exiting in main.ts. */
export async function runKeysCommand(args: string[], config: KeysConfig, logger: { warn(o: object, m: string): void }): Promise<CliResult> {
  const action = args[0];
  if (action === 'generate') {
    const entry = generateMasterKeyEntry();
    const id = entry.slice(0, entry.indexOf(':'));
    if (config.masterKey?.length || config.mode === 'cluster') {
      const hint = config.masterKey?.length
        ? 'Append it to OPSDECK_MASTER_KEY (comma-separated, newest last) on every node, restart them, then run `opsdeck keys rotate`.'
        : 'Set OPSDECK_MASTER_KEY to it on every node.';
      return { stdout: `${entry}\n`, stderr: `${hint} Store a copy somewhere safe: without it the credentials cannot be recovered.\n`, code: 0 };
    }
    loadKeyRing({ configured: undefined, dataDir: config.dataDir, mode: config.mode, logger });
    appendKeyToFile(config.dataDir, entry);
    return {
      stdout: `Added master key ${id} to ${keyFilePath(config.dataDir)}. Restart Opsdeck, then run \`opsdeck keys rotate\`. Back the file up.\n`,
      stderr: '',
      code: 0,
    };
  }
  if (action !== 'rotate' && action !== 'status') {
    return { stdout: '', stderr: action ? `unknown keys command '${action}'\n${KEYS_HELP}` : KEYS_HELP, code: action ? 2 : 0 };
  }

  const ring = loadKeyRing({ configured: config.masterKey, dataDir: config.dataDir, mode: config.mode, logger });
  const database = createDatabase({
    dialect: config.databaseDialect,
    sqlitePath: config.sqlitePath,
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
  });
  try {
    await migrateToLatest(database.db);
    if (action === 'status') {
      return { stdout: `Key ring (newest last): ${ring.ids.join(', ')}\n${describeUsage(await keyUsage(database.db), ring.ids)}`, stderr: '', code: 0 };
    }
    // Recorded in the audit log like any change, as the system (the CLI runs on the server).
    const report = await rotateMasterKey({ db: database.db, envelope: createEnvelope(ring), audit: createAuditService({ db: database.db }) });
    const failed = report.credentials.failed + report.secrets.failed + report.two_factor.failed + report.webhooks.failed;
    return {
      stdout: describeRotation(report, ring.ids),
      stderr: failed > 0 ? `${failed} record(s) could not be re-wrapped: their master key is missing or their data was altered.\n` : '',
      code: failed > 0 ? 1 : 0,
    };
  } finally {
    await database.destroy();
  }
}
