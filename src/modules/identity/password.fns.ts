import os from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import type { FieldError } from '../../platform/errors.js';
import { commonPasswords } from './common-passwords.js';

/**
 * argon2id at OWASP's recommended minimum (m=19 MiB, t=2, p=1). @node-rs/argon2 hashes on
 * libuv's thread pool, so a login never blocks the event loop.
 */
export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** OWASP ASVS 2.1.2: at most 128 characters (a hash input, not a storage limit). */
export const PASSWORD_MAX_LENGTH = 128;

/**
 * At most (cores − 1) hashes run at once, so one core always stays free for the event loop:
 * with every core busy hashing, the main thread would wait for CPU and every request's
 * latency would grow with login load. Extra logins queue here instead (rate limits bound the queue).
 */
const HASH_SLOTS = Math.max(1, os.availableParallelism() - 1);
let active = 0;
const waiting: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (active < HASH_SLOTS) active += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over, not re-counted
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  }
}

export function hashPassword(password: string): Promise<string> {
  // NOTE: `algorithm` is a const enum in the typings (2 = Argon2id), unusable under isolatedModules.
  return withHashSlot(() => hash(password, ARGON2_OPTIONS as never));
}

export type PasswordCheck = { ok: boolean; needsRehash: boolean };

/** Verifies against argon2id or an imported bcrypt hash; bcrypt and weaker argon2 get re-hashed. */
export async function verifyPassword(stored: string, password: string): Promise<PasswordCheck> {
  if (/^\$2[abxy]\$\d\d\$/.test(stored)) {
    const ok = await withHashSlot(() => bcrypt.compare(password, stored));
    return { ok, needsRehash: ok };
  }
  if (!stored.startsWith('$argon2')) return { ok: false, needsRehash: false };
  let ok: boolean;
  try {
    ok = await withHashSlot(() => verify(stored, password));
  } catch {
    return { ok: false, needsRehash: false };
  }
  const weaker = !stored.startsWith('$argon2id$') || !stored.includes(`m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=1`);
  return { ok, needsRehash: ok && weaker };
}

/** Checks the policy; returns the problems (empty when the password is acceptable). */
export async function passwordProblems(
  password: string,
  context: { minLength: number; username?: string; email?: string },
  path = 'body.password',
): Promise<FieldError[]> {
  const problems: string[] = [];
  const chars = [...password].length;
  if (chars < context.minLength) problems.push(`must be at least ${context.minLength} characters`);
  if (chars > PASSWORD_MAX_LENGTH) problems.push(`must be at most ${PASSWORD_MAX_LENGTH} characters`);
  const lower = password.toLowerCase();
  if (context.username && lower.includes(context.username.toLowerCase())) problems.push('must not contain the username');
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) problems.push('must not contain the email address');
  if ((await commonPasswords()).has(lower)) problems.push('is too common');
  if (chars > 0 && new Set(password).size === 1) problems.push('must not repeat one character');
  return problems.map((message) => ({ path, message }));
}
