import { createHash, randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Db } from '../../platform/db/database.js';
import { bool, json } from '../../platform/db/columns.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { inTeamScope, teamScope } from '../../platform/db/team-scope.js';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { NODE_TYPES } from './node-types.js';
import { forbiddenKeys, validateGraph, type Graph } from './workflows.fns.js';
import {
  createWorkflowsRepository,
  isUniqueViolation,
  type ExecutionRow,
  type NodeRunRow,
  type WorkflowRow,
  type WorkflowsRepository,
} from './workflows.repository.js';
import type {
  CreateWorkflowBody,
  ExecutionView,
  ExportDocument,
  ListExecutionsQuery,
  ListWorkflowsQuery,
  UpdateWorkflowBody,
  WorkflowView,
} from './workflows.schemas.js';

export interface AuditPort {
  record(
    trx: Db,
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}
export interface EventsPort {
  record(trx: Db, name: string, payload: unknown): Promise<unknown>;
  relay(): Promise<void>;
}

export interface WorkflowsServiceDeps {
  db: Db;
  logger: Logger;
  audit?: AuditPort | undefined;
  events: EventsPort;
  executorTypes: () => string[];
  /** Wakes the engine after an execution was queued. */
  wake: () => void;
}

const READ = 'workflows:read';
const WRITE = 'workflows:write';
const EXECUTE = 'workflows:execute';
const ACTIVE = ['queued', 'running'];

/** The user an execution acts as: the person behind an API key, or the system. */
const principalOf = (a: Actor) => a.userId ?? a.id;
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function view(row: WorkflowRow): WorkflowView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    folder: row.folder,
    tags: json.read<string[]>(row.tags),
    enabled: bool.read(row.enabled),
    version: row.version,
    graph: json.read<Graph>(row.graph),
    input_schema: json.read<Record<string, unknown>>(row.inputSchema),
    trigger_events: json.read<WorkflowView['trigger_events']>(row.triggerEvents),
    webhook_enabled: row.webhookTokenHash !== null,
    owner_id: row.ownerId,
    team_id: row.teamId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

const pendingNode = (executionId: string, nodeId: string, type: string): NodeRunRow => ({
  executionId,
  nodeId,
  type,
  status: 'pending',
  attempt: 0,
  port: null,
  input: null,
  output: null,
  error: null,
  jobRunId: null,
  decision: null,
  startedAt: null,
  finishedAt: null,
});

const readJson = (v: string | null) => (v === null ? null : json.read<unknown>(v));

export function executionView(row: ExecutionRow, nodes: readonly NodeRunRow[]): ExecutionView {
  return {
    id: row.id,
    workflow_id: row.workflowId,
    version: row.version,
    status: row.status as ExecutionView['status'],
    trigger_kind: row.triggerKind,
    trigger: json.read(row.trigger),
    actor_id: row.actorId,
    team_id: row.teamId,
    retry_of: row.retryOf,
    error: row.error,
    created_at: row.createdAt,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
    nodes: nodes
      .filter((n) => n.executionId === row.id)
      .map((n) => ({
        node_id: n.nodeId,
        type: n.type,
        status: n.status as ExecutionView['nodes'][number]['status'],
        attempt: n.attempt,
        port: n.port,
        input: readJson(n.input),
        output: readJson(n.output),
        error: n.error,
        job_run_id: n.jobRunId,
        decision: n.decision === null ? null : json.read<ExecutionView['nodes'][number]['decision']>(n.decision),
        started_at: n.startedAt,
        finished_at: n.finishedAt,
      })),
  };
}

/** Workflows: definitions with versions, import/export, triggers and executions. Every method authorises its actor. */
export function createWorkflowsService(deps: WorkflowsServiceDeps) {
  const repo = createWorkflowsRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (db) => ({ db, workflows: createWorkflowsRepository(db) }),
    (err) => deps.logger.warn({ err }, 'workflows after-commit failed'),
  );
  // NOTE: input schemas are the authors' own; Ajv compiles each once (cached by schema).
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  async function load(actor: Actor, id: string): Promise<WorkflowRow> {
    const w = await repo.find(id);
    if (!w || !inTeamScope(teamScope(actor), w.teamId)) throw new NotFoundError('WORKFLOW_NOT_FOUND', `Workflow ${id} does not exist`);
    return w;
  }

