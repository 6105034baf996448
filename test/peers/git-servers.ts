/**
 * Real git servers on loopback for the configs module's tests: `git daemon` (git://) and
 * `git http-backend` run as a CGI behind a small Node HTTP server (smart HTTP), optionally behind
 * basic authentication. Repositories are bare directories under a temporary root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort, waitForTcp } from './ports.js';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.test',
};

/** A temporary root of bare repositories, plus helpers that commit files into them. */
export interface GitFixtureRoot {
  dir: string;
  /** Creates `<name>.git` (bare, branch `main`) and returns its path. */
  createBare(name: string): string;
  /** Commits files (path → content; null deletes; `{ rename: from }` renames; `{ symlink: target }` links) to `main` of a bare repository. */
  commit(
    name: string,
    files: Record<string, string | null | { rename: string } | { symlink: string }>,
    message: string,
    options?: { date?: string; author?: string },
  ): string;
  git(args: string[], cwd?: string): string;
  close(): void;
}

export function createGitFixtureRoot(): GitFixtureRoot {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-git-peer-'));
  const git = (args: string[], cwd = dir, env: Record<string, string> = {}) =>
    execFileSync('git', args, { cwd, env: { ...GIT_ENV, ...env }, encoding: 'utf8' });
  return {
    dir,
    git,
    createBare(name) {
      const bare = path.join(dir, `${name}.git`);
      git(['init', '-q', '--bare', '-b', 'main', bare]);
      return bare;
    },
    commit(name, files, message, options = {}) {
      const work = mkdtempSync(path.join(dir, 'work-'));
      try {
        const bare = path.join(dir, `${name}.git`);
        git(['clone', '-q', bare, work]);
        git(['checkout', '-q', '-B', 'main'], work);
        for (const [file, content] of Object.entries(files)) {
          const target = path.join(work, file);
          if (content === null) git(['rm', '-q', '--', file], work);
          else if (typeof content === 'object' && 'symlink' in content) {
            mkdirSync(path.dirname(target), { recursive: true });
            symlinkSync(content.symlink, target);
            git(['add', '--', file], work);
          } else if (typeof content === 'object') {
            mkdirSync(path.dirname(target), { recursive: true });
            git(['mv', '--', content.rename, file], work);
          } else {
            mkdirSync(path.dirname(target), { recursive: true });
            writeFileSync(target, content);
            git(['add', '--', file], work);
          }
        }
        const env: Record<string, string> = {};
        if (options.date) Object.assign(env, { GIT_AUTHOR_DATE: options.date, GIT_COMMITTER_DATE: options.date });
        if (options.author) {
          Object.assign(env, { GIT_AUTHOR_NAME: options.author, GIT_AUTHOR_EMAIL: `${options.author.toLowerCase().replace(/\s+/g, '.')}@example.test` });
        }
        git(['commit', '-q', '--allow-empty', '-m', message], work, env);
        git(['push', '-q', 'origin', 'HEAD:main'], work);
        return git(['rev-parse', 'HEAD'], work).trim();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GitServerPeer {
  /** Base URL; a repository `x` is at `${url}/x.git`. */
  url: string;
  close(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** `git daemon` serving every repository under `root` on a free loopback port; `push` enables receive-pack. */
export async function startGitDaemon(root: string, options: { push?: boolean } = {}): Promise<GitServerPeer> {
  const port = await freeTcpPort();
  const child = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      ...(options.push ? ['--enable=receive-pack'] : []),
      `--base-path=${root}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      root,
    ],
    { env: GIT_ENV, stdio: 'ignore' },
  );
  await waitForTcp('127.0.0.1', port);
  return { url: `git://127.0.0.1:${port}`, close: () => stopChild(child) };
}

/**
 * `git http-backend` as a CGI behind a loopback HTTP server (smart HTTP, as a web server would
 * run it). With `auth`, every request needs those basic credentials (401 otherwise).
 */
export async function startGitHttp(
  root: string,
  options: { auth?: { username: string; password: string } } = {},
): Promise<GitServerPeer & { requests: { authorization: string | undefined; url: string }[] }> {
  const requests: { authorization: string | undefined; url: string }[] = [];
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` : null;
  const server = http.createServer((req, res) => {
    requests.push({ authorization: req.headers.authorization, url: req.url ?? '' });
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        REMOTE_USER: options.auth?.username ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin!);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout!.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout!.on('end', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
