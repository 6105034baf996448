import type { Db } from '../../platform/db/database.js';
import { bool, json } from '../../platform/db/columns.js';
import { hasPermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { nowIso } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { NODE_TYPE_MAP } from './node-types.js';
import { createHandlers, createResolver, NodeError, resolveParameters, Shutdown, sleep, type AlertsPort, type JobsPort, type RenderPort } from './nodes.js';
import { edgeState, NODE_DONE, readiness, retryDelayMs, type Graph, type NodeState, type WfNode } from './workflows.fns.js';
import { createWorkflowsRepository, type ExecutionRow, type NodeRunRow } from './workflows.repository.js';

export interface EngineDeps {
  db: Db;
  logger: Logger;
  nodeId: string;
  leaseMs: number;
  pollMs: number;
  jobs: JobsPort;
  alerts: AlertsPort;
  render: RenderPort;
  owners: { actorOf(kind: 'user', id: string): Promise<Actor | null> };
  events: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> };
}

const MAX_PARALLEL_EXECUTIONS = 50;
const ACTIVE = ['queued', 'running'];
const iso = (ms: number) => new Date(ms).toISOString();
const short = (s: string) => (s.length > 4000 ? `${s.slice(0, 3990)}…` : s);

class Stop extends Error {
  constructor(
    readonly status: 'failed' | 'cancelled',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The workflow engine: every process with the `worker` role claims executions nobody holds
 * (queued, or running under a lapsed lease) and drives them, renewing its leases while it lives.
 * State is in workflow_node_runs, written before and after each node, so another node (or this
 * one restarted) continues after the last finished node. See README.md "Crash semantics".
 */
export function createWorkflowEngine(deps: EngineDeps) {
  const repo = createWorkflowsRepository(deps.db);
  const log = deps.logger.child({ component: 'workflow-engine' });
  const resolver = createResolver(deps.render);
  const handlers = createHandlers({ jobs: deps.jobs, alerts: deps.alerts, resolver, pollMs: Math.min(deps.pollMs, 250) });
  const active = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let renewTimer: NodeJS.Timeout | null = null;
  let claiming: Promise<void> | null = null;
  let again = false;

  async function emit(name: string, payload: Record<string, unknown>): Promise<void> {
    await deps.events.record(deps.db, name, payload);
    void deps.events.relay().catch(() => undefined);
  }

  /** The execution's principal as it is now; a Stop when it may no longer execute workflows. */
  async function principal(exec: ExecutionRow): Promise<Actor> {
    if (exec.actorId === SYSTEM_ACTOR.id) return { ...SYSTEM_ACTOR, teamIds: exec.teamId ? [exec.teamId] : [] };
    const actor = await deps.owners.actorOf('user', exec.actorId);
    if (!actor) throw new Stop('failed', `stopped: the user it acts as (${exec.actorId}) no longer exists or is disabled`);
    if (!hasPermission(actor, 'workflows:execute')) throw new Stop('failed', `stopped: ${actor.name} may no longer execute workflows (workflows:execute)`);
    return actor;
  }

  async function finish(exec: ExecutionRow, status: 'succeeded' | 'failed' | 'cancelled', error: string | null): Promise<void> {
    const at = nowIso();
    const done = await repo.updateExecution(
      exec.id,
      { status, error, finishedAt: at, updatedAt: at, leaseOwner: null, leaseUntil: null },
      ['queued', 'running'],
      deps.nodeId,
    );
    if (done) await emit(`workflow.execution.${status}`, { execution_id: exec.id, workflow_id: exec.workflowId, status, error });
  }

  /** Drives one claimed execution to its end (or until this engine stops). */
  async function drive(id: string, signal: AbortSignal): Promise<void> {
    const exec = await repo.findExecution(id);
    if (!exec || (exec.status !== 'queued' && exec.status !== 'running')) return;
    if (exec.status === 'queued') {
      const at = nowIso();
      await repo.updateExecution(id, { status: 'running', startedAt: at, updatedAt: at }, ['queued'], deps.nodeId);
      await emit('workflow.execution.started', { execution_id: id, workflow_id: exec.workflowId });
    }
    const version = await repo.version(exec.workflowId, exec.version);
    if (!version) return finish(exec, 'failed', `version ${exec.version} of the workflow is gone`);
    const graph = json.read<Graph>(version.graph);
    const rows = new Map((await repo.nodeRuns(id)).map((r) => [r.nodeId, r]));
    await recover(exec, graph, rows);
    try {
      await walk(exec, graph, rows, signal);
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Stop) return finish(exec, err.status, err.message);
      throw err;
    }
  }

  /**
   * Nodes left `running` by a process that died: harmless ones run again, job nodes reattach to
   * their run (its idempotency key), nodes with an outside effect are failed as interrupted.
   */
  async function recover(exec: ExecutionRow, graph: Graph, rows: Map<string, NodeRunRow>): Promise<void> {
    for (const node of graph.nodes) {
      const row = rows.get(node.id);
      if (row?.status !== 'running') continue;
      if (NODE_TYPE_MAP.get(node.type)?.effects !== 'external') continue;
      const patch = {
        status: 'interrupted',
        port: node.on_error === 'error' ? 'error' : node.on_error === 'continue' ? 'main' : null,
        error: 'interrupted: the process running this node stopped; it may or may not have taken effect, so it is not repeated',
        finishedAt: nowIso(),
      };
      await repo.updateNodeRun(exec.id, node.id, patch);
      rows.set(node.id, { ...row, ...patch });
    }
  }

  async function walk(exec: ExecutionRow, graph: Graph, rows: Map<string, NodeRunRow>, signal: AbortSignal): Promise<void> {
    const states = new Map<string, NodeState>(graph.nodes.map((n) => [n.id, { status: 'pending', port: null }]));
    for (const [nodeId, r] of rows) states.set(nodeId, { status: r.status === 'running' ? 'pending' : (r.status as NodeState['status']), port: r.port });
    const edgeTrue = new Map<string, boolean>();
    const inflight = new Map<string, Promise<void>>();
    const nodeAbort = new AbortController();
    signal.addEventListener('abort', () => nodeAbort.abort(new Shutdown('engine stopping')), { once: true });
    let stop: Stop | null = null;
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const tick = () =>
      new Promise<void>((resolve) => {
        setTimeout(resolve, 1000).unref();
      });

    const stopped = (s: NodeState) => s.status === 'failed' || s.status === 'interrupted';
    for (;;) {
      if (!stop) {
        const fresh = await repo.findExecution(exec.id);
        // NOTE: a process that stalled past its lease has lost the execution to another node: it stops driving it.
        if (!fresh || fresh.leaseOwner !== deps.nodeId || !ACTIVE.includes(fresh.status)) active.get(exec.id)?.abort.abort(new Shutdown('lease lost'));
        else if (bool.read(fresh.cancelRequested)) stop = new Stop('cancelled', 'cancelled on request');
      }
      if (stop) nodeAbort.abort(stop);
      if (!stop) {
        for (const node of graph.nodes) {
          const s = states.get(node.id)!;
          if (s.status !== 'pending' || inflight.has(node.id)) continue;
          const edges = graph.edges.filter((e) => e.to === node.id);
          for (const e of edges) await decideCondition(e, exec, graph, rows, states, edgeTrue);
          const ready = readiness(
            node,
            edges.map((e) => edgeState(e, states, (x) => edgeTrue.get(edgeKey(x)) !== false)),
          );
          if (ready === 'skip') {
            states.set(node.id, { status: 'skipped', port: null });
            await saveNode(exec.id, node, { status: 'skipped', finishedAt: nowIso() }, rows);
          } else if (ready === 'run') {
            s.status = 'running';
            const p = runNode(exec, graph, node, rows, nodeAbort.signal).then(
              (st) => {
                states.set(node.id, st);
                if (stopped(st) && st.port === null && !stop) stop = new Stop('failed', `node '${node.id}' failed: ${rows.get(node.id)?.error ?? ''}`);
              },
              (err: unknown) => {
                states.set(node.id, { status: 'cancelled', port: null });
                if (!stop) stop = err instanceof Stop ? err : new Stop('failed', `node '${node.id}': ${(err as Error).message}`);
              },
            );
            inflight.set(
              node.id,
              p.finally(() => inflight.delete(node.id)),
            );
          }
        }
      }
      if (inflight.size === 0) {
        if (signal.aborted) return;
        if (stop) {
          for (const [nodeId, s] of states) {
            if (s.status === 'pending' && stop.status === 'cancelled') await repo.updateNodeRun(exec.id, nodeId, { status: 'cancelled' });
          }
          throw stop;
        }
        if ([...states.values()].every((s) => NODE_DONE.has(s.status))) return finish(exec, 'succeeded', null);
        // Pending nodes that can neither run nor be skipped: cannot happen in a validated acyclic graph.
        throw new Stop('failed', 'the execution can make no progress');
      }
      await Promise.race([...inflight.values(), tick(), aborted]);
      if (signal.aborted && inflight.size === 0) return;
    }
  }

  const edgeKey = (e: { from: string; to: string; port?: string | undefined }) => `${e.from}>${e.to}>${e.port ?? 'main'}`;

  async function decideCondition(
    e: Graph['edges'][number],
    exec: ExecutionRow,
    graph: Graph,
    rows: Map<string, NodeRunRow>,
    states: Map<string, NodeState>,
    edgeTrue: Map<string, boolean>,
  ): Promise<void> {
    if (!e.condition || edgeTrue.has(edgeKey(e)) || !NODE_DONE.has(states.get(e.from)?.status ?? 'pending')) return;
    try {
      edgeTrue.set(edgeKey(e), Boolean(await resolver.expression(e.condition, scopeOf(exec, graph, rows))));
    } catch (err) {
      throw new Stop('failed', `edge ${e.from} → ${e.to}: ${(err as Error).message}`);
    }
  }

  function scopeOf(exec: ExecutionRow, graph: Graph, rows: Map<string, NodeRunRow>, node?: WfNode): Record<string, unknown> {
    const trigger = json.read<Record<string, unknown>>(exec.trigger);
    const nodes: Record<string, unknown> = {};
    const vars: Record<string, unknown> = {};
    const done = [...rows.values()].filter((r) => r.finishedAt).sort((a, b) => (a.finishedAt! < b.finishedAt! ? -1 : 1));
    for (const r of done) {
      const output = r.output === null ? null : json.read(r.output);
      nodes[r.nodeId] = { status: r.status, output, error: r.error, port: r.port };
      if (r.type === 'set' && r.status === 'succeeded' && output && typeof output === 'object') Object.assign(vars, output);
    }
    const predecessors = node
      ? Object.fromEntries(
          graph.edges
            .filter((e) => e.to === node.id && rows.get(e.from)?.status === 'succeeded')
            .map((e) => [e.from, (nodes[e.from] as { output: unknown }).output]),
        )
      : {};
    return { trigger, input: trigger.body ?? null, nodes, vars, predecessors };
  }

  async function saveNode(executionId: string, node: WfNode, patch: Partial<NodeRunRow>, rows: Map<string, NodeRunRow>): Promise<void> {
    // Every node's row exists from the execution's creation (workflows.service.ts#enqueue).
    rows.set(node.id, { ...rows.get(node.id)!, ...patch });
    await repo.updateNodeRun(executionId, node.id, patch);
  }

  /** Runs a node with its retry policy and timeout; its final state. The owner is re-checked first. */
  async function runNode(exec: ExecutionRow, graph: Graph, node: WfNode, rows: Map<string, NodeRunRow>, signal: AbortSignal): Promise<NodeState> {
    const actor = await principal(exec);
    const maxAttempts = node.retry?.max_attempts ?? 1;
    const prev = rows.get(node.id);
    // A node resumed after a crash keeps its attempt (a job node reattaches to that attempt's run).
    let attempt = prev?.status === 'running' ? prev.attempt : (prev?.attempt ?? 0) + 1;
    const startedAt = prev?.status === 'running' && prev.startedAt ? Date.parse(prev.startedAt) : Date.now();
    for (;;) {
      const scope = scopeOf(exec, graph, rows, node);
      await saveNode(
        exec.id,
        node,
        { status: 'running', attempt, startedAt: iso(attempt === (prev?.attempt ?? 0) ? startedAt : Date.now()), error: null, finishedAt: null },
        rows,
      );
      await emit('workflow.node.started', { execution_id: exec.id, workflow_id: exec.workflowId, node_id: node.id, attempt });
      const attemptAbort = new AbortController();
      const onAbort = () => attemptAbort.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = node.timeout_ms ? setTimeout(() => attemptAbort.abort(new NodeError(`timed out after ${node.timeout_ms} ms`)), node.timeout_ms) : null;
      let result: { output: unknown; port?: string } | null = null;
      let failure: { message: string; output: unknown } | null = null;
      try {
        const params = await resolveParameters(node, resolver, scope);
        await saveNode(exec.id, node, { input: json.write(params) }, rows);
        const ctx = {
          node,
          actor,
          executionId: exec.id,
          attempt,
          startedAt: Date.parse(rows.get(node.id)!.startedAt!),
          signal: attemptAbort.signal,
          scope,
          onJobRun: (runId: string) => saveNode(exec.id, node, { jobRunId: runId }, rows),
          decision: async () => {
            const row = (await repo.nodeRuns(exec.id)).find((r) => r.nodeId === node.id);
            return row?.decision ? json.read<{ decision: 'approved' | 'rejected'; by: string; at: string }>(row.decision) : null;
          },
        };
        result = await Promise.race([
          handlers[node.type]!(params, ctx),
          new Promise<never>((_, reject) => attemptAbort.signal.addEventListener('abort', () => reject(attemptAbort.signal.reason as Error), { once: true })),
        ]);
      } catch (err) {
        if (!signal.aborted && err instanceof Stop) throw err;
        failure = { message: short(err instanceof Error ? err.message : String(err)), output: (err as { output?: unknown }).output ?? null };
      } finally {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
      if (signal.aborted) {
        // Cancelled, or another branch stopped the execution; on shutdown the row stays `running` for the next owner.
        if (!(signal.reason instanceof Shutdown)) {
          await saveNode(exec.id, node, { status: 'cancelled', error: (signal.reason as Error).message, finishedAt: nowIso() }, rows);
        }
        throw signal.reason as Error;
      }
      if (result) {
        const port = result.port ?? 'main';
        await saveNode(exec.id, node, { status: 'succeeded', port, output: json.write(result.output ?? null), finishedAt: nowIso() }, rows);
        await emit('workflow.node.succeeded', { execution_id: exec.id, workflow_id: exec.workflowId, node_id: node.id, port });
        return { status: 'succeeded', port };
      }
      const last = attempt >= maxAttempts;
      const port = !last ? null : node.on_error === 'error' ? 'error' : node.on_error === 'continue' ? 'main' : null;
      await saveNode(exec.id, node, { status: 'failed', port, error: failure!.message, output: json.write(failure!.output), finishedAt: nowIso() }, rows);
      await emit('workflow.node.failed', { execution_id: exec.id, workflow_id: exec.workflowId, node_id: node.id, attempt, error: failure!.message });
      if (last) return { status: 'failed', port };
      await sleep(retryDelayMs(attempt, node.retry?.backoff_ms ?? 1000), signal);
      attempt += 1;
    }
  }

  /** Claims what it can (up to the parallel bound) and starts driving it. */
  async function claimOnce(): Promise<void> {
    const room = MAX_PARALLEL_EXECUTIONS - active.size;
    if (!running || room <= 0) return;
    const now = Date.now();
    const ids = await repo.claim(deps.nodeId, iso(now), iso(now + deps.leaseMs), room);
    for (const id of ids) {
      // Re-claimed after a stall of this process: the drive in flight goes on under the renewed lease.
      if (active.has(id)) continue;
      const abort = new AbortController();
      const done = drive(id, abort.signal)
        .catch((err: unknown) => log.error({ err, executionId: id }, 'workflow execution failed in the engine'))
        .finally(() => {
          active.delete(id);
          void repo.release(deps.nodeId, [id]).catch(() => undefined);
          wake();
        });
      active.set(id, { abort, done });
    }
  }

  function wake(): void {
    if (!running) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = (async () => {
      do {
        again = false;
        await claimOnce().catch((err: unknown) => log.warn({ err }, 'workflow claim failed'));
      } while (again && running);
    })().finally(() => {
      claiming = null;
    });
  }

  function loop(): void {
    timer = setTimeout(() => {
      wake();
      if (running) loop();
    }, deps.pollMs);
    timer.unref();
  }

  return {
    wake,
    /** Executions this process is driving now. */
    activeCount: () => active.size,
    start(): void {
      running = true;
      loop();
      renewTimer = setInterval(
        () => {
          const now = Date.now();
          void repo.renew(deps.nodeId, [...active.keys()], iso(now + deps.leaseMs)).catch((err: unknown) => log.warn({ err }, 'workflow lease renewal failed'));
        },
        Math.max(100, Math.floor(deps.leaseMs / 3)),
      );
      renewTimer.unref();
      wake();
    },
    /** Stops claiming; executions in flight stop between steps and their leases are released for another node. */
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      if (renewTimer) clearInterval(renewTimer);
      await claiming;
      for (const a of active.values()) a.abort.abort(new Shutdown('engine stopping'));
      await Promise.all([...active.values()].map((a) => a.done));
    },
  };
}
export type WorkflowEngine = ReturnType<typeof createWorkflowEngine>;
