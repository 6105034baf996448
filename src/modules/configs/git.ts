import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { childEnv } from '../../platform/child-env.js';
import { maskSecrets, type GitScheme } from './git-url.fns.js';

/** How a command authenticates to a remote; never written to disk but for an SSH key (0600, removed after). */
export type GitAuth = { kind: 'userpass'; username: string; password: string } | { kind: 'ssh'; username: string; privateKey?: string; password?: string };

export interface GitTls {
  verify: boolean;
  /** PEM bundle trusted for this remote in addition to (instead of) the system's. */
  caCert?: string | null;
}

export interface GitOptions {
  /** Schemes `protocol.<s>.allow=always` is set for; every other protocol is `never`. */
  schemes: readonly GitScheme[];
  timeoutMs: number;
  maxOutputBytes: number;
  /** SSH host keys of git remotes, trusted on first use. */
  knownHostsFile: string;
}

export interface RunOptions {
  gitDir?: string;
  auth?: GitAuth | null;
  tls?: GitTls;
  signal?: AbortSignal;
  timeoutMs?: number;
  maxOutputBytes?: number;
  /** Written to the command's stdin. */
  input?: string;
  /** Extra values to mask in error text (besides the auth secrets). */
  secrets?: readonly string[];
  /** Extra variables for this child (GIT_INDEX_FILE, author identity of a commit written by Opsdeck). */
  env?: Readonly<Record<string, string>>;
}

export type GitFailure = 'auth' | 'not_found' | 'timeout' | 'too_large' | 'refused' | 'failed';

export class GitCommandError extends Error {
  constructor(
    readonly kind: GitFailure,
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

// The askpass helper prints what git (or ssh) asks for from variables only this child sees.
const ASKPASS = `#!/bin/sh
case "$1" in
  [Uu]sername*) printf '%s\\n' "$OPSDECK_GIT_USERNAME" ;;
  *) printf '%s\\n' "$OPSDECK_GIT_PASSWORD" ;;
esac
`;

function classify(stderr: string): GitFailure {
  if (
    /Authentication failed|could not read (Username|Password)|Permission denied|HTTP 401|HTTP 403|returned error: 40[13]|Host key verification failed/i.test(
      stderr,
    )
  ) {
    return 'auth';
  }
  if (
    /not found|does not appear to be a git repository|Could not find remote branch|couldn't find remote ref|unknown revision|bad revision|does not exist|not a valid object|invalid object name|HTTP 404/i.test(
      stderr,
    )
  ) {
    return 'not_found';
  }
  if (/transport '[^']*' not allowed|protocol '[^']*' is not supported/i.test(stderr)) return 'refused';
  return 'failed';
}

function lastLines(text: string, n = 4): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 1000);
}

/**
 * The one way Opsdeck runs git: argument arrays through execFile (never a shell), hooks off,
 * protocols restricted on every command, the user's and system's git config ignored,
 * credentials through GIT_ASKPASS / SSH_ASKPASS and variables of this child only, a minimal
 * environment, time and output limits, and secrets masked in every error.
 */
