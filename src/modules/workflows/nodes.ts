import jsonata from 'jsonata';
import type { Actor } from '../../platform/http/auth.js';
import { soleExpression, type WfNode } from './workflows.fns.js';

/** The jobs module as workflows use it (modules.ts adapts it). */
export interface JobsPort {
  executorTypes(): string[];
  /** Creates the run (or returns the one created under this key before) as `actor`. */
  createRun(actor: Actor, input: Record<string, unknown>, key: string, executionId: string): Promise<{ id: string; status: string }>;
  /** A run's status as the system (the node created it; `actor` may have lost jobs:read since). */
  status(runId: string): Promise<string>;
  /** Per-target results of a finished run, read as `actor`. */
  output(actor: Actor, runId: string): Promise<unknown>;
  cancel(actor: Actor, runId: string): Promise<void>;
}

/** Raises an alert as `actor` (alerts:write), through the alerts service. */
export type AlertsPort = (
  actor: Actor,
  input: { title: string; description?: string; severity: string; dedup_key?: string; labels: Record<string, string> },
) => Promise<{ outcome: string; alert_id: string | null }>;

/** The templates module's sandboxed renderer. */
export type RenderPort = (source: string, vars: Record<string, unknown>) => Promise<{ ok: true; output: string } | { ok: false; error: { message: string } }>;

export class NodeError extends Error {}
/** The abort reason when this process's engine stops: work in flight is left for the next owner, not cancelled. */
export class Shutdown extends Error {}

export interface NodeContext {
  node: WfNode;
  actor: Actor;
  executionId: string;
  attempt: number;
  /** When this node first started (delay counts from it across restarts). */
  startedAt: number;
  signal: AbortSignal;
  /** The names in scope of templates: trigger, input, nodes, vars (and item, index in a for-each). */
  scope: Record<string, unknown>;
  /** Records the job run a node waits for, before waiting. */
  onJobRun(runId: string): Promise<void>;
  /** An approval node's stored decision, if one was made. */
  decision(): Promise<{ decision: 'approved' | 'rejected'; by: string; at: string; comment?: string } | null>;
}

export interface NodeResult {
  output: unknown;
  port?: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'partially_failed', 'cancelled', 'timed_out', 'expired']);

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Template resolution and expression evaluation with the templates module's sandboxed Jinja engine. */
export function createResolver(render: RenderPort) {
  async function text(source: string, scope: Record<string, unknown>): Promise<string> {
    const r = await render(source, scope);
    if (!r.ok) throw new NodeError(`template error: ${r.error.message}`);
    return r.output;
  }
  /** A Jinja expression's value (JSON-typed), e.g. `nodes.a.output.alive and trigger.body.ip`. */
  async function expression(expr: string, scope: Record<string, unknown>): Promise<unknown> {
    return JSON.parse(await text(`{{ (${expr}) | tojson }}`, scope)) as unknown;
  }
  /** Resolves every string of a value: `{{ x }}` alone keeps x's type; other strings render as text. */
  async function value(v: unknown, scope: Record<string, unknown>): Promise<unknown> {
    if (typeof v === 'string') {
      if (!v.includes('{{') && !v.includes('{%')) return v;
      const sole = soleExpression(v);
      return sole === null ? text(v, scope) : expression(sole, scope);
    }
    if (Array.isArray(v)) return Promise.all(v.map((x) => value(x, scope)));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [k, x] of Object.entries(v)) out[k] = await value(x, scope);
      return { ...out };
    }
    return v;
  }
  return { text, expression, value };
}
export type Resolver = ReturnType<typeof createResolver>;

/** Parameters left unresolved before the node runs: they are expressions, or resolved per item. */
const RAW_PARAMETERS: Record<string, readonly string[]> = { condition: ['expression'], switch: ['expression'], transform: ['expression'], for_each: ['node'] };

export async function resolveParameters(node: WfNode, resolver: Resolver, scope: Record<string, unknown>): Promise<Record<string, unknown>> {
  const raw = RAW_PARAMETERS[node.type] ?? [];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node.parameters)) out[k] = raw.includes(k) ? v : await resolver.value(v, scope);
  return out;
}

const truthy = (v: unknown) => !(v === false || v === null || v === 0 || v === '' || (Array.isArray(v) && v.length === 0));

