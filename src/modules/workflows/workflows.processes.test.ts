import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase } from '../../../test/helpers/db.js';
import { runOpsdeck, type RunningProcess } from '../../../test/helpers/process.js';
import { TEST_ADMIN_PASSWORD } from '../../../test/helpers/server.js';

/**
 * Real `opsdeck serve` processes on one database: the first is killed with SIGKILL in the middle
 * of an execution (a delay and a job node running), a second one started on the same database
 * resumes it after the lease lapses. Sleeps are bounded; assertions are on what ran, not on time.
 */
type Json = any;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(env: Record<string, string>): Promise<{ proc: RunningProcess; url: string }> {
  const proc = runOpsdeck(['serve'], {
    OPSDECK_PORT: '0',
    OPSDECK_LOG_LEVEL: 'info',
    OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    OPSDECK_AUTH_RATE_LIMIT: '100000',
    OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32',
    OPSDECK_WORKFLOWS_LEASE_MS: '1500',
    OPSDECK_JOBS_LEASE_MS: '1500',
    ...env,
  });
  const line = await proc.waitFor(/"msg":"opsdeck listening"/, 90_000);
  return { proc, url: JSON.parse(line).url as string };
}

async function call(url: string, token: string | null, method: string, route: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const node = (e: Json, id: string) => e.nodes.find((n: Json) => n.node_id === id);

describe.each(['sqlite', 'postgres'] as const)('an execution survives kill -9 of its process (%s)', (dialect) => {
  let slow: http.Server;
  let requests = 0;
  let slowUrl = '';
  const procs: RunningProcess[] = [];
  beforeAll(async () => {
    // A loopback endpoint that answers after two seconds: the job node is mid-run when the process dies.
    slow = http.createServer((_req, res) => {
      requests += 1;
      setTimeout(() => res.end('ok'), 2000);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  });

  it('resumes after the last finished node: no node repeated, the job run reattached, not created again', { timeout: 240_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-wf-'));
    const pg = dialect === 'postgres' ? await createPgDatabase() : null;
    const env = { OPSDECK_DATA_DIR: dataDir, ...(pg ? { OPSDECK_DATABASE_URL: pg.url } : {}) };
    try {
      const first = await start(env);
      procs.push(first.proc);
      const token = (await call(first.url, null, 'POST', '/auth/login', { username: 'admin', password: TEST_ADMIN_PASSWORD })).access_token as string;
      const w = await call(first.url, token, 'POST', '/workflows', {
        name: 'crash me',
        graph: {
          nodes: [
            { id: 'start', type: 'trigger', parameters: {} },
            { id: 'wait', type: 'delay', parameters: { ms: 4000 } },
            { id: 'after', type: 'set', parameters: { values: { waited: '{{ nodes.wait.output.waited_ms }}' } } },
            { id: 'fetch', type: 'job', parameters: { executor: 'http_request', params: { url: slowUrl, timeout_ms: 20_000 } }, on_error: 'continue' },
            { id: 'done', type: 'merge', parameters: {} },
          ],
          edges: [
            { from: 'start', to: 'wait' },
            { from: 'wait', to: 'after' },
            { from: 'start', to: 'fetch' },
            { from: 'after', to: 'done' },
            { from: 'fetch', to: 'done' },
          ],
        },
      });
      const exec = await call(first.url, token, 'POST', `/workflows/${w.id}/execute`, {});
      let before: Json;
      for (;;) {
        before = await call(first.url, token, 'GET', `/workflows/executions/${exec.id}`);
        if (node(before, 'wait').status === 'running' && node(before, 'fetch').job_run_id && requests > 0) break;
        await sleep(50);
      }
      first.proc.child.kill('SIGKILL');
      await first.proc.exited;

      const second = await start(env);
      procs.push(second.proc);
      let after: Json;
      for (;;) {
        after = await call(second.url, token, 'GET', `/workflows/executions/${exec.id}`);
        if (!['queued', 'running'].includes(after.status)) break;
        await sleep(200);
      }
      const runs = (await call(second.url, token, 'GET', '/jobs/runs?trigger_kind=workflow&limit=1000')).items as Json[];
      second.proc.child.kill('SIGTERM');
      await second.proc.exited;

      expect(after.status, JSON.stringify(after)).toBe('succeeded');
      expect(after.nodes.every((n: Json) => n.status === 'succeeded' || n.node_id === 'fetch')).toBe(true);
      // The trigger ran once, before the kill; nothing after it ran twice.
      expect(node(after, 'start')).toMatchObject({ status: 'succeeded', attempt: 1, finished_at: node(before, 'start').finished_at });
      // The delay resumed its own attempt, counted from when it first started.
      expect(node(after, 'wait')).toMatchObject({ status: 'succeeded', attempt: 1, started_at: node(before, 'wait').started_at });
      expect(node(after, 'after')).toMatchObject({ status: 'succeeded', output: { waited: 4000 } });
      // The job node reattached to the run it had created (same id) and took its outcome: the jobs engine
      // failed it as `worker lost` (a run cut off mid-request is not silently repeated), so no second
      // request reached the endpoint and no second run exists for the execution.
      expect(node(after, 'fetch')).toMatchObject({ status: 'failed', attempt: 1, job_run_id: node(before, 'fetch').job_run_id, port: 'main' });
      expect(node(after, 'fetch').output.targets[0].error).toBe('worker lost');
      expect(requests).toBe(1);
      expect(runs.filter((r) => r.trigger.id === exec.id).map((r) => r.id)).toEqual([node(before, 'fetch').job_run_id]);
      expect(node(after, 'done').status).toBe('succeeded');
    } finally {
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
