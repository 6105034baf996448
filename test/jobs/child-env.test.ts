import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { JOB_MODES, jobsClient, startJobsServer } from './helpers.js';

/**
 * Children of the server get an explicit minimal environment: the server's own secrets, in
 * its environment as `opsdeck serve` reads them, are never readable in /proc/<child>/environ.
 */
const CANARIES = {
  OPSDECK_MASTER_KEY: 'kcanary:Y2FuYXJ5LW1hc3Rlci1rZXktbmV2ZXItaW4tYS1jaGlsZA==',
  OPSDECK_JWT_SECRET: 'canary-jwt-secret-never-in-a-child-0123456789',
  OPSDECK_DATABASE_URL: 'postgres://canary:canary-db-password@db/x',
  OPSDECK_ADMIN_PASSWORD: 'Canary-Admin-Password-42',
  AWS_SECRET_ACCESS_KEY: 'canary-aws-secret',
};

const environOf = (pid: number) => fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

/** Pids of the running children of this process whose command line contains every word. */
function childrenRunning(words: string[]): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (ppid === process.pid && words.every((w) => cmdline.includes(w))) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function expectClean(environ: string[]) {
  const text = environ.join('\n');
  for (const value of Object.values(CANARIES)) expect(text).not.toContain(value);
  expect(environ.filter((l) => l.startsWith('OPSDECK_'))).toEqual([]);
  expect(environ.some((l) => l.startsWith('PATH='))).toBe(true);
}

describe.each(JOB_MODES)('child processes on $name', (mode) => {
  let server: TestServer;
  let api: ReturnType<typeof jobsClient>;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    for (const [k, v] of Object.entries(CANARIES)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    server = await startJobsServer(mode, { env: { OPSDECK_JOBS_LOCAL_COMMANDS: '/bin/sh' } });
    api = jobsClient(server, await adminToken(server));
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server?.close();
  });

  it('local_command sees PATH and none of the server’s secrets', async () => {
    const run = await api.start({ type: 'local_command', params: { command: '/bin/sh', args: ['-c', 'tr "\\0" "\\n" < /proc/$$/environ'] } });
    expect((await api.finished(run.id)).status).toBe('succeeded');
    const lines = (await api.logs(run.id)).map((l: { message: string }) => l.message);
    expectClean(lines);
  });

  it('ping is started with the same minimal environment', async () => {
    const run = await api.start({ type: 'ping', targets: ['127.0.0.1'], params: { count: 30, interval_ms: 200, timeout_ms: 1000 } });
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length === 0; i++) {
      pids = childrenRunning(['ping', '127.0.0.1']);
      if (pids.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(pids.length).toBeGreaterThan(0);
    expectClean(environOf(pids[0]!));
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/runs/${run.id}/cancel`, headers: { authorization: `Bearer ${await adminToken(server)}` } });
    await api.finished(run.id);
  });
});