  async function loadExecution(actor: Actor, id: string): Promise<ExecutionRow> {
    const e = await repo.findExecution(id);
    if (!e || !inTeamScope(teamScope(actor), e.teamId)) throw new NotFoundError('WORKFLOW_EXECUTION_NOT_FOUND', `Execution ${id} does not exist`);
    return e;
  }

  /** Graph, input schema and team rules of a definition about to be saved: 422 with every problem located. */
  function check(actor: Actor, body: { graph: Graph; input_schema: Record<string, unknown>; team_id: string | null }, base = 'body'): void {
    const errors: FieldError[] = validateGraph(body.graph, new Set(deps.executorTypes()), `${base}.graph`);
    errors.push(...forbiddenKeys(body.input_schema, `${base}.input_schema`));
    try {
      ajv.compile(body.input_schema);
    } catch (err) {
      errors.push({ path: `${base}.input_schema`, message: `is not a valid JSON Schema: ${(err as Error).message}`.slice(0, 900) });
    }
    if (body.team_id !== null && !inTeamScope(teamScope(actor), body.team_id)) errors.push({ path: `${base}.team_id`, message: 'not one of your teams' });
    if (errors.length > 0) throw new ValidationError('WORKFLOW_INVALID', `The workflow has ${errors.length} problem(s)`, errors);
  }

  const nameTaken = (name: string) =>
    new ConflictError('WORKFLOW_NAME_TAKEN', `A workflow named '${name}' already exists`, [{ path: 'body.name', message: 'is already used' }]);

  async function write<T>(name: string, work: (r: { db: Db; workflows: WorkflowsRepository }) => Promise<T>): Promise<T> {
    try {
      const result = await uow(work);
      void deps.events.relay().catch(() => undefined);
      return result;
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(name);
      throw err;
    }
  }