/** The node handlers by type: each gets its resolved parameters and returns its output and port. */
export function createHandlers(deps: { jobs: JobsPort; alerts: AlertsPort; resolver: Resolver; pollMs: number }) {
  const { resolver } = deps;

  async function job(p: Record<string, unknown>, ctx: NodeContext, key: string): Promise<NodeResult> {
    const input: Record<string, unknown> = { type: p.executor, params: p.params ?? {}, targets: p.targets ?? [] };
    if (p.credential_id !== undefined) input.credential_id = p.credential_id;
    if (p.timeout_ms !== undefined) input.timeout_ms = p.timeout_ms;
    const run = await deps.jobs.createRun(ctx.actor, input, key, ctx.executionId);
    await ctx.onJobRun(run.id);
    let status = run.status;
    try {
      while (!TERMINAL.has(status)) {
        await sleep(deps.pollMs, ctx.signal);
        status = await deps.jobs.status(run.id);
      }
    } catch (err) {
      // Cancelled or timed out while the run is still going: the run is cancelled too (not on shutdown: the next owner reattaches).
      if (!(ctx.signal.reason instanceof Shutdown)) await deps.jobs.cancel(ctx.actor, run.id).catch(() => undefined);
      throw err;
    }
    const output = (await deps.jobs.output(ctx.actor, run.id)) as { targets?: unknown };
    const result = { run_id: run.id, status, targets: output.targets ?? [] };
    if (status !== 'succeeded') throw Object.assign(new NodeError(`job run ${run.id} ended ${status}`), { output: result });
    return { output: result };
  }

  const handlers: Record<string, (p: Record<string, unknown>, ctx: NodeContext) => Promise<NodeResult>> = {
    trigger: async (_p, ctx) => ({ output: ctx.scope.trigger }),
    noop: async () => ({ output: {} }),
    merge: async (_p, ctx) => ({ output: { inputs: ctx.scope.predecessors } }),
    set: async (p) => ({ output: p.values }),
    fail: async (p) => {
      throw new NodeError(String(p.message));
    },
    delay: async (p, ctx) => {
      const rest = ctx.startedAt + Number(p.ms) - Date.now();
      if (rest > 0) await sleep(rest, ctx.signal);
      return { output: { waited_ms: Number(p.ms) } };
    },
    condition: async (p, ctx) => {
      const value = truthy(await resolver.expression(String(p.expression), ctx.scope));
      return { output: { value }, port: value ? 'true' : 'false' };
    },
    switch: async (p, ctx) => {
      const value = await resolver.expression(String(p.expression), ctx.scope);
      const cases = (p.cases as unknown[]).map(String);
      const port = cases.includes(String(value)) ? String(value) : 'default';
      return { output: { value, port }, port };
    },
    transform: async (p, ctx) => {
      let expr: ReturnType<typeof jsonata>;
      try {
        expr = jsonata(String(p.expression));
      } catch (err) {
        throw new NodeError(`JSONata: ${(err as Error).message}`);
      }
      try {
        return { output: (await expr.evaluate(ctx.scope)) ?? null };
      } catch (err) {
        throw new NodeError(`JSONata: ${(err as Error).message}`);
      }
    },
    job: (p, ctx) => job(p, ctx, `${ctx.executionId}:${ctx.node.id}:${ctx.attempt}`),
    notification: async (p, ctx) => {
      const r = await deps.alerts(ctx.actor, {
        title: String(p.title),
        ...(p.description !== undefined ? { description: String(p.description) } : {}),
        severity: typeof p.severity === 'string' ? p.severity : 'info',
        ...(p.dedup_key !== undefined ? { dedup_key: String(p.dedup_key) } : {}),
        labels: { workflow_execution_id: ctx.executionId, workflow_node: ctx.node.id },
      });
      return { output: r };
    },
    approval: async (p, ctx) => {
      const deadline = ctx.startedAt + Number(p.timeout_seconds ?? 86_400) * 1000;
      for (;;) {
        const d = await ctx.decision();
        if (d) return { output: d, port: d.decision };
        if (Date.now() >= deadline) throw new NodeError(`no decision within ${Number(p.timeout_seconds ?? 86_400)} s`);
        await sleep(Math.min(deps.pollMs * 2, Math.max(1, deadline - Date.now())), ctx.signal);
      }
    },
    for_each: async (p, ctx) => {
      if (!Array.isArray(p.items)) throw new NodeError('items must resolve to a list');
      const items = p.items as unknown[];
      const inner = p.node as { type: string; parameters?: Record<string, unknown> };
      const results: unknown[] = new Array(items.length);
      let next = 0;
      const worker = async () => {
        while (next < items.length) {
          const index = next++;
          const scope = { ...ctx.scope, item: items[index], index };
          const node: WfNode = { id: `${ctx.node.id}_${index}`, type: inner.type, parameters: inner.parameters ?? {} };
          const params = await resolveParameters(node, resolver, scope);
          const sub = { ...ctx, node, scope };
          const r =
            inner.type === 'job'
              ? await job(params, sub, `${ctx.executionId}:${ctx.node.id}:${ctx.attempt}:${index}`)
              : await handlers[inner.type]!(params, sub);
          results[index] = r.output;
        }
      };
      await Promise.all(Array.from({ length: Math.min(items.length, Number(p.concurrency ?? 4)) }, worker));
      return { output: { results } };
    },
  };
  return handlers;
}
