import type { FieldError } from '../../platform/errors.js';
import { NODE_TYPE_MAP, ITEM_TYPES } from './node-types.js';

export interface WfNode {
  id: string;
  type: string;
  name?: string | undefined;
  parameters: Record<string, unknown>;
  position?: { x: number; y: number } | undefined;
  retry?: { max_attempts: number; backoff_ms?: number | undefined } | undefined;
  timeout_ms?: number | undefined;
  on_error?: 'stop' | 'continue' | 'error' | undefined;
  join?: 'all' | 'any' | undefined;
}
export interface WfEdge {
  from: string;
  to: string;
  /** The source's output port (`main` when absent; `error` for the error edge). */
  port?: string | undefined;
  /** A Jinja expression (no braces): the edge is taken only when it is true. */
  condition?: string | undefined;
}
export interface Graph {
  nodes: WfNode[];
  edges: WfEdge[];
}

/** Keys that would reach an object's prototype if anything merged this JSON into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Paths of every forbidden key in a JSON value (imports, parameters). */
export function forbiddenKeys(value: unknown, path: string, out: FieldError[] = []): FieldError[] {
  if (Array.isArray(value)) value.forEach((v, i) => forbiddenKeys(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) out.push({ path: `${path}.${key}`, message: `the key '${key}' is not allowed` });
      else forbiddenKeys((value as Record<string, unknown>)[key], `${path}.${key}`, out);
    }
  }
  return out;
}

/** The ports a node may leave by: its type's, or its switch cases plus `default`; always `error`. */
export function portsOf(node: WfNode): string[] {
  const def = NODE_TYPE_MAP.get(node.type);
  if (!def) return ['error'];
  const cases = Array.isArray(node.parameters.cases) ? node.parameters.cases.map(String) : [];
  return [...(def.ports ?? [...cases, 'default']), 'error'];
}

function checkParameters(node: WfNode, at: string, executors: ReadonlySet<string>, errors: FieldError[]): void {
  const def = NODE_TYPE_MAP.get(node.type)!;
  for (const name of def.parameters.required) {
    if (node.parameters[name] === undefined) errors.push({ path: `${at}.parameters.${name}`, message: `is required by node type '${node.type}'` });
  }
  for (const name of Object.keys(node.parameters)) {
    if (!(name in def.parameters.properties)) errors.push({ path: `${at}.parameters.${name}`, message: `is not a parameter of node type '${node.type}'` });
  }
  if (node.type === 'job' && typeof node.parameters.executor === 'string' && !executors.has(node.parameters.executor)) {
    errors.push({ path: `${at}.parameters.executor`, message: `unknown executor; one of: ${[...executors].join(', ')}` });
  }
  if (node.type === 'for_each') {
    const inner = node.parameters.node as { type?: unknown } | undefined;
    if (inner && !(ITEM_TYPES as readonly unknown[]).includes(inner.type)) {
      errors.push({ path: `${at}.parameters.node.type`, message: `must be one of: ${ITEM_TYPES.join(', ')}` });
    }
  }
}

