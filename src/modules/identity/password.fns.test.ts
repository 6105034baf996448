import { parseOptions } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblems, verifyPassword } from './password.fns.js';

describe('password hashing', () => {
  it('hashes with argon2id at least at OWASP parameters (m=19456 KiB, t=2, p=1)', async () => {
    const hash = await hashPassword('a long enough passphrase');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    const o = parseOptions(hash);
    expect(o.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(o.timeCost).toBeGreaterThanOrEqual(2);
    expect(o.parallelism).toBe(1);
    expect(await verifyPassword(hash, 'a long enough passphrase')).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword(hash, 'a long enough passphrasE')).toEqual({ ok: false, needsRehash: false });
  });

  it('accepts an imported bcrypt hash and asks for a re-hash only when it matched', async () => {
    const legacy = bcrypt.hashSync('imported secret 1', 4);
    expect(await verifyPassword(legacy, 'imported secret 1')).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword(legacy, 'imported secret 2')).toEqual({ ok: false, needsRehash: false });
  });

  it('refuses an unknown or malformed stored hash instead of throwing', async () => {
    expect(await verifyPassword('plaintext', 'plaintext')).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword('$argon2id$v=19$garbage', 'x')).toEqual({ ok: false, needsRehash: false });
  });
});

describe('password policy', () => {
  const policy = { minLength: 12, username: 'alice', email: 'alice.smith@example.com' };
  it.each([
    ['short1!', 'must be at least 12 characters'],
    ['x'.repeat(129), 'must be at most 128 characters'],
    [`${'Long-passphrase-'.repeat(8)}x`, 'must be at most 128 characters'],
    ['123qweasdzxc', 'is too common'],
    ['Sojdlg123aljg', 'is too common'],
    ['my-Alice-password-2024', 'must not contain the username'],
    ['xx-alice.smith-xx', 'must not contain the email address'],
    ['Password1234', 'is too common'],
    ['qwertyuiop123', 'is too common'],
    ['aaaaaaaaaaaaaaaa', 'must not repeat one character'],
  ])('rejects %s: %s', async (password, message) => {
    expect((await passwordProblems(password, policy)).map((p) => p.message)).toContain(message);
  });

  it('accepts a long uncommon password and names the field', async () => {
    expect(await passwordProblems('violet-tractor-ocean-41', policy)).toEqual([]);
    expect((await passwordProblems('short', policy, 'body.new_password'))[0]?.path).toBe('body.new_password');
  });
});
