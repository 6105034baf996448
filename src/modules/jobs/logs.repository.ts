import { sql } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.js';
import type { JobsTables } from './jobs.tables.js';
import { TERMINAL_STATUSES } from './run-state.fns.js';

export interface LogLine {
  seq: number;
  ts: string;
  level: string;
  target: string | null;
  message: string;
}

/** job_logs: ordered lines per run, written in batches by the run's lease holder only. */
export function createLogsRepository(base: Db) {
  const db = base.withTables<JobsTables>();
  const postgres = dialectOf(base) === 'postgres';
  return {
    /**
     * Appends lines, only while `owner` holds the run's lease: a worker that lost its lease would
     * otherwise write its sequence numbers over the lines of the attempt that took the run over.
     * PostgreSQL: one statement (the run row share-locked, so a concurrent claim waits or wins;
     * the lines as one JSON parameter). SQLite: the check and the insert in one transaction.
     * False when fenced off.
     */
    async insert(runId: string, owner: string, lines: LogLine[]): Promise<boolean> {
      if (postgres) {
        const { rows } = await sql<{ held: number }>`
          with fence as (select 1 from job_runs where id = ${runId} and status = 'running' and lease_owner = ${owner} for share),
          ins as (
            insert into job_logs (run_id, seq, ts, level, target, message)
            select ${runId}, x.seq, x.ts, x.level, x.target, x.message
            from jsonb_to_recordset(${JSON.stringify(lines)}::jsonb) as x(seq integer, ts timestamptz, level varchar, target varchar, message text)
            where exists (select 1 from fence)
            on conflict (run_id, seq) do nothing
          )
          select count(*)::integer as held from fence`.execute(db);
        return Number(rows[0]?.held ?? 0) > 0;
      }
      return db.transaction().execute(async (trx) => {
        const held = await trx
          .selectFrom('jobRuns')
          .select('id')
          .where('id', '=', runId)
          .where('status', '=', 'running')
          .where('leaseOwner', '=', owner)
          .executeTakeFirst();
        if (!held) return false;
        for (let i = 0; i < lines.length; i += 500) {
          await trx
            .insertInto('jobLogs')
            .values(lines.slice(i, i + 500).map((l) => ({ runId, ...l })))
            // A retried flush after an ambiguous failure must not fail on lines already stored.
            .onConflict((oc) => oc.columns(['runId', 'seq']).doNothing())
            .execute();
        }
        return true;
      });
    },
    async read(runId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
      return db
        .selectFrom('jobLogs')
        .select(['seq', 'ts', 'level', 'target', 'message'])
        .where('runId', '=', runId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
    },
    async maxSeq(runId: string): Promise<number> {
      const r = await db
        .selectFrom('jobLogs')
        .select((eb) => eb.fn.max<number | null>('seq').as('m'))
        .where('runId', '=', runId)
        .executeTakeFirst();
      return Number(r?.m ?? 0);
    },
    async deleteForRun(runId: string): Promise<number> {
      const r = await db.deleteFrom('jobLogs').where('runId', '=', runId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Clears the logs of every finished run. */
    async deleteFinished(): Promise<number> {
      const r = await db
        .deleteFrom('jobLogs')
        .where('runId', 'in', (eb) =>
          eb
            .selectFrom('jobRuns')
            .select('id')
            .where('status', 'in', [...TERMINAL_STATUSES]),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type LogsRepository = ReturnType<typeof createLogsRepository>;
