import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config.js';
import { createEnvelope, MasterKeyMissingError, SecretDecryptionError, type RecordRef } from './envelope.js';
import { createKeyRing, generateMasterKeyEntry, KEY_FILE_NAME, loadKeyRing } from './key-ring.js';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const k1 = key('k1');
const k2 = key('k2');
const A: RecordRef = { kind: 'credential', id: '0190a0a0-0000-7000-8000-00000000000a', type: 'ssh' };
const B: RecordRef = { kind: 'credential', id: '0190a0a0-0000-7000-8000-00000000000b', type: 'ssh' };
const flip = (sealed: string, part: number) => {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0]! ^= 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
};

describe('envelope encryption', () => {
  const envelope = createEnvelope(createKeyRing([k1]));

  it('round-trips fields and never stores them readably', () => {
    const s = envelope.seal(A, { password: 'hunter2-secret', enable_secret: 'en-4711' });
    expect(s.keyId).toBe('k1');
    expect(JSON.stringify(s)).not.toMatch(/hunter2|en-4711/);
    expect(envelope.open(A, s, s.sealed)).toEqual({ password: 'hunter2-secret', enable_secret: 'en-4711' });
  });

  it('uses a fresh data key and IV every time', () => {
    const x = envelope.seal(A, { password: 'same' });
    const y = envelope.seal(A, { password: 'same' });
    expect(x.wrappedKey).not.toBe(y.wrappedKey);
    expect(x.sealed.password).not.toBe(y.sealed.password);
  });

  it.each([
    ['iv', 1],
    ['ciphertext', 2],
    ['tag', 3],
  ])('detects a tampered field %s', (_name, part) => {
    const s = envelope.seal(A, { password: 'tamper-me' });
    expect(() => envelope.open(A, s, { password: flip(s.sealed.password!, part) })).toThrow(SecretDecryptionError);
  });

  it('detects a tampered wrapped data key', () => {
    const s = envelope.seal(A, { password: 'tamper-me' });
    expect(() => envelope.open(A, { keyId: s.keyId, wrappedKey: flip(s.wrappedKey, 2) }, s.sealed)).toThrow(SecretDecryptionError);
  });

  it('refuses ciphertext moved to another record, type or field', () => {
    const a = envelope.seal(A, { password: 'belongs-to-a' });
    const b = envelope.seal(B, { password: 'belongs-to-b' });
    // The whole envelope copied onto B: the data key is bound to A.
    expect(() => envelope.open(B, a, a.sealed)).toThrow(SecretDecryptionError);
    // Only the field copied: B's data key cannot open it.
    expect(() => envelope.open(B, b, { password: a.sealed.password! })).toThrow(SecretDecryptionError);
    expect(() => envelope.open({ ...A, type: 'basic' }, a, a.sealed)).toThrow(SecretDecryptionError);
    expect(() => envelope.open(A, a, { enable_secret: a.sealed.password! })).toThrow(SecretDecryptionError);
  });

  it('refuses a wrong master key and names a missing one without leaking it', () => {
    const s = envelope.seal(A, { password: 'x-secret' });
    const other = createEnvelope(createKeyRing([`k1:${randomBytes(32).toString('base64')}`]));
    expect(() => other.open(A, s, s.sealed)).toThrow(SecretDecryptionError);
    const without = createEnvelope(createKeyRing([k2]));
    expect(() => without.open(A, s, s.sealed)).toThrow(MasterKeyMissingError);
    expect(() => without.open(A, s, s.sealed)).toThrow(/'k1'/);
  });

  it('re-wraps under the newest key without the fields, then opens with the old key removed', () => {
    const s = envelope.seal(A, { password: 'survives-rotation' });
    const both = createEnvelope(createKeyRing([k1, k2]));
    const rewrapped = both.rewrap(A, s)!;
    expect(rewrapped.keyId).toBe('k2');
    expect(both.rewrap(A, rewrapped)).toBeNull();
    const onlyNew = createEnvelope(createKeyRing([k2]));
    expect(onlyNew.open(A, rewrapped, s.sealed)).toEqual({ password: 'survives-rotation' });
  });

  it('adds fields under the existing data key and moves it to the newest master key', () => {
    const s = envelope.seal(A, { password: 'first' });
    const both = createEnvelope(createKeyRing([k1, k2]));
    const more = both.seal(A, { enable_secret: 'second' }, s);
    expect(more.keyId).toBe('k2');
    expect(both.open(A, more, { ...s.sealed, ...more.sealed })).toEqual({ password: 'first', enable_secret: 'second' });
  });
});

describe('key ring', () => {
  it('uses the last key as current and rejects duplicates and bad keys without echoing them', () => {
    expect(createKeyRing([k1, k2]).current.id).toBe('k2');
    expect(createKeyRing([randomBytes(32).toString('base64')]).current.id).toBe('k1');
    expect(() => createKeyRing([k1, k1])).toThrow(/appears twice/);
    const short = `k3:${Buffer.from('too-short').toString('base64')}`;
    expect(() => createKeyRing([short])).toThrow(/'k3' is not keyid:base64 of 32 bytes/);
  });

  it('generates entries whose ids sort by age', () => {
    const a = generateMasterKeyEntry(new Date('2026-01-01T00:00:00Z'));
    const b = generateMasterKeyEntry(new Date('2026-06-01T00:00:00Z'));
    expect(a.split(':')[0]! < b.split(':')[0]!).toBe(true);
    expect(createKeyRing([a, b]).current.id).toBe(b.split(':')[0]);
  });

  it('generates a 0600 key file with a warning on a single node, then reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-keyring-'));
    const warnings: string[] = [];
    const logger = { warn: (o: object, m: string) => void warnings.push(`${m} ${JSON.stringify(o)}`) };
    const first = loadKeyRing({ configured: undefined, dataDir: dir, mode: 'single', logger });
    const file = path.join(dir, KEY_FILE_NAME);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.source).toBe('file');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/back it up/);
    expect(warnings[0]).not.toContain(first.current.key.toString('base64'));
    const second = loadKeyRing({ configured: undefined, dataDir: dir, mode: 'single', logger });
    expect(second.current.key.equals(first.current.key)).toBe(true);
    expect(warnings).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prefers the configured keys and requires them in cluster mode', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-keyring-'));
    const logger = { warn: () => undefined };
    expect(loadKeyRing({ configured: [k1], dataDir: dir, mode: 'cluster', logger }).source).toBe('env');
    expect(() => loadKeyRing({ configured: undefined, dataDir: dir, mode: 'cluster', logger })).toThrow(ConfigError);
    expect(() => loadKeyRing({ configured: undefined, dataDir: dir, mode: 'cluster', logger })).toThrow(/OPSDECK_MASTER_KEY is required in cluster mode/);
    expect(fs.existsSync(path.join(dir, KEY_FILE_NAME))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
