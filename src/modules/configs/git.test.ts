import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitFixtureRoot, startGitDaemon, startGitHttp, type GitFixtureRoot, type GitServerPeer } from '../../../test/peers/git-servers.js';
import { startSshd, type SshdPeer } from '../../../test/peers/sshd.js';
import { chmodSync } from 'node:fs';
import { createGit, GitCommandError } from './git.js';
import { checkGitUrl, checkRef, checkRepoPath, maskUrl, type GitScheme } from './git-url.fns.js';

const ALL: GitScheme[] = ['https', 'http', 'ssh', 'git'];

describe('git URL, ref and path checks', () => {
  it.each([
    ['https://git.example.test/net/configs.git', 'https'],
    ['ssh://git@192.0.2.1:2222/net/configs.git', 'ssh'],
    ['git@192.0.2.1:net/configs.git', 'ssh'],
    ['git://127.0.0.1:9418/configs.git', 'git'],
  ])('accepts %s', (url, scheme) => {
    const r = checkGitUrl(url, ALL);
    expect(r.ok && r.value.scheme).toBe(scheme);
  });

  it.each([
    ['ext::sh -c touch% /tmp/pwned', /transport helpers|whitespace/],
    ['ext::sh', /transport helpers/],
    ['fd::3', /transport helpers/],
    ['--upload-pack=touch /tmp/pwned', /must not start with "-"/],
    ['-oProxyCommand=id', /must not start with "-"/],
    ['ssh://-oProxyCommand=id/x', /host and user|not a URL/],
    ['file:///etc', /not enabled/],
    ['/srv/git/repo.git', /not a URL/],
    ['https://user:hunter22@git.example.test/x.git', /must not carry a password/],
    ['ftp://git.example.test/x.git', /not supported/],
    ['https://git.example.test/x.git?a=b', /query/],
    ['https://git.example.test/x\n.git', /control/],
    ['git@host:-oProxyCommand=x', /path must not start|not a URL/],
  ])('refuses %s', (url, reason) => {
    const r = checkGitUrl(url, ALL);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('accepts file:// only when enabled', () => {
    expect(checkGitUrl('file:///srv/git/x.git', [...ALL, 'file']).ok).toBe(true);
    expect(checkGitUrl('file:///srv/git/x.git', ALL).ok).toBe(false);
  });

  it('masks URL passwords', () => {
    expect(maskUrl('fatal: unable to access https://alice:s3cret@git.example.test/x.git/')).toBe(
      'fatal: unable to access https://alice:***@git.example.test/x.git/',
    );
  });

  it.each(['main', 'feature/x-1', 'v1.2.3', 'HEAD~2', 'abc123^', '0123456789abcdef0123456789abcdef01234567'])('accepts ref %s', (ref) =>
    expect(checkRef(ref)).toBeNull(),
  );
  it.each(['--upload-pack=x', '-n', 'main..dev', 'HEAD@{1}', 'a b', 'x:y', '.hidden', 'a//b', 'x.lock', 'a/', ''])('refuses ref %j', (ref) =>
    expect(checkRef(ref)).not.toBeNull(),
  );

  it.each([
    ['configs/r1.cfg', 'configs/r1.cfg'],
    ['./configs//r1.cfg', 'configs/r1.cfg'],
    ['', ''],
  ])('normalises path %j', (raw, want) => expect(checkRepoPath(raw)).toEqual({ ok: true, path: want }));
  it.each(['../etc/passwd', 'a/../../b', '/etc/passwd', '.git/config', 'a/.GIT/x', '-rf', ':(top)x', 'a\\b', 'a\u0000b'])('refuses path %j', (raw) =>
    expect(checkRepoPath(raw).ok).toBe(false),
  );
});

describe('git runner against real servers', () => {
  let root: GitFixtureRoot;
  let daemon: GitServerPeer;
  let httpOpen: GitServerPeer;
  let httpAuth: GitServerPeer & { requests: { authorization: string | undefined }[] };
  let scratch: string;
  const git = () => createGit({ schemes: ['http', 'git'], timeoutMs: 20_000, maxOutputBytes: 1_000_000, knownHostsFile: path.join(scratch, 'known_hosts') });

  beforeAll(async () => {
    root = createGitFixtureRoot();
    root.createBare('net');
    root.commit('net', { 'r1.cfg': 'hostname r1\n' }, 'first');
    daemon = await startGitDaemon(root.dir);
    httpOpen = await startGitHttp(root.dir);
    httpAuth = await startGitHttp(root.dir, { auth: { username: 'alice', password: 'Http-Pa55-secret' } });
    scratch = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-git-test-'));
  });
  afterAll(async () => {
    await Promise.all([daemon?.close(), httpOpen?.close(), httpAuth?.close()]);
    root?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lists refs over git daemon and over http-backend, with and without basic auth', async () => {
    const head = root.git(['--git-dir', path.join(root.dir, 'net.git'), 'rev-parse', 'main']).trim();
    expect(await git().text(['ls-remote', '--heads', '--end-of-options', `${daemon.url}/net.git`])).toContain(`${head}\trefs/heads/main`);
    expect(await git().text(['ls-remote', '--heads', '--end-of-options', `${httpOpen.url}/net.git`])).toContain(head);
    const out = await git().text(['ls-remote', '--heads', '--end-of-options', `${httpAuth.url}/net.git`], {
      auth: { kind: 'userpass', username: 'alice', password: 'Http-Pa55-secret' },
    });
    expect(out).toContain(head);
  });

  it('fails authentication cleanly without leaking the password', async () => {
    const err = await git()
      .run(['ls-remote', '--end-of-options', `${httpAuth.url}/net.git`], { auth: { kind: 'userpass', username: 'alice', password: 'Wrong-Pa55-value' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitCommandError);
    expect((err as GitCommandError).kind).toBe('auth');
    expect(JSON.stringify({ m: (err as Error).message, s: (err as GitCommandError).stderr })).not.toContain('Wrong-Pa55-value');
    const none = await git()
      .run(['ls-remote', '--end-of-options', `${httpAuth.url}/net.git`])
      .catch((e: unknown) => e);
    expect((none as GitCommandError).kind).toBe('auth');
  });

  it('masks a password written into a URL in errors', async () => {
    const err = (await git()
      .run(['ls-remote', '--end-of-options', 'http://bob:Url-Secret-99@127.0.0.1:1/x.git'])
      .catch((e: unknown) => e)) as GitCommandError;
    expect(err).toBeInstanceOf(GitCommandError);
    expect(`${err.message} ${err.stderr}`).not.toContain('Url-Secret-99');
  });

  it('refuses protocols not enabled, ext:: and file, whatever the URL checks let through', async () => {
    const marker = path.join(scratch, 'pwned');
    const ext = await git()
      .run(['ls-remote', '--end-of-options', `ext::sh -c touch% ${marker}`])
      .catch((e: unknown) => e);
    expect(ext).toBeInstanceOf(GitCommandError);
    expect(existsSync(marker)).toBe(false);
    const file = (await git()
      .run(['ls-remote', '--end-of-options', `file://${root.dir}/net.git`])
      .catch((e: unknown) => e)) as GitCommandError;
    expect(file).toBeInstanceOf(GitCommandError);
    expect(file.stderr).toMatch(/not allowed/);
    // The same command without the runner's protocol policy would have read it.
    expect(execFileSync('git', ['ls-remote', `file://${root.dir}/net.git`], { encoding: 'utf8' })).toContain('refs/heads/main');
  });

  it('never runs repository hooks', async () => {
    const mirror = path.join(scratch, 'hooked.git');
    execFileSync('git', ['init', '-q', '--bare', mirror]);
    const marker = path.join(scratch, 'hook-ran');
    writeFileSync(path.join(mirror, 'hooks', 'reference-transaction'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    await git().run(['fetch', '--no-tags', '--', `${daemon.url}/net.git`, '+refs/heads/*:refs/heads/*'], { gitDir: mirror });
    expect(existsSync(marker)).toBe(false);
    expect(execFileSync('git', ['--git-dir', mirror, 'rev-parse', 'main'], { encoding: 'utf8' }).trim()).toMatch(/^[0-9a-f]{40}$/);
    // Plain git runs it: the hook is real.
    execFileSync('git', ['--git-dir', mirror, 'update-ref', 'refs/heads/x', 'main']);
    expect(existsSync(marker)).toBe(true);
  });

  it('stops a remote that never answers at the time limit', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const err = (await git()
        .run(['ls-remote', '--end-of-options', `git://127.0.0.1:${port}/x.git`], { timeoutMs: 300 })
        .catch((e: unknown) => e)) as GitCommandError;
      expect(err.kind).toBe('timeout');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('stops output past the size limit', async () => {
    const mirror = path.join(scratch, 'big.git');
    execFileSync('git', ['init', '-q', '--bare', mirror]);
    const blob = execFileSync('git', ['--git-dir', mirror, 'hash-object', '-w', '--stdin'], { input: 'x'.repeat(5000), encoding: 'utf8' }).trim();
    const err = (await git()
      .run(['cat-file', 'blob', blob], { gitDir: mirror, maxOutputBytes: 1000 })
      .catch((e: unknown) => e)) as GitCommandError;
    expect(err.kind).toBe('too_large');
  });

  describe('over ssh (OpenSSH sshd)', () => {
    let sshd: SshdPeer;
    let served: string;
    beforeAll(async () => {
      sshd = await startSshd();
      // The ssh user serves a copy it owns: git refuses repositories of other owners (safe.directory).
      const dir = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-git-ssh-'));
      chmodSync(dir, 0o755);
      served = path.join(dir, 'net.git');
      execFileSync('git', ['clone', '-q', '--bare', path.join(root.dir, 'net.git'), served]);
      execFileSync('chown', ['-R', sshd.username, dir]);
    });
    afterAll(async () => {
      await sshd?.stop();
      if (served) rmSync(path.dirname(served), { recursive: true, force: true });
    });

    it('authenticates with a key and with a password, pins the host key, and masks the password', async () => {
      const sshGit = createGit({ schemes: ['ssh'], timeoutMs: 20_000, maxOutputBytes: 1_000_000, knownHostsFile: path.join(scratch, 'ssh_known_hosts') });
      const url = `ssh://${sshd.username}@127.0.0.1:${sshd.port}${served}`;
      const byKey = await sshGit.text(['ls-remote', '--heads', '--end-of-options', url], {
        auth: { kind: 'ssh', username: sshd.username, privateKey: sshd.privateKey },
      });
      expect(byKey).toContain('refs/heads/main');
      const byPassword = await sshGit.text(['ls-remote', '--heads', '--end-of-options', url], {
        auth: { kind: 'ssh', username: sshd.username, password: sshd.password },
      });
      expect(byPassword).toBe(byKey);
      expect(execFileSync('cat', [path.join(scratch, 'ssh_known_hosts')], { encoding: 'utf8' })).toContain(`[127.0.0.1]:${sshd.port}`);
      const wrong = (await sshGit
        .run(['ls-remote', '--end-of-options', url], { auth: { kind: 'ssh', username: sshd.username, password: 'Not-The-Pa55word' } })
        .catch((e: unknown) => e)) as GitCommandError;
      expect(wrong.kind).toBe('auth');
      expect(`${wrong.message}${wrong.stderr}`).not.toContain('Not-The-Pa55word');
    });
  });
});
