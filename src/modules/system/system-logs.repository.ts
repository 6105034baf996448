import { sql } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import type { DB } from '../../platform/db/schema.generated.js';
import { json } from '../../platform/db/columns.js';
import type { LogEntry, LogLevel, LogSource } from './system-logs.fns.js';

type SystemLogsTables = Pick<DB, 'systemLogs'>;

export interface LogQuery {
  levels: LogLevel[];
  source?: LogSource | undefined;
  since?: string | undefined;
  q?: string | undefined;
  /** Rows older than this id (the cursor). */
  before?: number | undefined;
  limit: number;
}

/** The only place Kysely touches `system_logs`. */
export function createSystemLogsRepository(db: Db) {
  const t = db.withTables<SystemLogsTables>();
  return {
    async insert(entries: readonly LogEntry[]): Promise<void> {
      if (entries.length === 0) return;
      await t
        .insertInto('systemLogs')
        .values(
          entries.map((e) => ({
            time: e.time,
            level: e.level,
            source: e.source,
            node: e.node.slice(0, 100),
            message: e.message,
            fields: json.write(e.fields),
          })) as never,
        )
        .execute();
    },
    /** Newest first. */
    async list(q: LogQuery) {
      let query = t.selectFrom('systemLogs').select(['id', 'time', 'level', 'source', 'node', 'message', 'fields']).where('level', 'in', q.levels);
      if (q.source) query = query.where('source', '=', q.source);
      if (q.since) query = query.where('time', '>=', q.since);
      if (q.q) query = query.where(sql<boolean>`lower(message) like ${`%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
      if (q.before !== undefined) query = query.where('id', '<', q.before);
      const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
      return rows.map((r) => ({
        id: Number(r.id),
        time: r.time,
        level: r.level as LogLevel,
        source: r.source as LogSource,
        node: r.node,
        message: r.message,
        fields: json.read<Record<string, unknown>>(r.fields) ?? {},
      }));
    },
    /** Deletes rows older than `cutoff` and all but the newest `maxRows`; answers how many went. */
    async prune(cutoff: string, maxRows: number): Promise<number> {
      const byAge = await t.deleteFrom('systemLogs').where('time', '<', cutoff).executeTakeFirst();
      const edge = await t.selectFrom('systemLogs').select('id').orderBy('id', 'desc').limit(1).offset(maxRows).executeTakeFirst();
      const byCount = edge ? await t.deleteFrom('systemLogs').where('id', '<=', edge.id).executeTakeFirst() : { numDeletedRows: 0n };
      return Number(byAge.numDeletedRows) + Number(byCount.numDeletedRows);
    },
  };
}
export type SystemLogsRepository = ReturnType<typeof createSystemLogsRepository>;
