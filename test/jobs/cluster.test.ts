/**
 * Cluster mode across nodes: an API node and a worker node share PostgreSQL and a private
 * Redis. Live logs reach a subscriber on the API node while the run executes on the worker;
 * a Redis restart (no persistence) loses no queued run, because the queue is rebuilt from the
 * database on reconnect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adminToken, loginAs } from '../helpers/auth.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { freeTcpPort, waitForTcp } from '../peers/ports.js';
import { jobsClient, uniqueQueue } from './helpers.js';

let redisPort: number;
let redis: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForTcp('127.0.0.1', redisPort);
}
async function stopRedis(): Promise<void> {
  const r = redis;
  if (!r || r.exitCode !== null) return;
  const exited = new Promise((res) => r.once('exit', res));
  r.kill('SIGTERM');
  await exited;
}

let apiNode: TestServer;
let workerNode: TestServer;
let api: ReturnType<typeof jobsClient>;
let baseUrl: string;
let token: string;

beforeAll(async () => {
  redisPort = await freeTcpPort();
  await startRedis();
  const env = {
    OPSDECK_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    OPSDECK_JOBS_QUEUE: uniqueQueue('cluster'),
    OPSDECK_JOBS_LEASE_MS: '2000',
    OPSDECK_JOBS_LOCAL_COMMANDS: '/bin/sh',
  };
  apiNode = await createTestServer('postgres', { env: { ...env, OPSDECK_ROLES: 'api' } });
  workerNode = await createTestServer('postgres', { db: apiNode.db, env: { ...env, OPSDECK_ROLES: 'worker' } });
  await apiNode.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(apiNode.app.server.address() as AddressInfo).port}`;
  token = await adminToken(apiNode);
  api = jobsClient(apiNode, token);
}, 120_000);

afterAll(async () => {
  await workerNode?.close();
  await apiNode?.close();
  await stopRedis();
});

const chattyScript = (n: number) => ['-c', `i=1; while [ $i -le ${n} ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done`];

/** Reads an SSE stream until `end`; returns the log events. */
async function readSse(runId: string, lastEventId?: number): Promise<{ seq: number; message: string }[]> {
  const res = await fetch(`${baseUrl}/api/v1/jobs/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}) },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const lines: { seq: number; message: string }[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (\w+)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event === 'log' && data) lines.push(JSON.parse(data) as { seq: number; message: string });
      if (event === 'end') return lines;
    }
  }
  return lines;
}

describe('cluster: API node + worker node on PostgreSQL and Redis', () => {
  it('streams a run executing on the worker to an SSE subscriber on the API node: in order, no gap, no duplicate', async () => {
    const run = await api.start({ type: 'local_command', params: { command: '/bin/sh', args: chattyScript(60) } });
    const lines = await readSse(run.id);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.filter((l) => l.message.startsWith('line ')).map((l) => l.message)).toEqual(Array.from({ length: 60 }, (_, i) => `line ${i + 1}`));
    expect((await api.get(run.id)).worker_id).toBe(workerNode.modules.jobs.workerId);
    const resumed = await readSse(run.id, 10);
    expect(resumed.map((l) => l.seq)).toEqual(lines.slice(10).map((l) => l.seq));
  });

  it('serves live lines over the WebSocket authenticated at the upgrade, checking the permission per channel', async () => {
    const run = await api.start({ type: 'local_command', params: { command: '/bin/sh', args: chattyScript(30) } });
    // Two subscribers of one run: each gets every line, in order, on its channel.
    const follow = (channel: string) => {
      const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
      const got: { seq: number; message: string }[] = [];
      const channels = new Set<string>();
      const done = new Promise<string>((resolve, reject) => {
        ws.on('message', (raw: Buffer) => {
          const msg = JSON.parse(raw.toString()) as {
            type: string;
            channel?: string;
            lines?: { seq: number; message: string }[];
            status?: string;
            code?: string;
          };
          if (msg.type === 'ready') ws.send(JSON.stringify({ type: 'subscribe', channel, after: 0 }));
          if (msg.type === 'log') {
            got.push(...msg.lines!);
            channels.add(msg.channel!);
          }
          if (msg.type === 'end') resolve(msg.status!);
          if (msg.type === 'error') reject(new Error(msg.code));
        });
      });
      return { ws, got, channel, channels, done };
    };
    // The second names the run in upper case (ids are case-insensitive): it gets the same lines on the channel it named.
    for (const f of [follow(`job-run:${run.id}`), follow(`job-run:${run.id.toUpperCase()}`)]) {
      expect(await f.done).toBe('succeeded');
      f.ws.close();
      expect(f.got.map((l) => l.seq)).toEqual(f.got.map((_, i) => i + 1));
      expect(f.got.filter((l) => l.message.startsWith('line ')).length).toBe(30);
      expect([...f.channels]).toEqual([f.channel]);
    }

    const role = await apiNode.app.inject({
      method: 'POST',
      url: '/api/v1/roles',
      headers: { authorization: `Bearer ${token}` },
      payload: { name: 'no-jobs', permissions: ['system:read'] },
    });
    expect(role.statusCode, role.body).toBe(201);
    const nobody = await loginAs(apiNode, 'no-jobs');
    const denied = await new Promise<{ type: string; code?: string }>((resolve) => {
      const w = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/ws`, { headers: { authorization: `Bearer ${nobody.token}` } });
      w.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString()) as { type: string; code?: string };
        if (msg.type === 'ready') w.send(JSON.stringify({ type: 'subscribe', channel: `job-run:${run.id}` }));
        else {
          w.close();
          resolve(msg);
        }
      });
    });
    // Authenticated, but without jobs:read: refused this channel, in the words used for a run that does not exist.
    expect(denied).toMatchObject({ type: 'error', code: 'WS_SUBSCRIBE_DENIED' });
    const bad = await new Promise<number>((resolve) => {
      const w = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/ws`, { headers: { authorization: 'Bearer not-a-token' } });
      w.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    // Refused before the upgrade.
    expect(bad).toBe(401);
  });

  it('closes a WebSocket subscriber that stops reading (4008) while another keeps getting every line', async () => {
    // ~24 MB of log at ~8 MB/s: more than a paused loopback socket's kernel buffers plus the 1 MiB cap.
    const run = await api.start({
      type: 'local_command',
      params: {
        command: '/bin/sh',
        args: ['-c', 'l=$(printf "%08000d" 0); i=0; while [ $i -lt 3000 ]; do echo "$i $l"; i=$((i+1)); [ $((i % 10)) -eq 0 ] && sleep 0.01; done'],
      },
    });
    const subscribe = (stall: boolean) => {
      const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
      const socket = () => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      let lines = 0;
      const closed = new Promise<{ code: number; lines: number }>((resolve) => ws.on('close', (code) => resolve({ code, lines })));
      ws.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString()) as { type: string; lines?: { message: string }[] };
        if (msg.type === 'ready') ws.send(JSON.stringify({ type: 'subscribe', channel: `job-run:${run.id}`, after: 0 }));
        if (msg.type === 'subscribed' && stall) socket().pause();
        if (msg.type === 'log') lines += msg.lines!.filter((l) => l.message.length > 8000).length;
        if (msg.type === 'end') ws.close(1000);
      });
      return { closed, resume: () => socket().resume() };
    };
    const stalled = subscribe(true);
    const reader = await subscribe(false).closed;
    expect(reader).toEqual({ code: 1000, lines: 3000 });
    // Reading again, the stalled one finds, after what its buffers held, the server's close.
    stalled.resume();
    const dropped = await stalled.closed;
    expect(dropped.code).toBe(4008);
    expect(dropped.lines).toBeLessThan(3000);
  }, 60_000);

  it('loses no queued run when Redis restarts without persistence', async () => {
    const soon = new Date(Date.now() + 2500).toISOString();
    const ids = await Promise.all(
      [1, 2, 3].map(async (i) => (await api.start({ type: 'noop', targets: [`after-restart-${i}.example`], not_before: soon })).id),
    );
    await stopRedis();
    await startRedis();
    for (const id of ids) await api.waitFor(id, (r) => r.status === 'succeeded', 40_000);
    const after = await api.start({ type: 'noop', targets: ['fresh.example'] });
    await api.waitFor(after.id, (r) => r.status === 'succeeded', 20_000);
  }, 90_000);

  it('shows no_worker for a queued run when no worker is alive', async () => {
    await workerNode.modules.jobs.worker!.stop(1000);
    const run = await api.start({ type: 'noop', targets: ['orphan.example'] });
    // The stopped worker removed itself from the registry, so nothing can take the run. The
    // explanation's counts are reused for 250 ms, so it may take that long to say so.
    expect(['no_worker', 'dispatching']).toContain(run.blocked_by);
    const explained = await api.waitFor(run.id, (r) => r.blocked_by === 'no_worker', 5_000);
    expect(explained.status).toBe('queued');
    await workerNode.modules.jobs.worker!.start();
    await api.waitFor(run.id, (r) => r.status === 'succeeded');
  });
});
