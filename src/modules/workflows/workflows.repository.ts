import { sql } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { bool, likeEscape } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { teamWhere, type TeamScope } from '../../platform/db/team-scope.js';
import type { WorkflowsTables } from './workflows.tables.js';

export type WorkflowRow = WorkflowsTables['workflows'];
export type VersionRow = WorkflowsTables['workflowVersions'];
export type ExecutionRow = WorkflowsTables['workflowExecutions'];
export type NodeRunRow = WorkflowsTables['workflowNodeRuns'];

const WORKFLOW_COLUMNS = [
  'id',
  'name',
  'description',
  'folder',
  'tags',
  'enabled',
  'version',
  'graph',
  'inputSchema',
  'triggerEvents',
  'webhookTokenHash',
  'ownerId',
  'teamId',
  'createdAt',
  'updatedAt',
] as const;
const EXECUTION_COLUMNS = [
  'id',
  'workflowId',
  'version',
  'status',
  'triggerKind',
  'trigger',
  'actorId',
  'teamId',
  'retryOf',
  'error',
  'cancelRequested',
  'leaseOwner',
  'leaseUntil',
  'createdAt',
  'startedAt',
  'finishedAt',
  'updatedAt',
] as const;
const NODE_RUN_COLUMNS = [
  'executionId',
  'nodeId',
  'type',
  'status',
  'attempt',
  'port',
  'input',
  'output',
  'error',
  'jobRunId',
  'decision',
  'startedAt',
  'finishedAt',
] as const;