/** One cycle through `start` as node ids (a → b → a), found by depth-first search. */
function findCycles(graph: Graph): string[][] {
  const out = new Map<string, string[]>();
  for (const e of graph.edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (id: string): void => {
    state.set(id, 'open');
    stack.push(id);
    for (const next of out.get(id) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const n of graph.nodes) if (!state.has(n.id)) visit(n.id);
  return cycles;
}

/**
 * Every problem of a graph, each located (`body.graph.nodes[2].parameters.executor`): unknown
 * node types, missing or unknown parameters, duplicate ids, edges to missing nodes or from
 * unknown ports, a missing or second trigger, cycles (named), nodes the trigger cannot reach,
 * `on_error: error` without an error edge, forbidden keys.
 */
export function validateGraph(graph: Graph, executors: ReadonlySet<string>, base = 'body.graph'): FieldError[] {
  const errors: FieldError[] = forbiddenKeys(graph, base);
  const byId = new Map<string, WfNode>();
  graph.nodes.forEach((node, i) => {
    const at = `${base}.nodes[${i}]`;
    if (byId.has(node.id)) errors.push({ path: `${at}.id`, message: `duplicate node id '${node.id}'` });
    byId.set(node.id, node);
    if (!NODE_TYPE_MAP.has(node.type)) errors.push({ path: `${at}.type`, message: `unknown node type '${node.type}' (GET /api/v1/workflows/node-types)` });
    else checkParameters(node, at, executors, errors);
  });
  const triggers = graph.nodes.filter((n) => n.type === 'trigger');
  if (triggers.length !== 1) errors.push({ path: `${base}.nodes`, message: `must have exactly one node of type 'trigger' (has ${triggers.length})` });
  graph.edges.forEach((edge, i) => {
    const at = `${base}.edges[${i}]`;
    if (!byId.has(edge.from)) errors.push({ path: `${at}.from`, message: `no node '${edge.from}'` });
    if (!byId.has(edge.to)) errors.push({ path: `${at}.to`, message: `no node '${edge.to}'` });
    const from = byId.get(edge.from);
    if (from && NODE_TYPE_MAP.has(from.type) && !portsOf(from).includes(edge.port ?? 'main')) {
      errors.push({ path: `${at}.port`, message: `node '${from.id}' has no port '${edge.port ?? 'main'}'; ports: ${portsOf(from).join(', ')}` });
    }
    if (byId.get(edge.to)?.type === 'trigger') errors.push({ path: `${at}.to`, message: 'nothing may lead into the trigger' });
  });
  graph.nodes.forEach((node, i) => {
    if (node.on_error === 'error' && !graph.edges.some((e) => e.from === node.id && e.port === 'error')) {
      errors.push({ path: `${base}.nodes[${i}].on_error`, message: "'error' needs an edge from this node with port 'error'" });
    }
  });
  for (const cycle of findCycles(graph)) errors.push({ path: `${base}.edges`, message: `cycle: ${cycle.join(' → ')}` });
  if (triggers.length === 1) {
    const reached = new Set([triggers[0]!.id]);
    const queue = [triggers[0]!.id];
    while (queue.length > 0) {
      const id = queue.shift()!;
      for (const e of graph.edges) {
        if (e.from === id && byId.has(e.to) && !reached.has(e.to)) {
          reached.add(e.to);
          queue.push(e.to);
        }
      }
    }
    graph.nodes.forEach((node, i) => {
      if (!reached.has(node.id)) errors.push({ path: `${base}.nodes[${i}]`, message: `node '${node.id}' is not reachable from the trigger` });
    });
  }
  return errors;
}

/** What the engine knows of a node of an execution. */
export interface NodeState {
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'interrupted';
  /** The port the node left by (succeeded: its output port; failed with an error edge: `error`). */
  port: string | null;
}

export const NODE_DONE: ReadonlySet<NodeState['status']> = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']);

/** An edge is taken once its source is done and left by the edge's port; dead once done otherwise; open before. */
export function edgeState(edge: WfEdge, states: ReadonlyMap<string, NodeState>, conditionTrue: (edge: WfEdge) => boolean): 'open' | 'taken' | 'dead' {
  const s = states.get(edge.from);
  if (!s || !NODE_DONE.has(s.status)) return 'open';
  return s.port !== null && s.port === (edge.port ?? 'main') && conditionTrue(edge) ? 'taken' : 'dead';
}

/**
 * What to do with a pending node now: `run` (join `all`: every incoming edge decided and one
 * taken; `any`: one taken), `skip` (every incoming edge dead), or `wait`.
 */
export function readiness(node: WfNode, incoming: readonly ('open' | 'taken' | 'dead')[]): 'run' | 'skip' | 'wait' {
  if (incoming.length === 0) return node.type === 'trigger' ? 'run' : 'skip';
  if (node.join === 'any' && incoming.includes('taken')) return 'run';
  if (incoming.includes('open')) return 'wait';
  return incoming.includes('taken') ? 'run' : 'skip';
}

/** The full expression of a string that is exactly one `{{ … }}` (its value keeps its type), else null. */
export function soleExpression(text: string): string | null {
  const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(text);
  return m && !m[1]!.includes('{{') && !m[1]!.includes('}}') ? m[1]!.trim() : null;
}

/** Exponential retry backoff, capped at ten minutes. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(600_000, baseMs * 2 ** Math.max(0, attempt - 1));
}
