import { dialectOf, type Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import type { JobsTables } from './jobs.tables.js';
import { teamWhere, type TeamScope } from '../../platform/db/team-scope.js';

export type TemplateRow = JobsTables['jobTemplates'];
const COLUMNS = [
  'id',
  'name',
  'description',
  'type',
  'params',
  'targets',
  'credentialId',
  'priority',
  'timeoutMs',
  'targetTimeoutMs',
  'targetConcurrency',
  'maxAttempts',
  'backoffMs',
  'tags',
  'folder',
  'teamId',
  'createdAt',
  'updatedAt',
] as const;

function toTemplate(row: TemplateRow): TemplateRow {
  return { ...row, params: json.read(row.params), targets: json.read(row.targets), tags: json.read(row.tags) };
}

function encode(row: Partial<TemplateRow>): Partial<TemplateRow> {
  const out: Partial<TemplateRow> = { ...row };
  if (row.params !== undefined) out.params = json.write(row.params);
  if (row.targets !== undefined) out.targets = json.write(row.targets);
  if (row.tags !== undefined) out.tags = json.write(row.tags);
  return out;
}

/** job_templates. */
export function createTemplatesRepository(base: Db) {
  const db = base.withTables<JobsTables>();
  const dialect = dialectOf(base);
  const select = () => db.selectFrom('jobTemplates').select(COLUMNS);
  return {
    async insert(row: TemplateRow): Promise<void> {
      await db
        .insertInto('jobTemplates')
        .values(encode(row) as TemplateRow)
        .execute();
    },
    /** The team (null: shared) of each of these ids that exists (the audit list hides other teams' entries). */
    async teamsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('jobTemplates')
        .select(['id', 'teamId'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, r.teamId]));
    },
    async find(id: string): Promise<TemplateRow | undefined> {
      const row = await select().where('id', '=', id).executeTakeFirst();
      return row ? toTemplate(row as TemplateRow) : undefined;
    },
    async findByName(name: string): Promise<TemplateRow | undefined> {
      const row = await select().where('name', '=', name).executeTakeFirst();
      return row ? toTemplate(row as TemplateRow) : undefined;
    },
    /** Templates visible in the team scope (`team_id` null: everyone). */
    async list(scope: TeamScope, filters: FilterCondition[], keys: SortKey[], cursor: string | undefined, limit: number) {
      const rows = await applyPage(applyFilters(select().where(teamWhere(scope, 'jobTemplates.teamId')), filters, dialect), keys, cursor, limit).execute();
      const page = pageResult(rows as TemplateRow[], keys, limit, camelValue);
      return { items: page.items.map(toTemplate), next_cursor: page.next_cursor };
    },
    async update(id: string, fields: Partial<TemplateRow>): Promise<boolean> {
      const r = await db.updateTable('jobTemplates').set(encode(fields)).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async delete(id: string): Promise<boolean> {
      const r = await db.deleteFrom('jobTemplates').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}

export type TemplatesRepository = ReturnType<typeof createTemplatesRepository>;
