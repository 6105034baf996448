/**
 * Identity: POST /auth/login and authenticated GET /auth/me throughput; /health p99 while 8
 * clients hammer /auth/login (argon2id runs on libuv's thread pool, so the event loop stays
 * free); and the cost of authentication, measured on the very same request
 * (GET /api/v1/system/info) served by two apps in one process over the same modules — one
 * with identity's authenticator and a bearer token (or an API key), one with the platform's
 * allow-all authenticator (bench/identity-auth-server.ts), sent the same Authorization header so
 * both parse the same bytes. Ratios, not absolute numbers, matter.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load, printResults, ratio, ROOT, startServer } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const PASSWORD = 'bench-only-password-7731';
const env = { OPSDECK_ADMIN_PASSWORD: PASSWORD, OPSDECK_AUTH_RATE_LIMIT: '1000000', OPSDECK_LOCKOUT_THRESHOLD: '1000' };
const loginBody = JSON.stringify({ username: 'admin', password: PASSWORD });
const json = { 'content-type': 'application/json' };

async function token(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: json, body: loginBody });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function apiKey(base: string, access: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/api-keys`, { method: 'POST', headers: { ...json, authorization: `Bearer ${access}` }, body: JSON.stringify({ name: 'bench', role: 'viewer' }) });
  return ((await res.json()) as { key: string }).key;
}

// 1. Throughput of login and me, and /health under login load, on a real `opsdeck serve`.
const server = await startServer(env);
try {
  const access = await token(server.url);
  const bearer = { authorization: `Bearer ${access}` };
  const login = await load('POST /api/v1/auth/login (argon2id)', { url: `${server.url}/api/v1/auth/login`, method: 'POST', headers: json, body: loginBody, connections: 8, seconds });
  const me = await load('GET /api/v1/auth/me (bearer)', { url: `${server.url}/api/v1/auth/me`, headers: bearer, seconds });
  const healthAlone = await load('GET /health (idle server)', { url: `${server.url}/health`, connections: 1, seconds });
  const [hammer, health] = await Promise.all([
    load('  POST /auth/login ×8 clients', { url: `${server.url}/api/v1/auth/login`, method: 'POST', headers: json, body: loginBody, connections: 8, seconds }),
    load('  GET /health during that', { url: `${server.url}/health`, connections: 1, seconds }),
  ]);
  printResults(`identity throughput (${seconds}s each)`, [login, me, healthAlone, hammer, health]);
  process.stdout.write(`\n/health p99 while 8 clients hammer /auth/login: ${health.p99.toFixed(2)} ms (target < 20 ms) — ${health.p99 < 20 ? 'OK' : 'OVER'}\n`);
} finally {
  await server.stop();
}

// 2. The cost of authentication on one and the same request.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-auth-'));
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPSDECK_')));
const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/identity-auth-server.ts')], {
  cwd: ROOT,
  env: { ...clean, ...env, OPSDECK_DATA_DIR: dataDir, OPSDECK_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const urls = await new Promise<{ auth: string; none: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"auth"'));
      if (line) resolve(JSON.parse(line) as { auth: string; none: string });
    });
    child.on('exit', (code) => reject(new Error(`auth bench server exited with ${code}: ${out}`)));
  });
  const access = await token(urls.auth);
  const key = await apiKey(urls.auth, access);
  const route = '/api/v1/system/info';
  const rounds: Record<'none' | 'bearer' | 'key', Awaited<ReturnType<typeof load>>>[] = [];
  const runs = {
    // The very same bytes on the wire (the allow-all app ignores the header): only auth differs.
    none: () => load(`GET ${route} (auth off, same header)`, { url: `${urls.none}${route}`, headers: { authorization: `Bearer ${access}` }, seconds }),
    bearer: () => load(`GET ${route} (bearer JWT)`, { url: `${urls.auth}${route}`, headers: { authorization: `Bearer ${access}` }, seconds }),
    key: () => load(`GET ${route} (X-API-Key)`, { url: `${urls.auth}${route}`, headers: { 'x-api-key': key }, seconds }),
  };
  // Three rounds in rotating order, best per side: load from other processes and warm-up
  // effects then hit every side alike.
  const orders: ('none' | 'bearer' | 'key')[][] = [['none', 'bearer', 'key'], ['key', 'none', 'bearer'], ['bearer', 'key', 'none']];
  for (const order of orders) {
    const round = {} as Record<'none' | 'bearer' | 'key', Awaited<ReturnType<typeof load>>>;
    for (const side of order) round[side] = await runs[side]();
    rounds.push(round);
  }
  const best = (k: 'none' | 'bearer' | 'key') => rounds.map((r) => r[k]).sort((a, b) => b.requestsPerSec - a.requestsPerSec)[0]!;
  const [none, bearer, apikey] = [best('none'), best('bearer'), best('key')];
  printResults(`cost of authentication, same request, same process (${seconds}s each, best of 3)`, [none, bearer, apikey]);
  process.stdout.write('(the X-API-Key request is ~350 bytes shorter than the bearer one, so its baseline would be a little faster)\n');
  const cost = (r: typeof none) => `${(((none.requestsPerSec - r.requestsPerSec) / none.requestsPerSec) * 100).toFixed(1)}% fewer req/s (${ratio(r.requestsPerSec, none.requestsPerSec)})`;
  process.stdout.write(`\nbearer JWT: ${cost(bearer)}; API key: ${cost(apikey)} — target < 10%\n`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
