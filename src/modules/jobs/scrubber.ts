/**
 * Removes secrets from text before it is stored or published. Each run gets its own scrubber
 * holding every secret the run resolved; it also catches the encodings a secret commonly leaks
 * in: base64 (at any byte alignment, e.g. inside an HTTP Basic header), URL encoding (both
 * `%20` and `+` forms), hex, and each line of a multi-line secret (a private key).
 */
export interface SecretScrubber {
  add(secret: string): void;
  scrub(text: string): string;
}

export const REDACTED = '[REDACTED]';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The part of base64(prefix + secret + suffix) that depends only on the secret, for each of the
 * three byte alignments the secret can sit at inside a longer encoded string.
 */
export function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    // Characters mixing prefix bytes (leading) or unknown following bytes (trailing) are unstable.
    const start = offset === 0 ? 0 : Math.ceil((offset * 8) / 6);
    const stableEnd = Math.floor((padded.length * 8) / 6);
    const core = encoded.slice(start, stableEnd);
    if (core.length >= 4) out.push(core);
    if (offset === 0) {
      const full = bytes.toString('base64');
      out.push(full, full.replace(/=+$/, ''), bytes.toString('base64url'));
    }
  }
  return out;
}

/** Every form of a secret the scrubber looks for. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(encodeURIComponent(secret));
  // Encoded forms of a very short secret would match ordinary text everywhere.
  if (secret.length < 4) return [...forms];
  forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
  forms.add(encodeURI(secret));
  forms.add(Buffer.from(secret, 'utf8').toString('hex'));
  for (const core of base64Cores(secret)) forms.add(core);
  if (secret.includes('\n')) {
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 8) forms.add(line.trim());
  }
  forms.delete('');
  return [...forms];
}

export function createSecretScrubber(initial: string[] = []): SecretScrubber {
  const secrets = new Set<string>();
  let pattern: RegExp | null = null;

  function rebuild(): void {
    const forms = new Set<string>();
    for (const s of secrets) for (const f of secretForms(s)) forms.add(f);
    // Longest first, so a secret is not half-replaced by a shorter form of another one.
    const sorted = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = sorted.length > 0 ? new RegExp(sorted.join('|'), 'g') : null;
  }

  const scrubber: SecretScrubber = {
    add(secret) {
      if (secret.length === 0 || secrets.has(secret)) return;
      secrets.add(secret);
      rebuild();
    },
    scrub(text) {
      return pattern === null ? text : text.replace(pattern, REDACTED);
    },
  };
  for (const s of initial) scrubber.add(s);
  return scrubber;
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