  /** Stores a queued execution (in the caller's transaction when given); the engine picks it up. */
  async function enqueue(
    db: Db,
    w: WorkflowRow,
    actorId: string,
    trigger: { kind: string; body: unknown; event?: string },
    retry?: { of: string; version: number; graph: string; nodes: NodeRunRow[] },
  ): Promise<ExecutionRow> {
    const now = nowIso();
    const row: ExecutionRow = {
      id: newId(),
      workflowId: w.id,
      version: retry?.version ?? w.version,
      status: 'queued',
      triggerKind: trigger.kind,
      trigger: json.write(trigger),
      actorId,
      teamId: w.teamId,
      retryOf: retry?.of ?? null,
      error: null,
      cancelRequested: bool.write(false),
      leaseOwner: null,
      leaseUntil: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    // Every node of the version has its row from the start (pending), so the execution shows the whole graph.
    const kept = new Map((retry?.nodes ?? []).map((n) => [n.nodeId, { ...n, executionId: row.id }]));
    const graph = json.read<Graph>(retry?.graph ?? w.graph);
    await createWorkflowsRepository(db).insertExecution(
      row,
      graph.nodes.map((n) => kept.get(n.id) ?? pendingNode(row.id, n.id, n.type)),
    );
    await deps.events.record(db, 'workflow.execution.queued', { execution_id: row.id, workflow_id: w.id, trigger_kind: trigger.kind });
    return row;
  }

  /** Starting, retrying and cancelling executions are audited against the execution (team-scoped like its workflow). */
  async function audited(db: Db, actor: Actor, action: string, e: ExecutionRow): Promise<void> {
    await deps.audit?.record(db, {
      actor,
      action,
      resourceType: 'workflow_execution',
      resourceId: e.id,
      outcome: 'success',
      changes: { workflow_id: e.workflowId, version: e.version },
    });
  }

  async function started(row: ExecutionRow): Promise<ExecutionView> {
    deps.wake();
    void deps.events.relay().catch(() => undefined);
    return executionView(row, []);
  }

  const service = {
    nodeTypes(actor: Actor) {
      requirePermission(actor, READ);
      return {
        items: NODE_TYPES.map((d) => ({
          type: d.type,
          description: d.description,
          parameters: d.parameters,
          output: d.output,
          ports: d.ports ? [...d.ports] : null,
          effects: d.effects,
        })),
      };
    },

    async create(actor: Actor, body: CreateWorkflowBody) {
      requirePermission(actor, WRITE);
      const fields = { graph: body.graph as Graph, input_schema: body.input_schema ?? {}, team_id: body.team_id ?? null };
      check(actor, fields);
      const now = nowIso();
      const row: WorkflowRow = {
        id: newId(),
        name: body.name,
        description: body.description ?? '',
        folder: body.folder ?? '',
        tags: json.write(body.tags ?? []),
        enabled: bool.write(body.enabled ?? true),
        version: 1,
        graph: json.write(fields.graph),
        inputSchema: json.write(fields.input_schema),
        triggerEvents: json.write(body.trigger_events ?? []),
        webhookTokenHash: null,
        ownerId: principalOf(actor),
        teamId: fields.team_id,
        createdAt: now,
        updatedAt: now,
      };
      await write(body.name, async (r) => {
        await r.workflows.insert(row, {
          workflowId: row.id,
          version: 1,
          graph: row.graph,
          inputSchema: row.inputSchema,
          createdBy: actor.name,
          createdAt: now,
        });
        await deps.audit?.record(r.db, {
          actor,
          action: 'workflow.created',
          resourceType: 'workflow',
          resourceId: row.id,
          outcome: 'success',
          changes: { name: row.name },
        });
        await deps.events.record(r.db, 'workflow.created', { id: row.id, name: row.name, version: 1 });
      });
      return view(row);
    },

    async get(actor: Actor, id: string) {
      requirePermission(actor, READ);
      return view(await load(actor, id));
    },

    async list(actor: Actor, query: ListWorkflowsQuery) {
      requirePermission(actor, READ);
      const page = await repo.list(teamScope(actor), { ...query, limit: query.limit ?? 50 });
      return { items: page.items.map(view), next_cursor: page.next_cursor };
    },

    /** Every save is a new immutable version (executions keep the version they started with). */
    async update(actor: Actor, id: string, body: UpdateWorkflowBody) {
      requirePermission(actor, WRITE);
      const w = await load(actor, id);
      const current = view(w);
      const fields = {
        graph: (body.graph ?? current.graph) as Graph,
        input_schema: body.input_schema ?? current.input_schema,
        team_id: body.team_id === undefined ? w.teamId : body.team_id,
      };
      check(actor, fields);
      const now = nowIso();
      const version = w.version + 1;
      const patch: Partial<WorkflowRow> = {
        name: body.name ?? w.name,
        description: body.description ?? w.description,
        folder: body.folder ?? w.folder,
        tags: json.write(body.tags ?? current.tags),
        enabled: bool.write(body.enabled ?? current.enabled),
        graph: json.write(fields.graph),
        inputSchema: json.write(fields.input_schema),
        triggerEvents: json.write(body.trigger_events ?? current.trigger_events),
        teamId: fields.team_id,
        version,
        updatedAt: now,
      };
      await write(patch.name!, async (r) => {
        await r.workflows.update(id, patch, {
          workflowId: id,
          version,
          graph: patch.graph!,
          inputSchema: patch.inputSchema!,
          createdBy: actor.name,
          createdAt: now,
        });
        await deps.audit?.record(r.db, {
          actor,
          action: 'workflow.updated',
          resourceType: 'workflow',
          resourceId: id,
          outcome: 'success',
          changes: { version },
        });
        await deps.events.record(r.db, 'workflow.updated', { id, name: patch.name, version });
      });
      return view({ ...w, ...patch });
    },

    async remove(actor: Actor, id: string) {
      requirePermission(actor, WRITE);
      const w = await load(actor, id);
      await write(w.name, async (r) => {
        await r.workflows.remove(id);
        await deps.audit?.record(r.db, {
          actor,
          action: 'workflow.deleted',
          resourceType: 'workflow',
          resourceId: id,
          outcome: 'success',
          changes: { name: w.name },
        });
        await deps.events.record(r.db, 'workflow.deleted', { id, name: w.name });
      });
    },

    async versions(actor: Actor, id: string) {
      requirePermission(actor, READ);
      await load(actor, id);
      const rows = await repo.versions(id);
      return { items: rows.map((v) => versionView(v)) };
    },

    async version(actor: Actor, id: string, version: number) {
      requirePermission(actor, READ);
      await load(actor, id);
      const v = await repo.version(id, version);
      if (!v) throw new NotFoundError('WORKFLOW_VERSION_NOT_FOUND', `Workflow ${id} has no version ${version}`);
      return versionView(v);
    },

    /** Folders or tags of the visible workflows with how many workflows use each. */
    async labels(actor: Actor, kind: 'folders' | 'tags') {
      requirePermission(actor, READ);
      const counts = new Map<string, number>();
      for (const row of await repo.labels(teamScope(actor))) {
        for (const name of kind === 'folders' ? [row.folder] : json.read<string[]>(row.tags)) counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      return { items: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, count]) => ({ name, count })) };
    },

