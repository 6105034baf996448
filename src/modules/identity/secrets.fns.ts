import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 hex of a high-entropy token (refresh tokens, API-key secrets, recovery codes). */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function digestEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function base62(length: number): string {
  // 256 % 62 would bias; rejection sampling keeps every character equally likely.
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

export const API_KEY_PATTERN = /^odk_([A-Za-z0-9]{12})_([A-Za-z0-9]{40})$/;

/** `odk_<12 prefix>_<40 secret>`: the prefix finds the row, the secret's hash proves it. */
export function newApiKey(): { key: string; prefix: string; secretHash: string } {
  const prefix = base62(12);
  const secret = base62(40);
  return { key: `odk_${prefix}_${secret}`, prefix, secretHash: sha256(secret) };
}

export function parseApiKey(key: string): { prefix: string; secret: string } | null {
  const m = API_KEY_PATTERN.exec(key);
  return m ? { prefix: m[1]!, secret: m[2]! } : null;
}

/** `xxxxx-xxxxx`, lower-case letters and digits without look-alikes. */
export function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  let out = '';
  for (const b of randomBytes(10)) out += alphabet[b % alphabet.length];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

export function normaliseRecoveryCode(code: string): string {
  return code.trim().toLowerCase().replace(/\s+/g, '');
}

/** A strong generated password (first start, CLI): 24 base62 characters ≈ 143 bits. */
export function generatePassword(): string {
  return base62(24);
}

/**
 * AES-256-GCM sealing of small secrets (TOTP seeds) bound to their record by associated
 * data, under a key derived (HKDF) from the identity root secret.
 */
export function createSealer(rootSecret: string | Uint8Array) {
  const key = Buffer.from(hkdfSync('sha256', rootSecret, Buffer.alloc(0), 'opsdeck identity totp v1', 32));
  return {
    seal(plain: string, aad: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(aad));
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1.${iv.toString('base64url')}.${data.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
    },
    open(sealed: string, aad: string): string {
      const [v, iv, data, tag] = sealed.split('.');
      if (v !== 'v1' || !iv || !data || !tag) throw new Error('unknown sealed format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
export type Sealer = ReturnType<typeof createSealer>;
