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
     * Appends lines, only while `owner` holds the run's lease (checked in the same transaction,
     * the run row share-locked on PostgreSQL): a worker that lost its lease would otherwise write
     * its sequence numbers over the lines of the attempt that took the run over. False if fenced off.
     */
    async insert(runId: string, owner: string, lines: LogLine[]): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        let fence = trx.selectFrom('jobRuns').select('id').where('id', '=', runId).where('status', '=', 'running').where('leaseOwner', '=', owner);
        if (postgres) fence = fence.forShare();
        if (!(await fence.executeTakeFirst())) return false;
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
      const r = await db.selectFrom('jobLogs').select((eb) => eb.fn.max<number | null>('seq').as('m')).where('runId', '=', runId).executeTakeFirst();
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
        .where('runId', 'in', (eb) => eb.selectFrom('jobRuns').select('id').where('status', 'in', [...TERMINAL_STATUSES]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type LogsRepository = ReturnType<typeof createLogsRepository>;