    async exportOne(actor: Actor, id: string): Promise<ExportDocument> {
      const w = await service.get(actor, id);
      return {
        format: 'opsdeck.workflow/v1',
        name: w.name,
        description: w.description,
        folder: w.folder,
        tags: w.tags,
        graph: w.graph,
        input_schema: w.input_schema,
        trigger_events: w.trigger_events,
      };
    },

    /** A new workflow from an export (disabled until someone enables it: imported triggers do not fire by surprise). */
    async importOne(actor: Actor, doc: ExportDocument, name?: string) {
      const bad = forbiddenKeys(doc, 'body');
      if (bad.length > 0) throw new ValidationError('WORKFLOW_INVALID', 'The document has forbidden keys', bad);
      const { format: _format, ...rest } = doc;
      return service.create(actor, { ...rest, name: name ?? doc.name, enabled: false });
    },

    /** A new webhook token (replacing any earlier one): returned once, stored as its SHA-256. */
    async rotateWebhook(actor: Actor, id: string) {
      requirePermission(actor, WRITE);
      const w = await load(actor, id);
      const token = `wfh_${randomBytes(24).toString('base64url')}`;
      await write(w.name, async (r) => {
        await r.workflows.update(id, { webhookTokenHash: hashToken(token), updatedAt: nowIso() });
        await deps.audit?.record(r.db, { actor, action: 'workflow.webhook_rotated', resourceType: 'workflow', resourceId: id, outcome: 'success' });
      });
      return { token, url: `/api/v1/hooks/${token}` };
    },

    async removeWebhook(actor: Actor, id: string) {
      requirePermission(actor, WRITE);
      const w = await load(actor, id);
      await write(w.name, async (r) => {
        await r.workflows.update(id, { webhookTokenHash: null, updatedAt: nowIso() });
        await deps.audit?.record(r.db, { actor, action: 'workflow.webhook_removed', resourceType: 'workflow', resourceId: id, outcome: 'success' });
      });
    },

    /** A manual execution as the caller, its input checked against the input schema (422 naming each field). */
    async execute(actor: Actor, id: string, input: unknown) {
      requirePermission(actor, EXECUTE);
      const w = await load(actor, id);
      const validate = ajv.compile(json.read<Record<string, unknown>>(w.inputSchema));
      if (!validate(input ?? {})) {
        const errors = (validate.errors ?? []).map((e) => ({ path: `body.input${e.instancePath.replace(/\//g, '.')}`, message: e.message ?? 'is invalid' }));
        throw new ValidationError('WORKFLOW_INPUT_INVALID', 'The input does not match the workflow’s input schema', errors);
      }
      const row = await uow(async (r) => {
        const e = await enqueue(r.db, w, principalOf(actor), { kind: 'manual', body: input ?? {} });
        await audited(r.db, actor, 'workflow.executed', e);
        return e;
      });
      return started(row);
    },

    /** POST /hooks/{token}: an unknown token (or a disabled workflow) is 404 and starts nothing. */
    async hook(token: string, body: unknown) {
      const w = await repo.findByTokenHash(hashToken(token));
      if (!w || !bool.read(w.enabled)) throw new NotFoundError('WORKFLOW_HOOK_NOT_FOUND', 'No workflow listens on this URL');
      const row = await uow(async (r) => enqueue(r.db, w, w.ownerId, { kind: 'webhook', body: body ?? null }));
      await started(row);
      return { execution_id: row.id };
    },

    /** The events subscriber: inside its consuming transaction, one execution per enabled workflow listening to the event. */
    async onEvent(db: Db, event: { name: string; payload: unknown; createdAt: string }): Promise<number> {
      let n = 0;
      for (const w of await createWorkflowsRepository(db).eventSubscribers()) {
        // An event from before the workflow existed (a lagging subscriber) does not start it.
        if (!json.read<string[]>(w.triggerEvents).includes(event.name) || event.createdAt < w.createdAt) continue;
        await enqueue(db, w, w.ownerId, { kind: 'event', event: event.name, body: event.payload });
        n += 1;
      }
      return n;
    },

