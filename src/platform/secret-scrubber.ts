/**
 * Replaces secret values in job logs and outputs with `********`. Each secret is matched as
 * is, URL-encoded (both `%20` and `+` for spaces), hex, and base64-encoded (standard and
 * URL-safe) at each of the three byte alignments it can have inside a longer encoded text, so
 * an `Authorization: Basic …` header or a base64 blob embedding the secret is caught too; each
 * long line of a multi-line secret (a private key) is matched on its own.
 */
export const MASK = '********';

/** Shorter values would mask ordinary words in logs; they are matched only verbatim. */
const MIN_ENCODED_LENGTH = 4;

export interface SecretScrubber {
  add(secret: string): void;
  scrub(text: string): string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The base64 characters that depend only on the secret's bytes, for a secret starting `shift` bytes into a block. */
function base64Cores(secret: Buffer): string[] {
  const out: string[] = [];
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), secret]).toString('base64');
    const first = Math.ceil((8 * shift) / 6);
    const last = Math.floor((8 * (shift + secret.length)) / 6);
    const core = encoded.slice(first, last);
    if (core.length >= MIN_ENCODED_LENGTH) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every form of `secret` the scrubber masks. */
export function secretVariants(secret: string): string[] {
  if (secret.length === 0) return [];
  const variants = new Set<string>([secret]);
  if (secret.length >= MIN_ENCODED_LENGTH) {
    const url = encodeURIComponent(secret);
    variants.add(url);
    variants.add(url.replace(/%20/g, '+'));
    variants.add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    const bytes = Buffer.from(secret, 'utf8');
    // The whole encoding (with its padding) when the secret is encoded on its own, then the cores.
    variants.add(bytes.toString('base64'));
    variants.add(bytes.toString('base64url'));
    for (const core of base64Cores(bytes)) variants.add(core);
    variants.add(bytes.toString('hex'));
    // A private key may be logged re-wrapped or with other line endings: mask each long line too.
    if (secret.includes('\n')) for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 8) variants.add(line.trim());
  }
  return [...variants];
}

/** A scrubber for one job run (or any scope): add what was resolved, scrub what is written. */
export function createSecretScrubber(): SecretScrubber {
  const variants = new Set<string>();
  let pattern: RegExp | null = null;
  return {
    add(secret: string): void {
      let changed = false;
      for (const v of secretVariants(secret)) {
        if (!variants.has(v)) {
          variants.add(v);
          changed = true;
        }
      }
      if (changed) pattern = null;
    },
    scrub(text: string): string {
      if (variants.size === 0 || text.length === 0) return text;
      // Longest first, so a secret is masked whole rather than around a shorter one inside it.
      pattern ??= new RegExp(
        [...variants]
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join('|'),
        'g',
      );
      return text.replace(pattern, MASK);
    },
  };
}

/** Adds every secret of a resolved credential, and the `user:password` pair HTTP Basic encodes. */
export function addCredential(scrubber: SecretScrubber, credential: { attributes: Record<string, string>; secrets: Record<string, string> }): void {
  for (const value of Object.values(credential.secrets)) scrubber.add(value);
  const user = credential.attributes.username;
  const password = credential.secrets.password;
  if (user !== undefined && password !== undefined) scrubber.add(`${user}:${password}`);
}

/** Scrubs every string inside a JSON-like value (parsed outputs). */
export function scrubDeep(value: unknown, scrubber: SecretScrubber): unknown {
  if (typeof value === 'string') return scrubber.scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrubber));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, scrubber)]));
  }
  return value;
}
