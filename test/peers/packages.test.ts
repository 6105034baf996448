import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installCommand, locate, missingMessage, missingPackages, TEST_PACKAGES, type TestPackage } from './packages.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-packages-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An executable file at root/rel. */
function fakeBinary(root: string, rel: string): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
  return file;
}

/** A machine of its own for each test: promtool on PATH, a non-executable ping, two PostgreSQL versions. */
function fakeMachine() {
  const root = fs.mkdtempSync(path.join(dir, 'machine-'));
  const bin = path.join(root, 'bin');
  fakeBinary(root, 'bin/promtool');
  fs.writeFileSync(path.join(bin, 'ping'), 'not executable', { mode: 0o644 });
  const initdb = { old: fakeBinary(root, 'pg/13/bin/initdb'), new: fakeBinary(root, 'pg/16/bin/initdb') };
  const list: TestPackage[] = [
    { name: 'prometheus', provides: 'promtool', usedBy: 'a' },
    { name: 'iputils-ping', provides: 'ping', usedBy: 'b' },
    { name: 'ansible-core', provides: 'ansible-inventory', usedBy: 'c' },
    { name: 'postgresql', provides: `${root}/pg/*/bin/initdb`, usedBy: 'd', unlessEnv: 'FAKE_PG_URL' },
    { name: 'chromium', provides: `${root}/usr/bin/chromium`, usedBy: 'e', unlessEnv: 'FAKE_CHROMIUM' },
  ];
  return { root, bin, initdb, list };
}

describe('the test peers check', () => {
  it('finds commands on PATH (executable files only) and the newest match of a path pattern', () => {
    const { root, bin, initdb } = fakeMachine();
    expect(locate('promtool', { PATH: `/nonexistent${path.delimiter}${bin}` })).toBe(path.join(bin, 'promtool'));
    expect(locate('ping', { PATH: bin })).toBeUndefined();
    expect(locate(`${root}/pg/*/bin/initdb`, {})).toBe(initdb.new);
    fs.rmSync(path.join(root, 'pg/16'), { recursive: true });
    expect(locate(`${root}/pg/*/bin/initdb`, {})).toBe(initdb.old);
    expect(locate(`${root}/nothing/*/bin/initdb`, {})).toBeUndefined();
  });

  it('names every package whose program is missing, unless its environment variable points elsewhere', () => {
    const { root, bin, list } = fakeMachine();
    expect(missingPackages({ PATH: bin }, list).map((p) => p.name)).toEqual(['iputils-ping', 'ansible-core', 'chromium']);
    expect(missingPackages({ PATH: bin, FAKE_CHROMIUM: '/opt/chrome' }, list).map((p) => p.name)).toEqual(['iputils-ping', 'ansible-core']);
    fs.rmSync(path.join(root, 'pg'), { recursive: true });
    expect(missingPackages({ PATH: bin, FAKE_CHROMIUM: 'x' }, list).map((p) => p.name)).toEqual(['iputils-ping', 'ansible-core', 'postgresql']);
    expect(missingPackages({ PATH: bin, FAKE_CHROMIUM: 'x', FAKE_PG_URL: 'postgres://db/x' }, list).map((p) => p.name)).toEqual([
      'iputils-ping',
      'ansible-core',
    ]);
  });

  it('says in one line what is missing and the exact command that installs it', () => {
    const { bin, list } = fakeMachine();
    const missing = missingPackages({ PATH: bin, FAKE_CHROMIUM: 'x', FAKE_PG_URL: 'x' }, list);
    expect(missingMessage(missing, 'this user is not root')).toBe(
      "The tests need ping (iputils-ping), ansible-inventory (ansible-core), which are not installed, and this user is not root. Install with: sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends iputils-ping ansible-core'",
    );
  });

  it('fails a run as a non-root user at once (before any network or apt-get), with that one message', () => {
    // The check as the `nobody` user, with a PATH that has none of the programs.
    const nobody = Number(
      fs
        .readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('nobody:'))!
        .split(':')[2],
    );
    const script = `import { ensureTestPackages } from ${JSON.stringify(path.resolve('test/peers/packages.ts'))};\ntry { ensureTestPackages({ PATH: '/nonexistent' }, () => {}); } catch (e) { console.log(e.stack); process.exit(3); }`;
    const file = path.join(dir, 'check.ts');
    fs.writeFileSync(file, script);
    fs.chmodSync(dir, 0o755);
    let out = '';
    let status: number | null = 0;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', file], {
        uid: process.getuid?.() === 0 ? nobody : undefined,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: dir },
      });
    } catch (err) {
      ({ stdout: out, status } = err as { stdout: string; status: number | null });
    }
    expect(status).toBe(3);
    // Programs named by an absolute path (sshd, snmpd, chromium, initdb) are found without PATH.
    const expected = missingPackages({ PATH: '/nonexistent' });
    expect(expected.map((p) => p.name)).toEqual(expect.arrayContaining(['redis-server', 'prometheus', 'ansible-core']));
    expect(out.trim()).toBe(missingMessage(expected, 'this user is not root'));
  });

  it('builds an apt-get command for the list as it stands', () => {
    expect(installCommand(TEST_PACKAGES)).toMatch(/^apt-get update && apt-get install -y --no-install-recommends postgresql redis-server openssh-server /);
  });
});
