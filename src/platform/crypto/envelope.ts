import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import type { KeyRing } from './key-ring.js';

/**
 * Envelope encryption (AES-256-GCM). Each record has its own random data key; each secret
 * field is sealed under it with associated data naming the record (kind, id, type) and the
 * field, so ciphertext copied onto another record or field fails authentication. The data key
 * is wrapped under a master key, with the record and the master key id as associated data.
 * Rotation re-wraps the data key only: the fields are never decrypted.
 */
export interface RecordRef {
  /** The table the record lives in, e.g. `credential` or `secret`. */
  kind: string;
  id: string;
  /** The record's type (`ssh`, `snmp_v3` … or `value` for a plain secret). */
  type: string;
}

export interface WrappedKey {
  keyId: string;
  wrappedKey: string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Stored ciphertext failed authentication: tampered, moved from another record, or under another key. */
export class SecretDecryptionError extends AppError {
  constructor(ref: RecordRef, what: string) {
    super(
      'SECRET_DECRYPTION_FAILED',
      500,
      `The stored ${what} of ${ref.kind} ${ref.id} failed authentication: it was altered, copied from another record, or sealed under a different master key`,
    );
  }
}

/** A record's data key is wrapped under a master key that is not in the key ring. */
export class MasterKeyMissingError extends AppError {
  constructor(ref: RecordRef, keyId: string) {
    super(
      'MASTER_KEY_MISSING',
      500,
      `${ref.kind} ${ref.id} is sealed under master key '${keyId}', which is not configured (OPSDECK_MASTER_KEY or the key file)`,
    );
  }
}

const aad = (ref: RecordRef) => `opsdeck/${VERSION}/${ref.kind}/${ref.id}/${ref.type}`;

function encrypt(key: Buffer, plaintext: Buffer, associated: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associated, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/** Null when the sealed text is malformed or fails authentication. */
function decrypt(key: Buffer, sealed: string, associated: string): Buffer | null {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return null;
  const iv = Buffer.from(parts[1]!, 'base64url');
  const tag = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associated, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(parts[2]!, 'base64url')), decipher.final()]);
  } catch {
    return null;
  }
}

/** The envelope over a key ring; stateless apart from the ring. */
export function createEnvelope(ring: KeyRing) {
  const wrapAad = (ref: RecordRef, keyId: string) => `${aad(ref)}#dek@${keyId}`;

  function wrap(ref: RecordRef, dataKey: Buffer): WrappedKey {
    return { keyId: ring.current.id, wrappedKey: encrypt(ring.current.key, dataKey, wrapAad(ref, ring.current.id)) };
  }

  function unwrap(ref: RecordRef, wrapped: WrappedKey): Buffer {
    const master = ring.get(wrapped.keyId);
    if (!master) throw new MasterKeyMissingError(ref, wrapped.keyId);
    const dataKey = decrypt(master.key, wrapped.wrappedKey, wrapAad(ref, wrapped.keyId));
    if (!dataKey || dataKey.length !== 32) throw new SecretDecryptionError(ref, 'data key');
    return dataKey;
  }

  return {
    ring,
    /**
     * Seals fields under the record's data key — a new one when `existing` is absent — and
     * returns the data key wrapped under the newest master key (re-wrapped if it was older).
     */
    seal(ref: RecordRef, fields: Record<string, string>, existing?: WrappedKey): WrappedKey & { sealed: Record<string, string> } {
      const dataKey = existing ? unwrap(ref, existing) : randomBytes(32);
      try {
        const sealed: Record<string, string> = {};
        for (const [name, value] of Object.entries(fields)) sealed[name] = encrypt(dataKey, Buffer.from(value, 'utf8'), `${aad(ref)}/${name}`);
        return { ...wrap(ref, dataKey), sealed };
      } finally {
        dataKey.fill(0);
      }
    },
    /** Opens every sealed field; throws SecretDecryptionError / MasterKeyMissingError, never returns garbage. */
    open(ref: RecordRef, wrapped: WrappedKey, sealed: Record<string, string>): Record<string, string> {
      const dataKey = unwrap(ref, wrapped);
      try {
        const out: Record<string, string> = {};
        for (const [name, text] of Object.entries(sealed)) {
          const plain = decrypt(dataKey, text, `${aad(ref)}/${name}`);
          if (!plain) throw new SecretDecryptionError(ref, `field '${name}'`);
          out[name] = plain.toString('utf8');
        }
        return out;
      } finally {
        dataKey.fill(0);
      }
    },
    /** Re-wraps the data key under the newest master key without touching the fields; null if already current. */
    rewrap(ref: RecordRef, wrapped: WrappedKey): WrappedKey | null {
      if (wrapped.keyId === ring.current.id) return null;
      const dataKey = unwrap(ref, wrapped);
      try {
        return wrap(ref, dataKey);
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

export type Envelope = ReturnType<typeof createEnvelope>;
