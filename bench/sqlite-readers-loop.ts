/**
 * Event-loop time per read, one connection against reader threads: 10,000 device-like rows, a
 * 50-row keyset page selected 2,000 times with 50 in flight; prints the loop's active time per
 * read (performance.eventLoopUtilization), reads/s and the ratio.   npx tsx bench/sqlite-readers-loop.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { createDatabase } from '../src/platform/db/database.js';

type Tables = { devices: { id: string; name: string; ip: string; platform: string; role: string; site: string; status: string; notes: string } };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readers-loop-'));
const file = path.join(dir, 'b.db');
const seed = createDatabase({ dialect: 'sqlite', sqlitePath: file });
await sql`create table devices (id text primary key, name text not null, ip text, platform text, role text, site text, status text, notes text)`.execute(
  seed.db,
);
await sql`create index devices_name on devices (name, id)`.execute(seed.db);
const rows = Array.from({ length: 10_000 }, (_, i) => ({
  id: `d${i}`,
  name: `device-${String(i).padStart(5, '0')}`,
  ip: `10.0.${i >> 8}.${i & 255}`,
  platform: 'ios',
  role: 'core',
  site: `site-${i % 20}`,
  status: 'active',
  notes: 'x'.repeat(40),
}));
for (let i = 0; i < rows.length; i += 500) {
  await seed.db
    .withTables<Tables>()
    .insertInto('devices')
    .values(rows.slice(i, i + 500))
    .execute();
}
await seed.destroy();

async function run(readers: number): Promise<{ loopMsPerRead: number; readsPerS: number }> {
  const database = createDatabase({ dialect: 'sqlite', sqlitePath: file, sqliteReaders: readers });
  const db = database.db.withTables<Tables>();
  const page = (i: number) =>
    db
      .selectFrom('devices')
      .select(['id', 'name', 'ip', 'platform', 'role', 'site', 'status', 'notes'])
      .where('name', '>', `device-${String((i * 37) % 9000).padStart(5, '0')}`)
      .orderBy('name')
      .orderBy('id')
      .limit(50)
      .execute();
  await Promise.all(Array.from({ length: 200 }, (_, i) => page(i))); // warm: threads started, statements prepared
  const total = 2000;
  let next = 0;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < total) await page(next++);
    }),
  );
  const elapsed = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  await database.destroy();
  return { loopMsPerRead: elu.active / total, readsPerS: (total / elapsed) * 1000 };
}
for (let round = 0; round < 3; round++) {
  const one = await run(0);
  const threaded = await run(2);
  console.log(
    `one connection: ${one.loopMsPerRead.toFixed(3)} ms loop/read, ${one.readsPerS.toFixed(0)} reads/s | 2 readers: ${threaded.loopMsPerRead.toFixed(3)} ms loop/read, ${threaded.readsPerS.toFixed(0)} reads/s | loop time ${(threaded.loopMsPerRead / one.loopMsPerRead).toFixed(2)}x, throughput ${(threaded.readsPerS / one.readsPerS).toFixed(2)}x`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
