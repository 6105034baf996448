/**
 * Throwaway PostgreSQL and Redis for one test run: free loopback ports, data in a temporary
 * directory, tuned for speed over durability (nothing here must survive the run). As root,
 * initdb and postgres run as the `postgres` system user (or `nobody`): PostgreSQL refuses root.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { testRedisClient } from '../helpers/redis.js';
import { locate } from './packages.js';
import { freeTcpPort } from './ports.js';

export interface Throwaway {
  url: string;
  /** The server process, so a test can stop it without the clean-up. */
  child: ChildProcess;
  dir: string;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
  /** Synchronous last resort (process exit): kill and delete. */
  kill(): void;
}

const run = promisify(execFile);

/** uid/gid of a system user from /etc/passwd, or undefined. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

/** As root: the user PostgreSQL runs as and the `setpriv` prefix that switches to it. */
function postgresUser(): { owner?: { uid: number; gid: number }; prefix: string[] } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const name = systemUser('postgres') ? 'postgres' : 'nobody';
  const owner = systemUser(name);
  if (!owner) throw new Error('running as root, but neither a postgres nor a nobody user exists to run PostgreSQL as');
  return { owner, prefix: ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--'] };
}

function postgresBin(): string {
  const initdb = locate('/usr/lib/postgresql/*/bin/initdb') ?? locate('initdb');
  if (!initdb) throw new Error('initdb not found (apt-get install postgresql)');
  return path.dirname(initdb);
}

function spawnAs(prefix: string[], command: string, args: string[], options: { cwd: string; log: number }): ChildProcess {
  const [file, ...rest] = [...prefix, command, ...args];
  return spawn(file!, rest, { cwd: options.cwd, stdio: ['ignore', options.log, options.log] });
}

async function untilExit(child: ChildProcess, signal: NodeJS.Signals, ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

const PREFIX = 'opsdeck-test-';
/** The process that owns a throwaway directory; when it is gone, so should the directory be. */
const OWNER_FILE = 'owner.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes throwaway servers and directories whose owning process died without cleaning up
 * (killed with SIGKILL). A server is killed only if its pid still runs postgres or redis-server.
 */
export function removeStaleThrowaways(tmp = os.tmpdir()): string[] {
  const removed: string[] = [];
  for (const name of fs.readdirSync(tmp).filter((n) => /^opsdeck-test-(pg|redis)-/.test(n))) {
    const dir = path.join(tmp, name);
    const read = (file: string) => Number.parseInt(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '', 10);
    const owner = read(path.join(dir, OWNER_FILE));
    if (Number.isNaN(owner) || alive(owner)) continue;
    const server = read(path.join(dir, name.includes('-pg-') ? 'data/postmaster.pid' : 'redis.pid'));
    const command = !Number.isNaN(server) && fs.existsSync(`/proc/${server}/cmdline`) ? fs.readFileSync(`/proc/${server}/cmdline`, 'utf8') : '';
    if (/postgres|redis-server/.test(command)) process.kill(server, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function makeDir(kind: 'pg' | 'redis'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${kind}-`));
  fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

function throwaway(url: string, child: ChildProcess, dir: string, signal: NodeJS.Signals): Throwaway {
  return {
    url,
    child,
    dir,
    async stop() {
      await untilExit(child, signal);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `ready` until it resolves, failing with the server's log when it exits or times out. */
async function waitReady(child: ChildProcess, logFile: string, what: string, ready: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ready();
      return;
    } catch (err) {
      const done = child.exitCode !== null || child.signalCode !== null;
      if (done || Date.now() > deadline) {
        child.kill('SIGKILL');
        const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
        throw new Error(`${what} did not start (${done ? `exited ${child.exitCode ?? child.signalCode}` : String(err)}): ${log}`, { cause: err });
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh PostgreSQL cluster (superuser `postgres`, trust auth on loopback). */
export async function startThrowawayPostgres(options: { maxConnections: number }): Promise<Throwaway> {
  const bin = postgresBin();
  const { owner, prefix } = postgresUser();
  const dir = makeDir('pg');
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  try {
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
    const [file, ...args] = [
      ...prefix,
      path.join(bin, 'initdb'),
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '--no-instructions',
      '-E',
      'UTF8',
      '--locale=C',
    ];
    await run(file!, args, { cwd: dir });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freeTcpPort();
  const log = fs.openSync(logFile, 'a');
  const settings = {
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: String(options.maxConnections),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
  };
  const child = spawnAs(
    prefix,
    path.join(bin, 'postgres'),
    ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { cwd: dir, log },
  );
  fs.closeSync(log);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitReady(child, logFile, 'PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      await client.end().catch(() => undefined);
    }
  }).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  // SIGINT: "fast" shutdown (ends open sessions, no wait for clients).
  return throwaway(url, child, dir, 'SIGINT');
}

/** A fresh Redis without persistence that never evicts (BullMQ needs its keys kept). */
export async function startThrowawayRedis(): Promise<Throwaway> {
  const dir = makeDir('redis');
  const logFile = path.join(dir, 'redis.log');
  const port = await freeTcpPort();
  const log = fs.openSync(logFile, 'a');
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--pidfile',
    path.join(dir, 'redis.pid'),
  ];
  const child = spawnAs([], 'redis-server', args, { cwd: dir, log });
  fs.closeSync(log);
  const url = `redis://127.0.0.1:${port}`;
  await waitReady(child, logFile, 'Redis', async () => {
    const client = testRedisClient(url);
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  }).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return throwaway(url, child, dir, 'SIGTERM');
}
