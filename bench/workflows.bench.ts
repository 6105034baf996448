/**
 * Per-node overhead of the workflow engine on a real `opsdeck serve` (SQLite): a chain of 50
 * `noop` nodes, executed 10 times; each node's cost is the gap between its predecessor's finish
 * and its own (claim-free: state writes, events, principal re-check, template scope). Peers in the
 * same run: the same 50 steps as plain function calls, and 50 `noop` job runs created and waited
 * for one after another through the API (what a workflow of job nodes would cost without the
 * engine). Figures, not assertions.
 */
import { startServer } from './lib.js';

const NODES = 50;
const EXECUTIONS = 10;
const PASSWORD = 'Bench-Workflows-4471-long';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function main(): Promise<void> {
  const server = await startServer({ OPSDECK_ADMIN_PASSWORD: PASSWORD });
  try {
    const call = async (method: string, route: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${server.url}/api/v1${route}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const json = await res.json();
      if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    let token = '';
    token = (await call('POST', '/auth/login', { username: 'admin', password: PASSWORD })).access_token;
    const nodes = [
      { id: 'start', type: 'trigger', parameters: {} },
      ...Array.from({ length: NODES }, (_, i) => ({ id: `n${i}`, type: 'noop', parameters: {} })),
    ];
    const edges = nodes.slice(1).map((n, i) => ({ from: nodes[i]!.id, to: n.id }));
    const wf = await call('POST', '/workflows', { name: 'bench chain', graph: { nodes, edges } });

    const perNode: number[] = [];
    const perExecution: number[] = [];
    for (let i = 0; i < EXECUTIONS; i++) {
      const { id } = await call('POST', `/workflows/${wf.id}/execute`, {});
      let e: any;
      do {
        await sleep(20);
        e = await call('GET', `/workflows/executions/${id}`);
      } while (e.status === 'queued' || e.status === 'running');
      if (e.status !== 'succeeded') throw new Error(`execution ${e.status}: ${e.error}`);
      const finished = new Map<string, number>(e.nodes.map((n: any) => [n.node_id, Date.parse(n.finished_at)]));
      for (let k = 1; k < nodes.length; k++) perNode.push(finished.get(nodes[k]!.id)! - finished.get(nodes[k - 1]!.id)!);
      perExecution.push(Date.parse(e.finished_at) - Date.parse(e.started_at));
    }

    const calls: number[] = [];
    const step = (x: number) => x + 1;
    for (let i = 0; i < EXECUTIONS * NODES; i++) {
      const t = process.hrtime.bigint();
      step(i);
      calls.push(Number(process.hrtime.bigint() - t) / 1e6);
    }

    const runs: number[] = [];
    for (let i = 0; i < NODES; i++) {
      const t = Date.now();
      const run = await call('POST', '/jobs/runs', { type: 'noop', targets: ['bench.example'], params: {} });
      let r = run;
      while (!['succeeded', 'failed', 'cancelled', 'timed_out', 'expired', 'partially_failed'].includes(r.status)) {
        await sleep(5);
        r = await call('GET', `/jobs/runs/${run.id}`);
      }
      runs.push(Date.now() - t);
    }

    const p50 = pct(perNode, 50);
    process.stdout.write(
      [
        `workflow node (noop, chain of ${NODES}): p50 ${p50.toFixed(2)} ms, p99 ${pct(perNode, 99).toFixed(2)} ms; execution p50 ${pct(perExecution, 50)} ms`,
        `plain function call:                   p50 ${pct(calls, 50).toFixed(5)} ms  → node/call ${(p50 / Math.max(pct(calls, 50), 1e-6)).toFixed(0)}×`,
        `plain noop job run via the API (sequential): p50 ${pct(runs, 50).toFixed(2)} ms, p99 ${pct(runs, 99).toFixed(2)} ms → node/run ${(p50 / pct(runs, 50)).toFixed(2)}×`,
      ].join('\n') + '\n',
    );
  } finally {
    await server.stop();
  }
}

await main();