const ID_DESC: SortKey[] = [{ field: 'id', column: 'id', desc: true, nullable: false }];
const BY_NAME: SortKey[] = [
  { field: 'name', column: 'name', desc: false, nullable: false },
  { field: 'id', column: 'id', desc: false, nullable: false },
];

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** workflows, workflow_versions, workflow_executions, workflow_node_runs. */
export function createWorkflowsRepository(base: Db) {
  const db = base.withTables<WorkflowsTables>();
  const workflows = () => db.selectFrom('workflows').select(WORKFLOW_COLUMNS);
  const executions = () => db.selectFrom('workflowExecutions').select(EXECUTION_COLUMNS);

  return {
    async insert(row: WorkflowRow, version: VersionRow): Promise<void> {
      await db.insertInto('workflows').values(row).execute();
      await db.insertInto('workflowVersions').values(version).execute();
    },
    /** Writes a save: the new current definition and its version row. */
    async update(id: string, patch: Partial<WorkflowRow>, version?: VersionRow): Promise<void> {
      await db.updateTable('workflows').set(patch).where('id', '=', id).execute();
      if (version) await db.insertInto('workflowVersions').values(version).execute();
    },
    find: (id: string) => workflows().where('id', '=', id).executeTakeFirst(),
    findByTokenHash: (hash: string) => workflows().where('webhookTokenHash', '=', hash).executeTakeFirst(),
    async remove(id: string): Promise<void> {
      await db
        .deleteFrom('workflowNodeRuns')
        .where('executionId', 'in', (eb) => eb.selectFrom('workflowExecutions').select('id').where('workflowId', '=', id))
        .execute();
      await db.deleteFrom('workflowExecutions').where('workflowId', '=', id).execute();
      await db.deleteFrom('workflowVersions').where('workflowId', '=', id).execute();
      await db.deleteFrom('workflows').where('id', '=', id).execute();
    },
    async list(
      scope: TeamScope,
      q: { limit: number; cursor?: string | undefined; folder?: string | undefined; tag?: string | undefined; q?: string | undefined },
    ) {
      let query = workflows().where(teamWhere(scope, 'teamId'));
      if (q.folder !== undefined) query = query.where('folder', '=', q.folder);
      if (q.tag !== undefined) query = query.where('tags', 'like', `%${likeEscape(JSON.stringify(q.tag))}%`);
      if (q.q) query = query.where(sql<boolean>`lower(name) like ${`%${likeEscape(q.q.toLowerCase())}%`} escape '\\'`);
      const rows = await applyPage(query, BY_NAME, q.cursor, q.limit).execute();
      return pageResult(rows, BY_NAME, q.limit, camelValue);
    },
    /** Folder and tag columns of every visible workflow (for the counts). */
    labels: (scope: TeamScope) => db.selectFrom('workflows').select(['folder', 'tags']).where(teamWhere(scope, 'teamId')).execute(),
    /** Enabled workflows that subscribe to any event (few; filtered by name in the caller). */
    eventSubscribers: () => workflows().where('enabled', '=', bool.write(true)).where('triggerEvents', '<>', '[]').execute(),
    versions: (id: string) => db.selectFrom('workflowVersions').selectAll().where('workflowId', '=', id).orderBy('version', 'desc').limit(1000).execute(),
    version: (id: string, version: number) =>
      db.selectFrom('workflowVersions').selectAll().where('workflowId', '=', id).where('version', '=', version).executeTakeFirst(),
    async teamsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('workflows')
        .select(['id', 'teamId'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, r.teamId]));
    },

    async executionTeamsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('workflowExecutions')
        .select(['id', 'teamId'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, r.teamId]));
    },
    async insertExecution(row: ExecutionRow, nodes: NodeRunRow[]): Promise<void> {
      await db.insertInto('workflowExecutions').values(row).execute();
      if (nodes.length > 0) await db.insertInto('workflowNodeRuns').values(nodes).execute();
    },
    findExecution: (id: string) => executions().where('id', '=', id).executeTakeFirst(),
    async listExecutions(scope: TeamScope, q: { limit: number; cursor?: string | undefined; workflow_id?: string | undefined; status?: string | undefined }) {
      let query = executions().where(teamWhere(scope, 'teamId'));
      if (q.workflow_id) query = query.where('workflowId', '=', q.workflow_id);
      if (q.status) query = query.where('status', '=', q.status);
      const rows = await applyPage(query, ID_DESC, q.cursor, q.limit).execute();
      return pageResult(rows, ID_DESC, q.limit, camelValue);
    },
    nodeRuns: (executionId: string) => db.selectFrom('workflowNodeRuns').select(NODE_RUN_COLUMNS).where('executionId', '=', executionId).execute(),
    async nodeRunsOf(executionIds: readonly string[]): Promise<NodeRunRow[]> {
      if (executionIds.length === 0) return [];
      return db.selectFrom('workflowNodeRuns').select(NODE_RUN_COLUMNS).where('executionId', 'in', executionIds).execute();
    },
    /** Changes an execution only while it is in one of `from` (and, given `owner`, still leased by it); whether it did. */
    async updateExecution(id: string, patch: Partial<ExecutionRow>, from: readonly string[], owner?: string): Promise<boolean> {
      let q = db
        .updateTable('workflowExecutions')
        .set(patch)
        .where('id', '=', id)
        .where('status', 'in', [...from]);
      if (owner) q = q.where('leaseOwner', '=', owner);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Records an approval decision once: only on a running approval node without one; whether it did. */
    async decide(executionId: string, nodeId: string, decision: string): Promise<boolean> {
      const r = await db
        .updateTable('workflowNodeRuns')
        .set({ decision })
        .where('executionId', '=', executionId)
        .where('nodeId', '=', nodeId)
        .where('type', '=', 'approval')
        .where('status', '=', 'running')
        .where('decision', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async updateNodeRun(executionId: string, nodeId: string, patch: Partial<NodeRunRow>): Promise<void> {
      await db.updateTable('workflowNodeRuns').set(patch).where('executionId', '=', executionId).where('nodeId', '=', nodeId).execute();
    },
    /**
     * Claims up to `limit` executions nobody holds (queued, or running with a lapsed lease: their
     * engine died) by compare-and-set on the lease; the ids this node now owns.
     */
    async claim(owner: string, now: string, until: string, limit: number): Promise<string[]> {
      const candidates = await db
        .selectFrom('workflowExecutions')
        .select('id')
        .where('status', 'in', ['queued', 'running'])
        .where((eb) => eb.or([eb('leaseUntil', 'is', null), eb('leaseUntil', '<', now)]))
        .orderBy('id')
        .limit(limit)
        .execute();
      const claimed: string[] = [];
      for (const { id } of candidates) {
        const r = await db
          .updateTable('workflowExecutions')
          .set({ leaseOwner: owner, leaseUntil: until, updatedAt: now })
          .where('id', '=', id)
          .where('status', 'in', ['queued', 'running'])
          .where((eb) => eb.or([eb('leaseUntil', 'is', null), eb('leaseUntil', '<', now)]))
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) > 0) claimed.push(id);
      }
      return claimed;
    },
    /** Extends the leases this node holds; the ids it no longer holds. */
    async renew(owner: string, ids: readonly string[], until: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('workflowExecutions')
        .set({ leaseUntil: until })
        .where('id', 'in', [...ids])
        .where('leaseOwner', '=', owner)
        .execute();
    },
    async release(owner: string, ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('workflowExecutions')
        .set({ leaseOwner: null, leaseUntil: null })
        .where('id', 'in', [...ids])
        .where('leaseOwner', '=', owner)
        .execute();
    },
    /** The earliest lease that will lapse (ISO), for the engine's next look. */
    async nextLapse(): Promise<string | null> {
      const row = await db
        .selectFrom('workflowExecutions')
        .select((eb) => eb.fn.min('leaseUntil').as('at'))
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      return (row?.at as string | null | undefined) ?? null;
    },
  };
}
export type WorkflowsRepository = ReturnType<typeof createWorkflowsRepository>;
