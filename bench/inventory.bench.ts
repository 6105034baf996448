/**
 * Inventory at scale: 100,000 devices and 1,000,000 interfaces, seeded with bulk inserts
 * straight into the database (SQLite by default; BENCH_PG=1 adds PostgreSQL). Measures the
 * device list's first page against a deep cursor page (they must cost the same: keyset, not
 * OFFSET), a filtered query, a device with include=interfaces, and a 100,000-device CSV import
 * through the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { newId } from '../src/platform/ids.js';
import { load, printResults, ratio, startServer, type LoadResult } from './lib.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const IFACES_PER_DEVICE = Number(process.env.BENCH_IFACES ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const PASSWORD = 'Bench-Horse-Battery-7261';
const STATUS_ACTIVE = '0192f0a0-0000-7000-8000-000000000001';
const STATUS_PLANNED = '0192f0a0-0000-7000-8000-000000000002';

async function seed(db: Kysely<any>): Promise<{ sampleId: string }> {
  const now = new Date().toISOString();
  const stamp = { created_at: now, updated_at: now };
  const platforms = ['cisco_ios', 'juniper_junos', 'arista_eos', 'cisco_nxos'].map((d) => ({
    id: newId(),
    name: d.split('_')[1]!,
    network_driver: d,
    description: '',
    ...stamp,
  }));
  await db.insertInto('platforms').values(platforms).execute();
  const roles = ['core', 'distribution', 'access', 'edge'].map((n) => ({ id: newId(), name: n, color: '9e9e9e', description: '', ...stamp }));
  await db.insertInto('device_roles').values(roles).execute();
  const sites = Array.from({ length: 100 }, (_, i) => ({
    id: newId(),
    name: `site-${i}`,
    location_type: 'site',
    parent_id: null,
    description: '',
    custom_fields: '{}',
    ...stamp,
  }));
  await db.insertInto('locations').values(sites).execute();
  let sampleId = '';
  const batch = 1000;
  for (let start = 0; start < DEVICES; start += batch) {
    const devices = [];
    const ifaces = [];
    for (let i = start; i < Math.min(DEVICES, start + batch); i++) {
      const id = newId();
      if (i === Math.floor(DEVICES / 2)) sampleId = id;
      devices.push({
        id,
        name: `dev-${String(i).padStart(6, '0')}`,
        hostname: `dev-${i}.example.net`,
        primary_ip4: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        platform_id: platforms[i % platforms.length]!.id,
        role_id: roles[i % roles.length]!.id,
        location_id: sites[i % sites.length]!.id,
        status_id: i % 10 === 0 ? STATUS_PLANNED : STATUS_ACTIVE,
        comments: '',
        custom_fields: '{}',
        source: 'manual',
        ...stamp,
      });
      for (let j = 0; j < IFACES_PER_DEVICE; j++) {
        ifaces.push({ id: newId(), device_id: id, name: `Gi1/0/${j}`, type: 'ethernet', enabled: 1, description: '', custom_fields: '{}', ...stamp });
      }
    }
    for (let k = 0; k < devices.length; k += 500) {
      await db
        .insertInto('devices')
        .values(devices.slice(k, k + 500))
        .execute();
    }
    for (let k = 0; k < ifaces.length; k += 1000) {
      await db
        .insertInto('interfaces')
        .values(ifaces.slice(k, k + 1000))
        .execute();
    }
  }
  return { sampleId };
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function runDialect(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-inv-'));
  let url: string | undefined;
  let dropPg: (() => Promise<void>) | undefined;
  if (dialect === 'postgres') {
    const name = `opsdeck_bench_${Date.now()}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    url = `postgres://postgres@127.0.0.1:5432/${name}`;
    dropPg = async () => {
      const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const database = createDatabase({ dialect, sqlitePath: path.join(dataDir, 'opsdeck.db'), ...(url ? { url } : {}) });
  await migrateToLatest(database.db);
  let t = performance.now();
  const { sampleId } = await seed(database.db as unknown as Kysely<any>);
  if (dialect === 'postgres') await sql`analyze`.execute(database.db);
  process.stdout.write(
    `[${dialect}] seeded ${DEVICES} devices, ${DEVICES * IFACES_PER_DEVICE} interfaces in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
  await database.destroy();

  const env: Record<string, string> = { OPSDECK_DATA_DIR: dataDir, OPSDECK_ADMIN_PASSWORD: PASSWORD, ...(url ? { OPSDECK_DATABASE_URL: url } : {}) };
  const server = await startServer(env);
  try {
    const headers = { authorization: `Bearer ${await login(server.url)}` };
    const api = `${server.url}/api/v1`;
    // A cursor 90% of the way through the name order: where OFFSET paging would be slowest.
    const deepName = `dev-${String(Math.floor(DEVICES * 0.9)).padStart(6, '0')}`;
    const deepCursor = Buffer.from(JSON.stringify([deepName, 'ffffffff-ffff-7fff-bfff-ffffffffffff'])).toString('base64url');
    const check = await fetch(`${api}/devices?limit=50&cursor=${deepCursor}`, { headers });
    const deepFirst = ((await check.json()) as { items: { name: string }[] }).items[0]?.name;
    if (!deepFirst || deepFirst <= deepName) throw new Error(`deep cursor page is wrong: ${deepFirst}`);
    const results: LoadResult[] = [
      await load('GET /devices?limit=50 (first page)', { url: `${api}/devices?limit=50`, headers, seconds }),
      await load('GET /devices?limit=50 (deep cursor, 90%)', { url: `${api}/devices?limit=50&cursor=${deepCursor}`, headers, seconds }),
      await load('GET /devices?status=planned&platform=ios&name__ic=9', {
        url: `${api}/devices?limit=50&status=planned&platform=ios&name__ic=9`,
        headers,
        seconds,
      }),
      await load('GET /devices/{id}?include=interfaces', { url: `${api}/devices/${sampleId}?include=interfaces`, headers, seconds }),
    ];
    printResults(`inventory on ${dialect} (${DEVICES} devices, ${DEVICES * IFACES_PER_DEVICE} interfaces; ${seconds}s each, 10 connections)`, results);
    process.stdout.write(`deep page vs first page throughput: ${ratio(results[1]!.requestsPerSec, results[0]!.requestsPerSec)}\n`);

    const rows = ['name,hostname,primary_ip4,platform,role,location,status,tags'];
    for (let i = 0; i < DEVICES; i++) {
      rows.push(`imp-${i},imp-${i}.example.net,172.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},ios,core,site-${i % 100},active,`);
    }
    const csv = `${rows.join('\n')}\n`;
    t = performance.now();
    const res = await fetch(`${api}/devices/import`, { method: 'POST', headers: { ...headers, 'content-type': 'text/csv' }, body: csv });
    const report = (await res.json()) as { created?: number; errors?: unknown[] };
    const importSeconds = (performance.now() - t) / 1000;
    if (res.status !== 200 || report.created !== DEVICES) throw new Error(`import failed: ${res.status} ${JSON.stringify(report).slice(0, 500)}`);
    process.stdout.write(
      `import ${DEVICES} devices from CSV (${(csv.length / 1e6).toFixed(1)} MB) via POST /devices/import: ${importSeconds.toFixed(1)} s (${Math.round(DEVICES / importSeconds)} rows/s)\n`,
    );
  } finally {
    await server.stop();
    await dropPg?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await runDialect('sqlite');
if (process.env.BENCH_PG === '1') await runDialect('postgres');
