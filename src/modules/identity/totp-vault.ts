import type { Envelope, RecordRef, WrappedKey } from '../../platform/crypto/index.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { Sealer } from './secrets.fns.js';
import { createUsersRepository, type TotpColumn } from './users.repository.js';

/**
 * TOTP seeds under the vault's key ring (envelope encryption, as credentials): each sealed seed
 * has its own data key wrapped under a master key, so `opsdeck keys rotate` re-wraps it and a
 * leaked JWT secret opens nothing. Stored as one string in the existing column:
 * `env1:<master key id>:<wrapped data key>:<sealed seed>` (ids are `[A-Za-z0-9_-]`, the sealed parts
 * base64url with dots, so `:` separates). The old format (`v1.…`, a key derived from the JWT
 * secret) is still read and is re-sealed at start (`migrateLegacyTotp`).
 */
const PREFIX = 'env1';
const FIRST_ID = '00000000-0000-0000-0000-000000000000';
const FIELD = 'seed';
const ref = (userId: string): RecordRef => ({ kind: 'user', id: userId, type: 'totp' });
const legacyAad = (userId: string) => `user:${userId}:totp`;

export interface StoredTotp extends WrappedKey {
  seed: string;
}

export function parseStoredTotp(stored: string): StoredTotp | null {
  const parts = stored.split(':');
  if (parts.length !== 4 || parts[0] !== PREFIX) return null;
  return { keyId: parts[1]!, wrappedKey: parts[2]!, seed: parts[3]! };
}

const format = (w: WrappedKey, seed: string) => `${PREFIX}:${w.keyId}:${w.wrappedKey}:${seed}`;

/** Seals and opens TOTP seeds for a user; `legacy` opens seeds stored before the move. */
export function createTotpVault(envelope: Envelope, legacy: Sealer) {
  return {
    seal(plain: string, userId: string): string {
      const r = envelope.seal(ref(userId), { [FIELD]: plain });
      return format(r, r.sealed[FIELD]!);
    },
    open(stored: string, userId: string): string {
      const parsed = parseStoredTotp(stored);
      if (!parsed) return legacy.open(stored, legacyAad(userId));
      return envelope.open(ref(userId), parsed, { [FIELD]: parsed.seed })[FIELD]!;
    },
    isLegacy: (stored: string) => parseStoredTotp(stored) === null,
  };
}
export type TotpVault = ReturnType<typeof createTotpVault>;

/**
 * Re-seals every seed still in the old format under the key ring. Runs at start on every node;
 * idempotent (each swap is conditional on the old value, so racing nodes write once). A seed
 * the old key cannot open (the JWT secret changed) is left alone and logged: that user re-enrols.
 */
export async function migrateLegacyTotp(db: Db, vault: TotpVault, logger: Pick<Logger, 'warn' | 'info'>): Promise<number> {
  const users = createUsersRepository(db);
  let after = FIRST_ID;
  let migrated = 0;
  for (;;) {
    const rows = await users.sealedTotp(after, 500);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    for (const row of rows) {
      for (const column of ['totpSecret', 'totpPendingSecret'] as const) {
        const stored = row[column];
        if (stored === null || !vault.isLegacy(stored)) continue;
        try {
          if (await users.replaceTotp(row.id, column, stored, vault.seal(vault.open(stored, row.id), row.id))) migrated++;
        } catch (err) {
          logger.warn({ err, userId: row.id }, 'a TOTP seed in the old format could not be opened; the user must enrol again');
        }
      }
    }
  }
  if (migrated > 0) logger.info({ migrated }, 'TOTP seeds moved under the vault key ring');
  return migrated;
}

/** What `opsdeck keys rotate` needs to re-wrap TOTP data keys (credentials/keys.ts). */
export interface TotpSealedRow extends WrappedKey {
  id: string;
  type: string;
  stored: string;
}

/** One rotation table per column holding a sealed seed; rows in the old format are reported as failed. */
export function totpRotationTables(db: Db) {
  const users = createUsersRepository(db);
  return (['totpSecret', 'totpPendingSecret'] as const satisfies readonly TotpColumn[]).map((column) => ({
    kind: 'user' as const,
    // Every user with a seed in either column, so a batch is empty only at the end; an empty
    // column is reported under the current key, which rotation skips.
    async batch(currentKeyId: string, afterId: string, limit: number): Promise<TotpSealedRow[]> {
      const rows = await users.sealedTotp(afterId, limit);
      return rows.map((r) => {
        const stored = r[column];
        if (stored === null) return { id: r.id, type: 'totp', stored: '', keyId: currentKeyId, wrappedKey: '' };
        const p = parseStoredTotp(stored);
        return { id: r.id, type: 'totp', stored, keyId: p?.keyId ?? '(legacy)', wrappedKey: p?.wrappedKey ?? '' };
      });
    },
    async replace(trx: Db, id: string, old: WrappedKey, next: WrappedKey): Promise<boolean> {
      const stored = (old as TotpSealedRow).stored;
      const p = parseStoredTotp(stored);
      if (!p) return false;
      return createUsersRepository(trx).replaceTotp(id, column, stored, format(next, p.seed));
    },
  }));
}

/** Sealed seeds per master key id (for `opsdeck keys status` and rotation reports). */
export async function totpKeyUsage(db: Db): Promise<{ keyId: string; n: number }[]> {
  const users = createUsersRepository(db);
  const counts = new Map<string, number>();
  let after = FIRST_ID;
  for (;;) {
    const rows = await users.sealedTotp(after, 1000);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    for (const r of rows) {
      for (const stored of [r.totpSecret, r.totpPendingSecret]) {
        if (stored === null) continue;
        const keyId = parseStoredTotp(stored)?.keyId ?? '(legacy JWT-secret key)';
        counts.set(keyId, (counts.get(keyId) ?? 0) + 1);
      }
    }
  }
  return [...counts].map(([keyId, n]) => ({ keyId, n }));
}