export function createGit(options: GitOptions) {
  const base: string[] = [
    '-c',
    'core.hooksPath=/dev/null',
    '-c',
    'protocol.allow=never',
    ...options.schemes.flatMap((s) => ['-c', `protocol.${s}.allow=always`]),
    '-c',
    'credential.helper=',
    '-c',
    'core.fsmonitor=false',
    '-c',
    'http.followRedirects=false',
    '-c',
    'core.symlinks=false',
  ];

  async function withAuthEnv<T>(
    auth: GitAuth | null | undefined,
    tls: GitTls | undefined,
    fn: (env: Record<string, string>, extraArgs: string[]) => Promise<T>,
  ): Promise<T> {
    const env: Record<string, string> = {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '/bin/false',
      SSH_ASKPASS: '/bin/false',
      LC_ALL: 'C',
    };
    const extra: string[] = [];
    if (tls && !tls.verify) extra.push('-c', 'http.sslVerify=false');
    const needsDir = Boolean(auth) || Boolean(tls?.caCert);
    const dir = needsDir ? await mkdtemp(path.join(os.tmpdir(), 'opsdeck-git-')) : null;
    try {
      if (dir && tls?.caCert) {
        const ca = path.join(dir, 'ca.pem');
        await writeFile(ca, tls.caCert, { mode: 0o600 });
        extra.push('-c', `http.sslCAInfo=${ca}`);
      }
      const ssh = [
        'ssh',
        '-F',
        '/dev/null',
        '-o',
        'ConnectTimeout=15',
        '-o',
        'StrictHostKeyChecking=accept-new',
        '-o',
        `UserKnownHostsFile=${quote(options.knownHostsFile)}`,
      ];
      if (dir && auth) {
        const askpass = path.join(dir, 'askpass');
        await writeFile(askpass, ASKPASS, { mode: 0o700 });
        env.OPSDECK_GIT_USERNAME = auth.username;
        if (auth.kind === 'userpass') {
          env.GIT_ASKPASS = askpass;
          env.OPSDECK_GIT_PASSWORD = auth.password;
        } else {
          ssh.push('-o', `User=${quote(auth.username)}`);
          if (auth.privateKey) {
            const key = path.join(dir, 'id');
            await writeFile(key, auth.privateKey.endsWith('\n') ? auth.privateKey : `${auth.privateKey}\n`, { mode: 0o600 });
            ssh.push('-i', quote(key), '-o', 'IdentitiesOnly=yes');
          }
          if (auth.password) {
            env.SSH_ASKPASS = askpass;
            env.SSH_ASKPASS_REQUIRE = 'force';
            env.OPSDECK_GIT_PASSWORD = auth.password;
          } else ssh.push('-o', 'BatchMode=yes');
        }
      } else ssh.push('-o', 'BatchMode=yes');
      // NOTE: git runs GIT_SSH_COMMAND through a shell; every part is ours and quoted.
      env.GIT_SSH_COMMAND = ssh.join(' ');
      return await fn(env, extra);
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  function exec(args: string[], env: Record<string, string>, run: RunOptions, secrets: readonly string[]): Promise<Buffer> {
    const timeoutMs = run.timeoutMs ?? options.timeoutMs;
    const maxBuffer = run.maxOutputBytes ?? options.maxOutputBytes;
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        args,
        {
          env: childEnv(env),
          encoding: 'buffer',
          maxBuffer,
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          windowsHide: true,
          ...(run.signal ? { signal: run.signal } : {}),
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const text = maskSecrets(stderr.toString('utf8'), secrets);
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new GitCommandError('too_large', `git output exceeds ${maxBuffer} bytes`, text));
          if (e.killed || e.signal === 'SIGKILL') {
            return reject(
              new GitCommandError('timeout', `git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''} took longer than ${timeoutMs} ms`, text),
            );
          }
          if (e.name === 'AbortError') return reject(new GitCommandError('timeout', 'git command aborted', text));
          reject(new GitCommandError(classify(text), lastLines(text) || `git exited with ${String(e.code)}`, text));
        },
      );
      if (run.input !== undefined) child.stdin?.end(run.input);
    });
  }

  const git = {
    /** Runs `git <args>`; user values in `args` must come after `--` (or `--end-of-options`). */
    async run(args: readonly string[], run: RunOptions = {}): Promise<Buffer> {
      const secrets = [...(run.secrets ?? []), ...(run.auth?.kind === 'userpass' || run.auth?.kind === 'ssh' ? [run.auth.password ?? ''] : [])];
      return withAuthEnv(run.auth, run.tls, (env, extra) =>
        exec([...base, ...extra, ...(run.gitDir ? ['--git-dir', run.gitDir] : []), ...args], { ...run.env, ...env }, run, secrets),
      );
    },
    async text(args: readonly string[], run: RunOptions = {}): Promise<string> {
      return (await git.run(args, run)).toString('utf8');
    },
  };
  return git;
}

export type Git = ReturnType<typeof createGit>;

/** Single-quotes a value for the shell git uses for GIT_SSH_COMMAND. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
