/**
 * Bulk writes must not stall the server: `POST /api/v1/devices/bulk` of 1,000 devices (with a
 * role and a tag each) while `GET /health` is probed every 20 ms on its own connection. Target
 * (issue 14): no probe above 100 ms. Prints each round's bulk time, the probes' p99 and max, and
 * the server's event-loop lag max during the round (`opsdeck_nodejs_eventloop_lag_max_seconds`,
 * prom-client's monitorEventLoopDelay, reset by each scrape). SQLite by default; BENCH_PG=1 adds
 * PostgreSQL at postgres://postgres@127.0.0.1:5432.
 */
import http from 'node:http';
import pg from 'pg';
import { startServer } from './lib.js';

const PASSWORD = 'Bench-Horse-Battery-7261';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ITEMS = 1000;

/** One request on the given agent; resolves with the status and body. */
function request(
  agent: http.Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { agent, method: options.method ?? 'GET', headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;

async function lagMaxMs(agent: http.Agent, url: string): Promise<number> {
  const text = (await request(agent, `${url}/metrics`)).body;
  const m = /^opsdeck_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : Number.NaN;
}

async function runDialect(dialect: 'sqlite' | 'postgres'): Promise<boolean> {
  let url: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  if (dialect === 'postgres') {
    const name = `opsdeck_bench_bulk_${Date.now()}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    url = `postgres://postgres@127.0.0.1:5432/${name}`;
    drop = async () => {
      const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const server = await startServer({ OPSDECK_ADMIN_PASSWORD: PASSWORD, ...(url ? { OPSDECK_DATABASE_URL: url } : {}) });
  const writer = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const prober = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let ok = true;
  try {
    const api = `${server.url}/api/v1`;
    const login = await request(writer, `${api}/auth/login`, { method: 'POST', body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    const headers = { authorization: `Bearer ${(JSON.parse(login.body) as { access_token: string }).access_token}` };
    await request(writer, `${api}/device-roles`, { method: 'POST', headers, body: JSON.stringify({ name: 'access', color: '00FF00' }) });
    await request(writer, `${api}/tags`, { method: 'POST', headers, body: JSON.stringify({ name: 'bulk' }) });
    await request(prober, `${server.url}/health`);
    process.stdout.write(`\nbulk create of ${ITEMS} devices on ${dialect}, GET /health probed every 20 ms on its own connection\n`);
    process.stdout.write(
      `${'round'.padEnd(6)} ${'bulk ms'.padStart(8)} ${'probes'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'loop lag max ms'.padStart(16)}\n`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const items = Array.from({ length: ITEMS }, (_, i) => ({
        name: `bulk-${round}-${i}`,
        role: 'access',
        tags: ['bulk'],
        primary_ip4: `10.${round}.${i >> 8}.${i & 255}`,
      }));
      const body = JSON.stringify({ items });
      await lagMaxMs(prober, server.url); // resets the lag histogram
      const probes: number[] = [];
      let done = false;
      const probing = (async () => {
        while (!done) {
          const t = performance.now();
          await request(prober, `${server.url}/health`);
          probes.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, Math.max(0, 20 - (performance.now() - t))));
        }
      })();
      const t = performance.now();
      const res = await request(writer, `${api}/devices/bulk`, { method: 'POST', headers, body });
      const bulkMs = performance.now() - t;
      done = true;
      await probing;
      if (res.status !== 201) throw new Error(`bulk failed: ${res.status} ${res.body.slice(0, 300)}`);
      const lag = await lagMaxMs(prober, server.url);
      const sorted = [...probes].sort((a, b) => a - b);
      const max = sorted.at(-1) ?? 0;
      if (max > 100) ok = false;
      process.stdout.write(
        `${String(round + 1).padEnd(6)} ${bulkMs.toFixed(0).padStart(8)} ${String(probes.length).padStart(7)} ${quantile(sorted, 0.99).toFixed(1).padStart(7)} ${max.toFixed(1).padStart(7)} ${lag.toFixed(1).padStart(16)}\n`,
      );
    }
    process.stdout.write(`target: no probe above 100 ms — ${ok ? 'met' : 'NOT met'}\n`);
  } finally {
    writer.destroy();
    prober.destroy();
    await server.stop();
    await drop?.();
  }
  return ok;
}

let ok = await runDialect('sqlite');
if (process.env.BENCH_PG === '1') ok = (await runDialect('postgres')) && ok;
process.exit(ok ? 0 : 1);
