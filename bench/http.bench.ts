/**
 * Fairness under saturation: the list endpoint is saturated by keep-alive clients (autocannon in
 * its own process, BENCH_CONNECTIONS, default 50) while `GET /health` and `GET /api/v1/auth/me`
 * are probed every 20 ms, each on a FRESH connection, from this process. Prints the probes' p50,
 * p99 and max (target: p99 ≤ 50 ms), the saturating load's figures, and the server's event-loop
 * lag p99/max over the scenario (from /metrics, whose window resets at each scrape).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { ROOT, startServer } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 2000);
const PASSWORD = 'Bench-Http-Fairness-4821';
const TARGET_MS = 50;

async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One GET on a new TCP connection (no agent, `connection: close`): ms from request to last byte, and the status. */
function probe(url: string, headers: Record<string, string> = {}): Promise<{ ms: number; status: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { ...headers, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

const server = await startServer({ OPSDECK_ADMIN_PASSWORD: PASSWORD });
try {
  const { access_token: token } = await api<{ access_token: string }>(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const auth = { authorization: `Bearer ${token}` };
  for (let i = 0; i < DEVICES; i += 500) {
    const items = Array.from({ length: Math.min(500, DEVICES - i) }, (_, k) => ({
      name: `bench-${String(i + k).padStart(6, '0')}`,
      primary_ip4: `10.1.${((i + k) >> 8) & 255}.${(i + k) & 255}`,
    }));
    await api(`${server.url}/api/v1/devices/bulk`, { method: 'POST', headers: auth, body: JSON.stringify({ items }) });
  }
  process.stdout.write(`seeded ${DEVICES} devices\n`);
  const listUrl = `${server.url}/api/v1/devices?limit=50`;

  // The saturating clients, in their own process so this one's loop measures only the server.
  const cannon = spawn(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/autocannon/autocannon.js'),
      '--json',
      '-c',
      String(connections),
      '-d',
      String(seconds),
      '-H',
      `authorization=Bearer ${token}`,
      listUrl,
    ],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let cannonOut = '';
  cannon.stdout.on('data', (c: Buffer) => (cannonOut += c.toString()));
  const cannonDone = new Promise<void>((resolve) => cannon.on('exit', () => resolve()));

  await new Promise((resolve) => setTimeout(resolve, 1000)); // let the load build up
  await probe(`${server.url}/metrics`); // opens the event-loop lag window
  const samples: Record<string, { ms: number[]; statuses: Map<number, number> }> = {
    'GET /health': { ms: [], statuses: new Map() },
    'GET /api/v1/auth/me': { ms: [], statuses: new Map() },
  };
  const until = performance.now() + (seconds - 2) * 1000;
  while (performance.now() < until) {
    const [h, me] = await Promise.all([probe(`${server.url}/health`), probe(`${server.url}/api/v1/auth/me`, auth)]);
    for (const [name, r] of [
      ['GET /health', h],
      ['GET /api/v1/auth/me', me],
    ] as const) {
      samples[name]!.ms.push(r.ms);
      samples[name]!.statuses.set(r.status, (samples[name]!.statuses.get(r.status) ?? 0) + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const metrics = await new Promise<string>((resolve, reject) => {
    http
      .get(`${server.url}/metrics`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  await cannonDone;
  const load = JSON.parse(cannonOut) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    statusCodeStats?: Record<string, { count: number }>;
  };

  process.stdout.write(
    `\nhttp fairness: ${connections} keep-alive clients saturate GET /devices?limit=50 (${DEVICES} devices) for ${seconds}s; probes on fresh connections every 20 ms\n`,
  );
  process.stdout.write(
    `${'probe'.padEnd(24)} ${'n'.padStart(5)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}  statuses   target p99 ≤ ${TARGET_MS} ms\n`,
  );
  for (const [name, s] of Object.entries(samples)) {
    const sorted = [...s.ms].sort((a, b) => a - b);
    const p99 = pct(sorted, 99);
    const statuses = [...s.statuses].map(([k, v]) => `${k}×${v}`).join(',');
    process.stdout.write(
      `${name.padEnd(24)} ${String(sorted.length).padStart(5)} ${pct(sorted, 50).toFixed(1).padStart(8)} ${p99.toFixed(1).padStart(8)} ${(sorted.at(-1) ?? NaN).toFixed(1).padStart(8)}  ${statuses.padEnd(10)} ${p99 <= TARGET_MS ? 'PASS' : 'FAIL'}\n`,
    );
  }
  const codes = Object.entries(load.statusCodeStats ?? {})
    .map(([k, v]) => `${k}×${v.count}`)
    .join(',');
  process.stdout.write(
    `saturating load: ${Math.round(load.requests.average)} req/s, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, statuses ${codes}, errors ${load.errors}\n`,
  );
  process.stdout.write(
    `server event-loop lag over the probes: p99 ${(gauge(metrics, 'opsdeck_nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)} ms, max ${(gauge(metrics, 'opsdeck_nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)} ms\n`,
  );
} finally {
  await server.stop();
}
