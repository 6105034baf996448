/**
 * Job runs scrub logs and outputs with the credential vault's scrubber (one per run, fed every
 * secret the run resolved), so there is one definition of what a leaked secret looks like.
 */
import type { SecretScrubber } from '../credentials/index.js';

export { createSecretScrubber, MASK as REDACTED, type SecretScrubber } from '../credentials/index.js';

/** Scrubs every string inside a JSON-like value (parsed outputs). */
export function scrubDeep(value: unknown, scrubber: SecretScrubber): unknown {
  if (typeof value === 'string') return scrubber.scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrubber));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, scrubber)]));
  }
  return value;
}
