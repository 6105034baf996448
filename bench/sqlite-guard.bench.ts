/**
 * What the SQLite re-entry guard (src/platform/db/sqlite-guard.ts) costs.
 *
 * 1. Code that never touches the database (an await-heavy stand-in for `GET /health`): timed before
 *    the process has run any transaction, after one committed, and while one is held open. A guard
 *    that leaves async context tracking switched on once it has been used makes every promise in the
 *    process dearer for good; the ratios say whether it does.
 * 2. Queries and transactions through the guarded Kysely against the same Kysely without the guard
 *    (SqliteDialect, statement cache, camelCase plugin) over the same file (the peer, same run).
 * Figures are ratios in one process; absolute times on a shared machine are noise.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect, sql } from 'kysely';
import { createDatabase, withStatementCache } from '../src/platform/db/database.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const FLOWS = 8_000;
const AWAITS = 25;

/** This process's CPU time (user + system), which other processes on a loaded machine disturb less than the clock. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Many small async flows, each awaiting a chain of promises: the shape of a request that never queries. */
async function noDbWork(): Promise<number> {
  const t = cpuMs();
  const flow = async (i: number) => {
    let x = i;
    for (let k = 0; k < AWAITS; k++) x = await Promise.resolve(x + 1);
    return x;
  };
  for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: FLOWS / 10 }, (_, i) => flow(i)));
  return cpuMs() - t;
}

/** The fastest of ROUNDS: on a loaded machine the minimum is the least disturbed figure. */
async function best(fn: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) min = Math.min(min, await fn());
  return min;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-guard-bench-'));
const file = path.join(dir, 'g.db');
const guarded = createDatabase({ dialect: 'sqlite', sqlitePath: file });
// The peer: what createDatabase opens, without the guard.
const plain = new Kysely<Record<string, never>>({
  dialect: new SqliteDialect({ database: withStatementCache(new SQLite(file)) }),
  plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
});
try {
  await sql`create table t (id integer primary key, v text)`.execute(guarded.db);
  await noDbWork(); // warm-up
  const fresh = await best(noDbWork);

  await guarded.db.transaction().execute((trx) => sql`insert into t (v) values ('a')`.execute(trx));
  await sql`select count(*) from t`.execute(guarded.db);
  const afterTx = await best(noDbWork);

  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = guarded.db.transaction().execute(async (trx) => {
    await sql`insert into t (v) values ('b')`.execute(trx);
    await gate;
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  const duringTx = await best(noDbWork);
  release();
  await held;

  const N = 4_000;
  const queries = async (db: Kysely<Record<string, never>>) => {
    const t = cpuMs();
    for (let i = 0; i < N; i++) await sql`select v from t where id = ${(i % 2) + 1}`.execute(db);
    return cpuMs() - t;
  };
  const transactions = async (db: Kysely<Record<string, never>>) => {
    const t = cpuMs();
    for (let i = 0; i < N / 4; i++) {
      await db.transaction().execute(async (trx) => {
        await sql`update t set v = ${String(i)} where id = 1`.execute(trx);
        await sql`select v from t where id = 1`.execute(trx);
      });
    }
    return cpuMs() - t;
  };
  const g = guarded.db as unknown as Kysely<Record<string, never>>;
  const qGuarded = await best(() => queries(g));
  const qPlain = await best(() => queries(plain));
  const txGuarded = await best(() => transactions(g));
  const txPlain = await best(() => transactions(plain));
  const afterAll = await best(noDbWork);

  const r = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(`sqlite-guard (best of ${ROUNDS}; ratios against a peer in this run; loaded machines make absolute ms noise)`);
  console.log(`  no-DB async work, before any transaction : ${fresh.toFixed(1)} ms CPU (baseline)`);
  console.log(`  same work after a transaction committed  : ${afterTx.toFixed(1)} ms = ${r(afterTx, fresh)} baseline`);
  console.log(`  same work while a transaction is held    : ${duringTx.toFixed(1)} ms = ${r(duringTx, fresh)} baseline`);
  console.log(`  same work after the query/tx loops below : ${afterAll.toFixed(1)} ms = ${r(afterAll, fresh)} baseline`);
  console.log(`  ${N} root queries, guarded vs plain Kysely : ${r(qGuarded, qPlain)} the time`);
  console.log(`  ${N / 4} transactions, guarded vs plain      : ${r(txGuarded, txPlain)} the time`);
} finally {
  await guarded.destroy();
  await plain.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}
