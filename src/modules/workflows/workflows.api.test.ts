import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Json = any;

const trigger = { id: 'start', type: 'trigger', parameters: {} };
let seq = 0;
const uniq = (name: string) => `${name}-${process.pid}-${(seq += 1)}`;

describe.each(DIALECTS)('workflows through the HTTP API on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker', OPSDECK_WORKFLOWS_LEASE_MS: '3000' } });
  let auth: Record<string, string>;

  const api = (method: Method, url: string, payload?: unknown, headers = auth) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function create(body: Record<string, unknown>, headers = auth): Promise<Json> {
    const res = await api('POST', '/workflows', { name: uniq('wf'), ...body }, headers);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  /** Polls the execution until it ends (or the test times out). */
  async function settled(id: string, headers = auth): Promise<Json> {
    for (;;) {
      const e = (await api('GET', `/workflows/executions/${id}`, undefined, headers)).json();
      if (!['queued', 'running'].includes(e.status)) return e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function run(workflowId: string, input: unknown = {}, headers = auth): Promise<Json> {
    const res = await api('POST', `/workflows/${workflowId}/execute`, { input }, headers);
    expect(res.statusCode, res.body).toBe(202);
    return settled(res.json().id, headers);
  }

  const node = (e: Json, id: string) => e.nodes.find((n: Json) => n.node_id === id);

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
  });

  it('saves every change as a new immutable version and lists folders, tags and node types', async () => {
    const w = await create({ folder: 'net/backup', tags: ['nightly'], graph: { nodes: [trigger], edges: [] } });
    expect(w).toMatchObject({ version: 1, folder: 'net/backup', tags: ['nightly'], enabled: true, webhook_enabled: false });
    const graph2 = { nodes: [trigger, { id: 'a', type: 'noop', parameters: {} }], edges: [{ from: 'start', to: 'a' }] };
    const u = await api('PATCH', `/workflows/${w.id}`, { graph: graph2 });
    expect(u.statusCode, u.body).toBe(200);
    expect(u.json().version).toBe(2);
    const versions = (await api('GET', `/workflows/${w.id}/versions`)).json().items;
    expect(versions.map((v: Json) => v.version)).toEqual([2, 1]);
    expect((await api('GET', `/workflows/${w.id}/versions/1`)).json().graph).toEqual({ nodes: [trigger], edges: [] });
    expect((await api('GET', '/workflows/folders')).json().items).toEqual(expect.arrayContaining([{ name: 'net/backup', count: expect.any(Number) }]));
    expect((await api('GET', '/workflows/tags')).json().items.map((t: Json) => t.name)).toContain('nightly');
    const types = (await api('GET', '/workflows/node-types')).json().items;
    expect(types.map((t: Json) => t.type)).toEqual(expect.arrayContaining(['trigger', 'job', 'condition', 'switch', 'transform', 'for_each', 'notification']));
    expect(types.find((t: Json) => t.type === 'job').parameters.required).toEqual(['executor']);
    expect((await api('GET', `/workflows?folder=net/backup`)).json().items.map((x: Json) => x.id)).toContain(w.id);
  });

  it('refuses a bad graph with 422 locating each problem, and stores nothing', async () => {
    const name = uniq('bad');
    const res = await api('POST', '/workflows', {
      name,
      graph: {
        nodes: [
          trigger,
          { id: 'a', type: 'teleport', parameters: {} },
          { id: 'b', type: 'delay', parameters: {} },
          { id: 'c', type: 'noop', parameters: {} },
          { id: 'd', type: 'noop', parameters: {} },
          { id: 'lonely', type: 'noop', parameters: {} },
          { id: 'j', type: 'job', parameters: { executor: 'warp_drive' } },
        ],
        edges: [
          { from: 'start', to: 'a' },
          { from: 'start', to: 'b' },
          { from: 'b', to: 'ghost' },
          { from: 'start', to: 'c' },
          { from: 'c', to: 'd' },
          { from: 'd', to: 'c' },
          { from: 'start', to: 'j' },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const errors = res.json().errors as { path: string; message: string }[];
    const at = (path: string) => errors.filter((e) => e.path === path).map((e) => e.message);
    expect(at('body.graph.nodes[1].type')[0]).toContain("unknown node type 'teleport'");
    expect(at('body.graph.nodes[2].parameters.ms')[0]).toContain('is required');
    expect(at('body.graph.edges[2].to')[0]).toContain("no node 'ghost'");
    expect(at('body.graph.edges').join()).toMatch(/cycle: (c → d → c|d → c → d)/);
    expect(at('body.graph.nodes[5]')[0]).toContain("'lonely' is not reachable");
    expect(at('body.graph.nodes[6].parameters.executor')[0]).toContain('unknown executor');
    expect((await api('GET', `/workflows?q=${name}`)).json().items).toEqual([]);
  });

  it('exports and imports a workflow, refusing prototype-polluting keys', async () => {
    const w = await create({
      tags: ['x'],
      graph: { nodes: [trigger, { id: 's', type: 'set', parameters: { values: { a: 1 } } }], edges: [{ from: 'start', to: 's' }] },
    });
    const doc = (await api('GET', `/workflows/${w.id}/export`)).json();
    expect(doc).toMatchObject({ format: 'opsdeck.workflow/v1', name: w.name, graph: w.graph });
    const imported = await api('POST', `/workflows/import?name=${uniq('copy')}`, doc);
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json()).toMatchObject({ graph: w.graph, tags: ['x'], enabled: false, version: 1 });

    const before = (await api('GET', '/workflows?limit=1000')).json().items.length;
    const poisoned = `{"format":"opsdeck.workflow/v1","name":"p1","description":"","folder":"","tags":[],"input_schema":{},"trigger_events":[],"graph":{"nodes":[{"id":"start","type":"trigger","parameters":{}},{"id":"s","type":"set","parameters":{"values":{"__proto__":{"admin":true}}}}],"edges":[{"from":"start","to":"s"}]}}`;
    const r1 = await server().app.inject({
      method: 'POST',
      url: '/api/v1/workflows/import',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: poisoned,
    });
    expect(r1.statusCode, r1.body).toBe(400);
    const ctor = {
      ...doc,
      name: uniq('ctor'),
      graph: { nodes: [trigger, { id: 's', type: 'set', parameters: { values: { constructor: { name: 'x' } } } }], edges: [{ from: 'start', to: 's' }] },
    };
    const r2 = await api('POST', '/workflows/import', ctor);
    expect(r2.statusCode, r2.body).toBe(422);
    expect(r2.json().errors).toContainEqual({ path: 'body.graph.nodes[1].parameters.values.constructor', message: "the key 'constructor' is not allowed" });
    expect((await api('GET', '/workflows?limit=1000')).json().items.length).toBe(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('runs parallel branches into joins, conditions, switch, JSONata and for-each, passing data between nodes', async () => {
    const w = await create({
      input_schema: { type: 'object', properties: { n: { type: 'integer' }, hosts: { type: 'array' } }, required: ['n'] },
      graph: {
        nodes: [
          trigger,
          { id: 'a', type: 'set', parameters: { values: { double: '{{ input.n * 2 }}', label: 'n={{ input.n }}' } } },
          { id: 'b', type: 'delay', parameters: { ms: 50 } },
          { id: 'm', type: 'merge', parameters: {} },
          { id: 'big', type: 'condition', parameters: { expression: 'vars.double > 5' } },
          { id: 'yes', type: 'set', parameters: { values: { size: 'big' } } },
          { id: 'no', type: 'set', parameters: { values: { size: 'small' } } },
          { id: 'any', type: 'noop', parameters: {}, join: 'any' },
          { id: 'sw', type: 'switch', parameters: { expression: 'input.n % 3', cases: ['0', '1'] } },
          { id: 'r0', type: 'noop', parameters: {} },
          { id: 'rdef', type: 'noop', parameters: {} },
          { id: 'sum', type: 'transform', parameters: { expression: '$sum(input.hosts.n) + nodes.a.output.double' } },
          {
            id: 'each',
            type: 'for_each',
            parameters: { items: '{{ input.hosts }}', concurrency: 2, node: { type: 'set', parameters: { values: { host: '{{ item.name }}-{{ index }}' } } } },
          },
        ],
        edges: [
          { from: 'start', to: 'a' },
          { from: 'start', to: 'b' },
          { from: 'a', to: 'm' },
          { from: 'b', to: 'm' },
          { from: 'm', to: 'big' },
          { from: 'big', to: 'yes', port: 'true' },
          { from: 'big', to: 'no', port: 'false' },
          { from: 'yes', to: 'any' },
          { from: 'no', to: 'any' },
          { from: 'any', to: 'sw' },
          { from: 'sw', to: 'r0', port: '0' },
          { from: 'sw', to: 'rdef', port: 'default' },
          { from: 'm', to: 'sum' },
          { from: 'm', to: 'each' },
        ],
      },
    });
    const bad = await api('POST', `/workflows/${w.id}/execute`, { input: { n: 'three' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('body.input.n');

    const e = await run(w.id, {
      n: 3,
      hosts: [
        { name: 'r1', n: 1 },
        { name: 'r2', n: 2 },
      ],
    });
    expect(e.status, JSON.stringify(e)).toBe('succeeded');
    expect(e.version).toBe(1);
    expect(node(e, 'a').output).toEqual({ double: 6, label: 'n=3' });
    expect(node(e, 'm').output).toEqual({ inputs: { a: { double: 6, label: 'n=3' }, b: { waited_ms: 50 } } });
    expect(node(e, 'big')).toMatchObject({ status: 'succeeded', port: 'true' });
    expect(node(e, 'yes').status).toBe('succeeded');
    expect(node(e, 'no').status).toBe('skipped');
    expect(node(e, 'any').status).toBe('succeeded');
    expect(node(e, 'sw').port).toBe('0');
    expect(node(e, 'r0').status).toBe('succeeded');
    expect(node(e, 'rdef').status).toBe('skipped');
    expect(node(e, 'sum').output).toBe(9);
    expect(node(e, 'each').output).toEqual({ results: [{ host: 'r1-0' }, { host: 'r2-1' }] });
    expect(node(e, 'a').input).toEqual({ values: { double: 6, label: 'n=3' } });

    const small = await run(w.id, { n: 1, hosts: [] });
    expect(node(small, 'yes').status).toBe('skipped');
    expect(node(small, 'no').status).toBe('succeeded');
    expect(node(small, 'sw').port).toBe('1');
    expect(node(small, 'rdef').status).toBe('skipped');
    expect(node(small, 'r0').status).toBe('skipped');
  });

  it('routes a failing node to its error edge, retries it first, and stops on an unhandled failure; retry keeps what succeeded', async () => {
    const w = await create({
      graph: {
        nodes: [
          trigger,
          { id: 'pre', type: 'set', parameters: { values: { k: 1 } } },
          {
            id: 'f',
            type: 'fail',
            parameters: { message: 'device {{ trigger.body.ip }} unreachable' },
            on_error: 'error',
            retry: { max_attempts: 2, backoff_ms: 10 },
          },
          { id: 'ok', type: 'noop', parameters: {} },
          { id: 'handled', type: 'set', parameters: { values: { why: '{{ nodes.f.error }}' } } },
        ],
        edges: [
          { from: 'start', to: 'pre' },
          { from: 'pre', to: 'f' },
          { from: 'f', to: 'ok' },
          { from: 'f', to: 'handled', port: 'error' },
        ],
      },
    });
    const e = await run(w.id, { ip: '10.0.0.9' });
    expect(e.status, JSON.stringify(e)).toBe('succeeded');
    expect(node(e, 'f')).toMatchObject({ status: 'failed', port: 'error', attempt: 2, error: 'device 10.0.0.9 unreachable' });
    expect(node(e, 'ok').status).toBe('skipped');
    expect(node(e, 'handled').output).toEqual({ why: 'device 10.0.0.9 unreachable' });

    // Without the error edge the failure stops the execution; the retry keeps `pre` and runs `f` again.
    const graph = { ...w.graph, nodes: w.graph.nodes.map((n: Json) => (n.id === 'f' ? { ...n, on_error: 'stop', retry: undefined } : n)) };
    graph.edges = graph.edges.filter((x: Json) => x.port !== 'error');
    graph.nodes = graph.nodes.filter((n: Json) => n.id !== 'handled');
    expect((await api('PATCH', `/workflows/${w.id}`, { graph })).statusCode).toBe(200);
    const stopped = await run(w.id, { ip: '10.0.0.9' });
    expect(stopped).toMatchObject({ status: 'failed', version: 2 });
    expect(stopped.error).toContain("node 'f' failed: device 10.0.0.9 unreachable");
    expect(node(stopped, 'ok').status).toBe('pending');
    const retried = await api('POST', `/workflows/executions/${stopped.id}/retry`);
    expect(retried.statusCode, retried.body).toBe(202);
    const again = await settled(retried.json().id);
    expect(again).toMatchObject({ status: 'failed', retry_of: stopped.id, version: 2 });
    expect(node(again, 'pre')).toMatchObject({ status: 'succeeded', finished_at: node(stopped, 'pre').finished_at });
    expect(node(again, 'f').status).toBe('failed');
    // A failed execution raises one alert per workflow (alerts/sources.ts), counting the failures.
    await vi.waitFor(
      async () => {
        const alerts = (await api('GET', '/alerts?source=workflows')).json().items as Json[];
        expect(alerts.find((a) => a.labels.workflow_id === w.id)).toMatchObject({ severity: 'major', state: 'open', count: 2 });
      },
      { timeout: 15_000, interval: 100 },
    );
  });

  it('runs a job node as a real job run through the jobs service', async () => {
    const w = await create({
      graph: {
        nodes: [
          trigger,
          {
            id: 'scan',
            type: 'job',
            parameters: { executor: 'tcp_port_scan', targets: ['127.0.0.1'], params: { ports: ['{{ input.port }}'], timeout_ms: 300 } },
          },
          { id: 'after', type: 'set', parameters: { values: { status: '{{ nodes.scan.output.status }}' } } },
        ],
        edges: [
          { from: 'start', to: 'scan' },
          { from: 'scan', to: 'after' },
        ],
      },
    });
    const e = await run(w.id, { port: 1 });
    expect(e.status, JSON.stringify(e)).toBe('succeeded');
    const scan = node(e, 'scan');
    expect(scan.output).toMatchObject({ run_id: scan.job_run_id, status: 'succeeded' });
    const jobRun = (await api('GET', `/jobs/runs/${scan.job_run_id}`)).json();
    expect(jobRun).toMatchObject({ type: 'tcp_port_scan', status: 'succeeded', trigger: { kind: 'workflow', id: e.id } });
    expect(jobRun.params.ports).toEqual([1]);
    expect(node(e, 'after').output).toEqual({ status: 'succeeded' });
  });

  it('starts on a webhook (token shown once, stored hashed); an unknown token is 404 and starts nothing', async () => {
    const w = await create({
      graph: { nodes: [trigger, { id: 'echo', type: 'set', parameters: { values: { ip: '{{ trigger.body.ip }}' } } }], edges: [{ from: 'start', to: 'echo' }] },
    });
    const hook = await api('POST', `/workflows/${w.id}/webhook`);
    expect(hook.statusCode, hook.body).toBe(201);
    const { token, url } = hook.json();
    expect(url).toBe(`/api/v1/hooks/${token}`);
    expect((await api('GET', `/workflows/${w.id}`)).json()).toMatchObject({ webhook_enabled: true });
    expect((await api('GET', `/workflows/${w.id}`)).body).not.toContain(token);
    const res = await server().app.inject({ method: 'POST', url, payload: { ip: '192.0.2.7' } });
    expect(res.statusCode, res.body).toBe(202);
    const e = await settled(res.json().execution_id);
    expect(e).toMatchObject({ status: 'succeeded', trigger_kind: 'webhook' });
    expect(node(e, 'echo').output).toEqual({ ip: '192.0.2.7' });

    const count = async () => (await api('GET', `/workflows/executions?workflow_id=${w.id}`)).json().items.length;
    const n = await count();
    const unknown = await server().app.inject({ method: 'POST', url: `/api/v1/hooks/${token.slice(0, -2)}xx`, payload: {} });
    expect(unknown.statusCode).toBe(404);
    expect(await count()).toBe(n);
    expect((await api('DELETE', `/workflows/${w.id}/webhook`)).statusCode).toBe(204);
    expect((await server().app.inject({ method: 'POST', url, payload: {} })).statusCode).toBe(404);
    expect(await count()).toBe(n);
  });

  it('starts on a domain event (device.created) through the durable subscriber, and reports progress on the event stream', async () => {
    const w = await create({
      trigger_events: ['device.created'],
      graph: {
        nodes: [trigger, { id: 'seen', type: 'set', parameters: { values: { device: '{{ trigger.body.name }}' } } }],
        edges: [{ from: 'start', to: 'seen' }],
      },
    });
    const name = uniq('wf-dev');
    expect((await api('POST', '/devices', { name })).statusCode).toBe(201);
    let e: Json;
    for (;;) {
      const items = (await api('GET', `/workflows/executions?workflow_id=${w.id}`)).json().items;
      if (items.length > 0 && !['queued', 'running'].includes(items[0].status)) {
        e = items[0];
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(e).toMatchObject({ status: 'succeeded', trigger_kind: 'event', trigger: { event: 'device.created' } });
    expect(node(e, 'seen').output).toEqual({ device: name });
    const events = (await api('GET', '/events/history?events=workflow.*&limit=1000')).json().items as Json[];
    const mine = events.filter((x) => x.payload.execution_id === e.id).map((x) => x.name);
    expect(mine).toEqual(
      expect.arrayContaining(['workflow.execution.queued', 'workflow.execution.started', 'workflow.node.succeeded', 'workflow.execution.succeeded']),
    );
  });

  it('cancels a running execution (the waiting node ends cancelled)', async () => {
    const w = await create({
      graph: {
        nodes: [trigger, { id: 'wait', type: 'delay', parameters: { ms: 60_000 } }, { id: 'never', type: 'noop', parameters: {} }],
        edges: [
          { from: 'start', to: 'wait' },
          { from: 'wait', to: 'never' },
        ],
      },
    });
    const started = (await api('POST', `/workflows/${w.id}/execute`, {})).json();
    for (;;) {
      const e = (await api('GET', `/workflows/executions/${started.id}`)).json();
      if (node(e, 'wait')?.status === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const c = await api('POST', `/workflows/executions/${started.id}/cancel`);
    expect(c.statusCode, c.body).toBe(200);
    const e = await settled(started.id);
    expect(e.status).toBe('cancelled');
    expect(node(e, 'wait').status).toBe('cancelled');
    expect(node(e, 'never')?.status ?? 'pending').not.toBe('succeeded');
    expect((await api('POST', `/workflows/executions/${started.id}/cancel`)).statusCode).toBe(409);
  });

  it('pauses at an approval node until a user with workflows:execute decides, and fails it when nobody does in time', async () => {
    const w = await create({
      graph: {
        nodes: [
          trigger,
          { id: 'gate', type: 'approval', parameters: { message: 'push to {{ input.device }}?', timeout_seconds: 60 } },
          { id: 'push', type: 'noop', parameters: {} },
          { id: 'abandon', type: 'noop', parameters: {} },
        ],
        edges: [
          { from: 'start', to: 'gate' },
          { from: 'gate', to: 'push', port: 'approved' },
          { from: 'gate', to: 'abandon', port: 'rejected' },
        ],
      },
    });
    const waiting = async (id: string) => {
      for (;;) {
        const e = (await api('GET', `/workflows/executions/${id}`)).json();
        if (node(e, 'gate').status === 'running' && node(e, 'gate').input !== null) return e;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const a = (await api('POST', `/workflows/${w.id}/execute`, { input: { device: 'r1' } })).json();
    const paused = await waiting(a.id);
    expect(paused.status).toBe('running');
    expect(node(paused, 'gate').input).toEqual({ message: 'push to r1?', timeout_seconds: 60 });
    const viewer = bearer((await loginAs(server(), 'viewer')).token);
    expect((await api('POST', `/workflows/executions/${a.id}/nodes/gate/approve`, {}, viewer)).statusCode).toBe(403);
    expect((await api('POST', `/workflows/executions/${a.id}/nodes/push/approve`, {})).statusCode).toBe(409);
    const operator = bearer((await loginAs(server(), 'operator')).token);
    const ok = await api('POST', `/workflows/executions/${a.id}/nodes/gate/approve`, { comment: 'change window open' }, operator);
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await api('POST', `/workflows/executions/${a.id}/nodes/gate/reject`, {})).statusCode).toBe(409);
    const approved = await settled(a.id);
    expect(approved.status).toBe('succeeded');
    expect(node(approved, 'gate')).toMatchObject({ port: 'approved', decision: { decision: 'approved', comment: 'change window open' } });
    expect(node(approved, 'push').status).toBe('succeeded');
    expect(node(approved, 'abandon').status).toBe('skipped');

    const b = (await api('POST', `/workflows/${w.id}/execute`, { input: { device: 'r2' } })).json();
    await waiting(b.id);
    expect((await api('POST', `/workflows/executions/${b.id}/nodes/gate/reject`, {})).statusCode).toBe(200);
    const rejected = await settled(b.id);
    expect(node(rejected, 'gate').port).toBe('rejected');
    expect(node(rejected, 'abandon').status).toBe('succeeded');
    expect(node(rejected, 'push').status).toBe('skipped');

    const quick = await create({
      graph: { nodes: [trigger, { id: 'gate', type: 'approval', parameters: { timeout_seconds: 1 } }], edges: [{ from: 'start', to: 'gate' }] },
    });
    const late = await run(quick.id);
    expect(late.status).toBe('failed');
    expect(node(late, 'gate').error).toBe('no decision within 1 s');
  });

  it('acts as its user, re-checked before each node: a user demoted mid-execution stops it with the reason', async () => {
    const op = await loginAs(server(), 'operator');
    const headers = bearer(op.token);
    const w = await create(
      {
        graph: {
          nodes: [trigger, { id: 'wait', type: 'delay', parameters: { ms: 400 } }, { id: 'next', type: 'noop', parameters: {} }],
          edges: [
            { from: 'start', to: 'wait' },
            { from: 'wait', to: 'next' },
          ],
        },
      },
      headers,
    );
    const started = await api('POST', `/workflows/${w.id}/execute`, {}, headers);
    expect(started.statusCode, started.body).toBe(202);
    for (;;) {
      const e = (await api('GET', `/workflows/executions/${started.json().id}`)).json();
      if (node(e, 'wait')?.status === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await api('PATCH', `/users/${op.userId}`, { roles: ['viewer'] })).statusCode).toBe(200);
    const e = await settled(started.json().id);
    expect(e.status).toBe('failed');
    expect(e.error).toContain('may no longer execute workflows (workflows:execute)');
    expect(node(e, 'wait').status).toBe('succeeded');
    expect(node(e, 'next')?.status ?? 'pending').toBe('pending');
    // A viewer reads but may not execute.
    expect((await api('POST', `/workflows/${w.id}/execute`, {}, bearer((await loginAs(server(), 'viewer')).token))).statusCode).toBe(403);
  });
});
