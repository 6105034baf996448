import type { Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import type { JobsTables } from './jobs.tables.js';

/** Rewrites one stored params object, or answers null to leave it as it is. */
export type ParamsRewrite = (params: Record<string, unknown>) => Record<string, unknown> | null;

/**
 * Rewrites the stored params of every run and job template of an executor type (`rewrite` picks
 * and changes them): how another module scrubs values it learns to be secret after they were
 * stored (templates: a variables schema marking a variable secret masks it in every `config_push`
 * run and job template that held it in plain). Answers how many rows changed.
 */
export function createStoredParamsRewriter(base: Db) {
  const db = base.withTables<JobsTables>();
  return async function rewriteStoredParams(type: string, rewrite: ParamsRewrite): Promise<number> {
    let changed = 0;
    for (const table of ['jobRuns', 'jobTemplates'] as const) {
      const rows = await db.selectFrom(table).select(['id', 'params']).where('type', '=', type).execute();
      for (const row of rows) {
        const next = rewrite(json.read<Record<string, unknown>>(row.params ?? {}));
        if (!next) continue;
        await db
          .updateTable(table)
          .set({ params: json.write(next) })
          .where('id', '=', row.id)
          .execute();
        changed += 1;
      }
    }
    return changed;
  };
}