    async listExecutions(actor: Actor, query: ListExecutionsQuery) {
      requirePermission(actor, READ);
      const page = await repo.listExecutions(teamScope(actor), { ...query, limit: query.limit ?? 50 });
      const nodes = await repo.nodeRunsOf(page.items.map((e) => e.id));
      return { items: page.items.map((e) => executionView(e, nodes)), next_cursor: page.next_cursor };
    },

    async getExecution(actor: Actor, id: string) {
      requirePermission(actor, READ);
      const e = await loadExecution(actor, id);
      return executionView(e, await repo.nodeRuns(id));
    },

    /** Asks the engine driving it to stop (a queued one is cancelled at once). */
    async cancel(actor: Actor, id: string) {
      requirePermission(actor, EXECUTE);
      const e = await loadExecution(actor, id);
      if (!ACTIVE.includes(e.status)) throw new ConflictError('WORKFLOW_EXECUTION_FINISHED', `The execution already ended ${e.status}`);
      const now = nowIso();
      await uow(async (r) => {
        await r.workflows.updateExecution(id, { cancelRequested: bool.write(true), updatedAt: now }, ACTIVE);
        await audited(r.db, actor, 'workflow.execution_cancelled', e);
      });
      deps.wake();
      return service.getExecution(actor, id);
    },

    /** Approves or rejects a waiting approval node (once; 409 when it is not waiting or already decided). */
    async decide(actor: Actor, id: string, nodeId: string, decision: 'approved' | 'rejected', comment?: string) {
      requirePermission(actor, EXECUTE);
      const e = await loadExecution(actor, id);
      const record = { decision, by: actor.name, at: nowIso(), ...(comment ? { comment } : {}) };
      await uow(async (r) => {
        if (!(await r.workflows.decide(id, nodeId, json.write(record)))) {
          throw new ConflictError('WORKFLOW_APPROVAL_NOT_WAITING', `Node '${nodeId}' of execution ${id} is not an approval waiting for a decision`);
        }
        await deps.audit?.record(r.db, {
          actor,
          action: `workflow.approval_${decision}`,
          resourceType: 'workflow_execution',
          resourceId: id,
          outcome: 'success',
          changes: { workflow_id: e.workflowId, node_id: nodeId, ...(comment ? { comment } : {}) },
        });
        await deps.events.record(r.db, `workflow.approval.${decision}`, { execution_id: id, workflow_id: e.workflowId, node_id: nodeId, by: actor.name });
      });
      void deps.events.relay().catch(() => undefined);
      return service.getExecution(actor, id);
    },

    /** A new execution of the same version and trigger that keeps the nodes that succeeded and runs the rest. */
    async retry(actor: Actor, id: string) {
      requirePermission(actor, EXECUTE);
      const e = await loadExecution(actor, id);
      if (e.status !== 'failed' && e.status !== 'cancelled') {
        throw new ConflictError('WORKFLOW_EXECUTION_NOT_FAILED', `Only failed or cancelled executions are retried (this one is ${e.status})`);
      }
      const w = await load(actor, e.workflowId);
      const version = await repo.version(e.workflowId, e.version);
      if (!version) throw new ConflictError('WORKFLOW_VERSION_GONE', `Version ${e.version} of the workflow no longer exists`);
      const kept = (await repo.nodeRuns(id)).filter((n) => n.status === 'succeeded');
      const trigger = json.read<{ kind: string; body: unknown; event?: string }>(e.trigger);
      const row = await uow(async (r) => {
        const again = await enqueue(r.db, w, principalOf(actor), trigger, { of: id, version: e.version, graph: version.graph, nodes: kept });
        await audited(r.db, actor, 'workflow.execution_retried', again);
        return again;
      });
      return started(row);
    },
  };
  return service;
}

function versionView(v: { version: number; graph: string; inputSchema: string; createdBy: string; createdAt: string }) {
  return {
    version: v.version,
    graph: json.read<Graph>(v.graph),
    input_schema: json.read<Record<string, unknown>>(v.inputSchema),
    created_by: v.createdBy,
    created_at: v.createdAt,
  };
}

export type WorkflowsService = ReturnType<typeof createWorkflowsService>;
