/**
 * A real OpenSSH sshd on a free loopback port: generated host key, a local test user with a
 * password and a generated key pair (authorized through a file in the temp dir). Needs root
 * (sshd's privilege separation) and the openssh-server package.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort, waitForTcp } from './ports.js';

export { freeTcpPort } from './ports.js';

export const SSH_TEST_USER = 'opsdeck-ssh';
export const SSH_TEST_PASSWORD = 'Ssh-test-Pa55word-7c1f';

export interface SshdPeer {
  host: string;
  port: number;
  username: string;
  password: string;
  privateKey: string;
  hostKeyFingerprint: string;
  stop(): Promise<void>;
}

/** Creates the test user if missing (root only) and (re)sets its password. */
export function ensureSshUser(): void {
  try {
    execFileSync('id', [SSH_TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', SSH_TEST_USER], { stdio: 'pipe' });
  }
  execFileSync('chpasswd', [], { input: `${SSH_TEST_USER}:${SSH_TEST_PASSWORD}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
}

/**
 * `passphrase` encrypts the generated user key (privateKey is then the encrypted PEM); `port`
 * reuses a port (e.g. a second sshd, with its own host key, where a stopped one listened).
 */
export async function startSshd(options: { passphrase?: string; port?: number } = {}): Promise<SshdPeer> {
  if (!fs.existsSync('/usr/sbin/sshd')) throw new Error('sshd not found: apt-get install openssh-server');
  ensureSshUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-sshd-'));
  fs.chmodSync(dir, 0o755);
  const keygen = (file: string, passphrase = '') =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'opsdeck-test', '-f', file], { stdio: 'ignore' });
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'user_key'), options.passphrase ?? '');
  fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'));
  fs.chmodSync(path.join(dir, 'authorized_keys'), 0o644);
  fs.mkdirSync('/run/sshd', { recursive: true });
  const port = options.port ?? (await freeTcpPort());
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host_key')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PermitRootLogin no',
    `AllowUsers ${SSH_TEST_USER}`,
    'MaxStartups 200:30:400',
    'MaxSessions 100',
    'LogLevel ERROR',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'sshd_config'), `${config}\n`);
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([waitForTcp('127.0.0.1', port), exited.then(() => Promise.reject(new Error(`sshd exited: ${stderr}`)))]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const fp =
    execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'host_key.pub')])
      .toString()
      .split(' ')[1] ?? '';
  return {
    host: '127.0.0.1',
    port,
    username: SSH_TEST_USER,
    password: SSH_TEST_PASSWORD,
    privateKey: fs.readFileSync(path.join(dir, 'user_key'), 'utf8'),
    hostKeyFingerprint: fp,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
