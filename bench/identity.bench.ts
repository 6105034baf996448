/**
 * Identity: POST /auth/login and authenticated GET /auth/me throughput; /health p99 while 8
 * clients hammer /auth/login (argon2id runs on libuv's thread pool, so the event loop stays
 * free); and the cost of authentication, measured on the very same request
 * (GET /api/v1/system/info) served by two apps in one process over the same modules — one
 * with identity's authenticator and a bearer token (or an API key), one with the platform's
 * allow-all authenticator (bench/identity-auth-server.ts), sent the same headers so both parse
 * the same bytes; median of BENCH_AUTH_ROUNDS (40) paired rounds of 1 s slices. Ratios, not absolute numbers,
 * matter.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load, printResults, ROOT, startServer } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// The auth-cost pairs: many short adjacent slices, so that both sides of a pair see the same
// machine load (other processes come and go in bursts of seconds).
const authRounds = Number(process.env.BENCH_AUTH_ROUNDS ?? 40);
const authSlice = Number(process.env.BENCH_AUTH_SLICE_SECONDS ?? 1);
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
  const res = await fetch(`${base}/api/v1/api-keys`, {
    method: 'POST',
    headers: { ...json, authorization: `Bearer ${access}` },
    body: JSON.stringify({ name: 'bench', role: 'viewer' }),
  });
  return ((await res.json()) as { key: string }).key;
}

// 1. Throughput of login and me, and /health under login load, on a real `opsdeck serve`.
const server = await startServer(env);
try {
  const access = await token(server.url);
  const bearer = { authorization: `Bearer ${access}` };
  const login = await load('POST /api/v1/auth/login (argon2id)', {
    url: `${server.url}/api/v1/auth/login`,
    method: 'POST',
    headers: json,
    body: loginBody,
    connections: 8,
    seconds,
  });
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
  const urls = await new Promise<{ auth: string; none: string; cpu: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"auth"'));
      if (line) resolve(JSON.parse(line) as { auth: string; none: string; cpu: string });
    });
    child.on('exit', (code) => reject(new Error(`auth bench server exited with ${code}: ${out}`)));
  });
  const access = await token(urls.auth);
  const key = await apiKey(urls.auth, access);
  const route = '/api/v1/system/info';
  type Side = 'none' | 'bearer' | 'noneKey' | 'key';
  type Result = Awaited<ReturnType<typeof load>> & { cpuPerRequest: number };
  const cpuMicros = async () => Number(await (await fetch(urls.cpu)).text());
  /** One slice, charged the server's CPU time per request (µs) besides its throughput. */
  const measured = async (name: string, options: Parameters<typeof load>[1] & { seconds: number }): Promise<Result> => {
    const before = await cpuMicros();
    const result = await load(name, options);
    const cpu = (await cpuMicros()) - before;
    return { ...result, cpuPerRequest: cpu / Math.max(1, result.requestsPerSec * options.seconds) };
  };
  // Each authenticated side has its own baseline sending the very same bytes (the allow-all
  // app ignores the headers): only authentication differs within a pair.
  const runs: Record<Side, (s: number) => Promise<Result>> = {
    none: (s) =>
      measured(`GET ${route} (auth off, bearer header)`, { url: `${urls.none}${route}`, headers: { authorization: `Bearer ${access}` }, seconds: s }),
    bearer: (s) => measured(`GET ${route} (bearer JWT)`, { url: `${urls.auth}${route}`, headers: { authorization: `Bearer ${access}` }, seconds: s }),
    noneKey: (s) => measured(`GET ${route} (auth off, X-API-Key header)`, { url: `${urls.none}${route}`, headers: { 'x-api-key': key }, seconds: s }),
    key: (s) => measured(`GET ${route} (X-API-Key)`, { url: `${urls.auth}${route}`, headers: { 'x-api-key': key }, seconds: s }),
  };
  const pairs: [Side, Side][] = [
    ['none', 'bearer'],
    ['noneKey', 'key'],
  ];
  // Warm-up (JIT, caches) for every side alike, not measured.
  for (const side of Object.keys(runs) as Side[]) await runs[side](1);
  // Rounds of adjacent pairs, alternating which pair and which side of a pair goes first, so
  // drifting load from other processes hits both sides alike; each round yields one ratio per
  // pair and the median ratio over the rounds is reported (robust to a disturbed round).
  const rounds: Record<Side, Result>[] = [];
  for (let r = 0; r < authRounds; r += 1) {
    const round = {} as Record<Side, Result>;
    for (const pair of r % 2 === 0 ? pairs : [...pairs].reverse()) {
      for (const side of Math.floor(r / 2) % 2 === 0 ? pair : [...pair].reverse()) round[side] = await runs[side](authSlice);
    }
    rounds.push(round);
  }
  /** Linear-interpolated quantile, q in [0, 1]. */
  const quantile = (xs: number[], q: number) => {
    const sorted = [...xs].sort((x, y) => x - y);
    const at = (sorted.length - 1) * q;
    const lo = Math.floor(at);
    return sorted[lo]! + (sorted[Math.ceil(at)]! - sorted[lo]!) * (at - lo);
  };
  const median = (xs: number[]) => quantile(xs, 0.5);
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const sides = Object.keys(runs) as Side[];
  const of = (side: Side, f: (r: Result) => number) => rounds.map((r) => f(r[side]));
  printResults(
    `cost of authentication, same request, same process (${authRounds} rounds of ${authSlice}s slices; median per side)`,
    sides.map((side) => ({
      name: rounds[0]![side].name,
      requestsPerSec: Math.round(median(of(side, (r) => r.requestsPerSec))),
      p50: median(of(side, (r) => r.p50)),
      p99: median(of(side, (r) => r.p99)),
      errors: sum(of(side, (r) => r.errors)),
      non2xx: sum(of(side, (r) => r.non2xx)),
    })),
  );
  process.stdout.write(`server CPU per request (median): ${sides.map((s) => `${s} ${median(of(s, (r) => r.cpuPerRequest)).toFixed(1)} µs`).join(', ')}\n`);
  // Three estimates of the extra time per request, each by one rule for both sides: the median
  // of the per-round ratios (pairs are adjacent in time); the upper quartile of each side's
  // throughput, since other processes only ever slow a slice down; and the server's CPU per
  // request (lower quartile, for the same reason).
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
  const estimates = (side: Side, baseline: Side) => {
    const paired = median(rounds.map((r) => r[baseline].requestsPerSec / r[side].requestsPerSec - 1)) * 100;
    const upper =
      (quantile(
        of(baseline, (r) => r.requestsPerSec),
        0.75,
      ) /
        quantile(
          of(side, (r) => r.requestsPerSec),
          0.75,
        ) -
        1) *
      100;
    const cpu =
      (quantile(
        of(side, (r) => r.cpuPerRequest),
        0.25,
      ) /
        quantile(
          of(baseline, (r) => r.cpuPerRequest),
          0.25,
        ) -
        1) *
      100;
    const perRound = rounds.map((r) => pct((r[baseline].requestsPerSec / r[side].requestsPerSec - 1) * 100)).join(' ');
    return `${pct(paired)} paired median, ${pct(upper)} upper-quartile req/s, ${pct(cpu)} server CPU/request (rounds: ${perRound})`;
  };
  process.stdout.write(
    `\ntime per request, auth on vs off — target < +10%\n  bearer JWT: ${estimates('bearer', 'none')}\n  API key:    ${estimates('key', 'noneKey')}\n`,
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
