/**
 * Alerts (issue 21): (1) ingest through `POST /api/v1/alerts/ingest/generic` on a real `opsdeck
 * serve` — BENCH_ALERTS events (10,000) over BENCH_ALERT_KEYS dedup keys (1,000), from
 * BENCH_CONCURRENCY clients — on SQLite and PostgreSQL: sustained events/s (and per minute
 * against the 10,000/minute target), p50/p99 latency, then the counts are checked (sum of the
 * open alerts' counts = events sent, open alerts = keys). Peer: the same events as raw
 * `INSERT … ON CONFLICT (key) DO UPDATE SET count = count + 1` into the same database, from the
 * same number of clients — the floor of any dedup that writes each event. (2) Delivery: a rule
 * sends every new alert to a loopback webhook receiver; notifications/s is read at the receiver
 * between its 10th and 90th percentile arrival (the backlog is full then, so it is the worker's
 * rate, not the ingest's). Peer: a plain HTTP POST loop of the same body to the same receiver
 * with the worker's concurrency (4). BENCH_DIALECTS (sqlite,postgres) picks the databases.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { createDatabase, type Dialect } from '../src/platform/db/database.js';
import { createPgDatabase } from '../test/helpers/db.js';
import { ratio, startServer } from './lib.js';

const PASSWORD = 'Bench-Horse-Battery-7261';
const EVENTS = Number(process.env.BENCH_ALERTS ?? 10_000);
const KEYS = Number(process.env.BENCH_ALERT_KEYS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const NOTIFICATIONS = Number(process.env.BENCH_NOTIFICATIONS ?? 1_000);
const WORKER_CONCURRENCY = 4;
const out = (line: string) => process.stdout.write(`${line}\n`);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;

/** Runs `n` jobs from `clients` concurrent loops; answers each job's latency (ms) and the elapsed time. */
async function drive(n: number, clients: number, job: (i: number) => Promise<void>): Promise<{ latencies: number[]; ms: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await job(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), ms: performance.now() - started };
}

