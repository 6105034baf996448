import { makeCredential } from '../factories/index.js';
import { randomBytes } from 'node:crypto';
import { expect, vi } from 'vitest';
import type { Dialect } from '../../src/platform/db/database.js';
import { adminToken, bearer } from '../helpers/auth.js';
import { requireRedis } from '../helpers/redis.js';
import { createTestServer, type TestServer, type TestServerOptions } from '../helpers/server.js';

/** The two deployments every jobs test runs on: single node and cluster. */
export const JOB_MODES = [
  { name: 'sqlite + embedded queue', dialect: 'sqlite' as Dialect, cluster: false },
  { name: 'postgres + BullMQ', dialect: 'postgres' as Dialect, cluster: true },
] as const;
export type JobMode = (typeof JOB_MODES)[number];

/** A queue prefix private to one test file run, so parallel files never take each other's jobs. */
export const uniqueQueue = (label: string) => `opsdeck-test-${label}-${randomBytes(5).toString('hex')}`;

export async function startJobsServer(mode: JobMode, options: TestServerOptions & { queue?: string } = {}): Promise<TestServer> {
  if (mode.cluster) await requireRedis();
  return createTestServer(mode.dialect, {
    ...options,
    cluster: mode.cluster,
    env: { OPSDECK_JOBS_QUEUE: options.queue ?? uniqueQueue('jobs'), OPSDECK_JOBS_LEASE_MS: '2000', ...options.env },
  });
}

export interface RunBody {
  id: string;
  status: string;
  blocked_by: string | null;
  queue_position: number | null;
  attempt: number;
  reason: string | null;
  [k: string]: unknown;
}

/** Thin API client over inject with an admin token. */
export function jobsClient(server: TestServer, token: string) {
  const h = bearer(token);
  const api = {
    headers: h,
    async create(body: Record<string, unknown>, headers: Record<string, string> = {}) {
      return server.app.inject({ method: 'POST', url: '/api/v1/jobs/runs', headers: { ...h, ...headers }, payload: body });
    },
    async start(body: Record<string, unknown>): Promise<RunBody> {
      const res = await api.create(body);
      expect(res.statusCode, res.body).toBe(202);
      return res.json() as RunBody;
    },
    async get(id: string): Promise<RunBody> {
      const res = await server.app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${id}`, headers: h });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as RunBody;
    },
    async waitFor(id: string, pred: (r: RunBody) => boolean, timeout = 20_000): Promise<RunBody> {
      let last: RunBody | undefined;
      await vi.waitFor(
        async () => {
          last = await api.get(id);
          expect(pred(last), JSON.stringify(last)).toBe(true);
        },
        { timeout, interval: 50 },
      );
      return last!;
    },
    async finished(id: string, timeout = 20_000): Promise<RunBody> {
      return api.waitFor(id, (r) => !['queued', 'running'].includes(r.status), timeout);
    },
    async output(id: string) {
      const res = await server.app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${id}/output`, headers: h });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as {
        report: unknown;
        targets: {
          index: number;
          host: string;
          status: string;
          attempt: number;
          output: string | null;
          parsed: unknown;
          error: string | null;
          started_at: string | null;
          finished_at: string | null;
        }[];
      };
    },
    async logs(id: string, after = 0) {
      const res = await server.app.inject({ method: 'GET', url: `/api/v1/jobs/runs/${id}/logs?after=${after}&limit=10000`, headers: h });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { items: { seq: number; level: string; target: string | null; message: string }[] }).items;
    },
  };
  return api;
}

export async function adminClient(server: TestServer) {
  return jobsClient(server, await adminToken(server));
}

/** Creates a credential in the vault through the API; returns its id. */
/** A credential's id (`makeCredential`, kept for the jobs tests' call sites). */
export async function createCredential(server: TestServer, token: string, body: Record<string, unknown>): Promise<string> {
  return (await makeCredential({ server, headers: bearer(token) }, body)).id;
}