async function api<T>(base: string, method: string, url: string, token: string | null, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** A loopback receiver that answers 200 and notes when each request arrived. */
async function receiver() {
  const arrivals: number[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push(performance.now());
      res.writeHead(200).end('ok');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, arrivals, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function runDialect(dialect: Dialect, rx: Awaited<ReturnType<typeof receiver>>): Promise<void> {
  const pgdb = dialect === 'postgres' ? await createPgDatabase() : null;
  const server = await startServer({
    OPSDECK_ADMIN_PASSWORD: PASSWORD,
    OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32',
    ...(pgdb ? { OPSDECK_DATABASE_URL: pgdb.url } : {}),
  });
  try {
    const base = server.url;
    const admin = (await api<{ access_token: string }>(base, 'POST', '/auth/login', null, { username: 'admin', password: PASSWORD })).access_token;
    const ingest = (await api<{ token: string }>(base, 'POST', '/alert-ingest-tokens', admin, { name: 'bench', source: 'bench' })).token;

    // 1. Ingest with dedup.
    const sent = await drive(EVENTS, CONCURRENCY, async (i) => {
      await api(base, 'POST', '/alerts/ingest/generic', ingest, {
        title: `link down ${i % KEYS}`,
        severity: 'warning',
        dedup_key: `bench-${i % KEYS}`,
        labels: { device: `sw-${i % KEYS}` },
      });
    });
    const rate = (EVENTS * 1000) / sent.ms;
    lastIngestRate.set(dialect, rate);
    const open = await api<{ items: { count: number }[] }>(base, 'GET', `/alerts?source=bench&state=open&limit=1000`, admin);
    const total = open.items.reduce((n, a) => n + a.count, 0);
    out(`\ningest on ${dialect}: ${EVENTS} events over ${KEYS} keys from ${CONCURRENCY} clients`);
    out(`  opsdeck  ${rate.toFixed(0).padStart(7)} events/s (${(rate * 60).toFixed(0)}/min; target 10,000/min ${rate * 60 >= 10_000 ? 'met' : 'NOT met'})`);
    out(`           p50 ${quantile(sent.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(sent.latencies, 0.99).toFixed(1)} ms`);
    out(
      `  check    open alerts ${open.items.length} (want ${KEYS}), sum of counts ${total} (want ${EVENTS}) — ${open.items.length === KEYS && total === EVENTS ? 'ok' : 'MISMATCH'}`,
    );

    // 2. Delivery: a rule for source `deliv` to the loopback receiver; NOTIFICATIONS new alerts.
    const ch = await api<{ id: string }>(base, 'POST', '/notifications/channels', admin, {
      name: 'bench-hook',
      type: 'webhook',
      settings: { url: `http://127.0.0.1:${rx.port}/hook` },
    });
    await api(base, 'POST', '/notifications/rules', admin, { name: 'bench', match: { sources: ['deliv'] }, channel_ids: [ch.id] });
    rx.arrivals.length = 0;
    await drive(NOTIFICATIONS, CONCURRENCY, async (i) => {
      await api(base, 'POST', '/alerts/ingest/generic', ingest, { source: 'deliv', title: `deliv ${i}`, severity: 'major', dedup_key: `deliv-${i}` });
    });
    const all = await waitFor(() => rx.arrivals.length >= NOTIFICATIONS, 300_000);
    const a = [...rx.arrivals].sort((x, y) => x - y);
    const lo = Math.floor(a.length * 0.1);
    const hi = Math.max(lo + 1, Math.floor(a.length * 0.9) - 1);
    const deliveryRate = ((hi - lo) * 1000) / Math.max(1, a[hi]! - a[lo]!);
    // Peer: plain POSTs of a notification-sized body with the worker's concurrency.
    const body = JSON.stringify({ notification_id: 'x', action: 'trigger', subject: '[MAJOR] deliv', text: 'deliv', alert: { title: 'deliv' } });
    const plain = await drive(NOTIFICATIONS, WORKER_CONCURRENCY, async () => {
      const res = await fetch(`http://127.0.0.1:${rx.port}/plain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.text();
    });
    const plainRate = (NOTIFICATIONS * 1000) / plain.ms;
    out(`delivery on ${dialect}: ${NOTIFICATIONS} notifications to a loopback webhook (${all ? 'all delivered' : `only ${rx.arrivals.length} arrived`})`);
    out(`  opsdeck  ${deliveryRate.toFixed(0).padStart(7)} notifications/s (outbox claim, render, egress-checked POST, attempt row)`);
    out(`  peer     ${plainRate.toFixed(0).padStart(7)} POST/s (plain fetch loop, ${WORKER_CONCURRENCY} at a time)`);
    out(`  ratio    ${ratio(deliveryRate, plainRate)} of plain POSTs`);
  } finally {
    await server.stop();
  }

  // Peer of (1): the same events as raw upserts into the same database, the server stopped.
  const database =
    dialect === 'postgres'
      ? createDatabase({ dialect, url: pgdb!.url, poolSize: CONCURRENCY })
      : createDatabase({ dialect, sqlitePath: path.join(server.dataDir, 'opsdeck.db') });
  try {
    const db = database.db;
    await sql`create table bench_dedup (dedup_key varchar(200) primary key, count integer not null, last_seen_at varchar(40) not null)`.execute(db);
    const raw = await drive(EVENTS, CONCURRENCY, async (i) => {
      const now = new Date().toISOString();
      await sql`insert into bench_dedup (dedup_key, count, last_seen_at) values (${`bench-${i % KEYS}`}, 1, ${now})
        on conflict (dedup_key) do update set count = bench_dedup.count + 1, last_seen_at = excluded.last_seen_at`.execute(db);
    });
    const rawRate = (EVENTS * 1000) / raw.ms;
    out(`ingest peer on ${dialect}: the same ${EVENTS} events as raw upserts into the same database, ${CONCURRENCY} clients`);
    out(
      `  peer     ${rawRate.toFixed(0).padStart(7)} upserts/s raw INSERT … ON CONFLICT, p50 ${quantile(raw.latencies, 0.5).toFixed(2)} ms, p99 ${quantile(raw.latencies, 0.99).toFixed(2)} ms`,
    );
    out(`  ratio    ingest keeps ${ratio(lastIngestRate.get(dialect) ?? 0, rawRate)} of the raw upsert rate`);
  } finally {
    await database.destroy();
    await pgdb?.drop();
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
}

const lastIngestRate = new Map<Dialect, number>();
const rx = await receiver();
try {
  for (const dialect of (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Dialect[]) await runDialect(dialect, rx);
} finally {
  await rx.close();
}
