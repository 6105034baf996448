import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { runOpsdeck } from './helpers/process.js';
import { createTestDatabase } from './helpers/db.js';
import { adminToken } from './helpers/auth.js';
import { TEST_ADMIN_PASSWORD, TEST_JWT_SECRET, TEST_MASTER_KEY } from './helpers/server.js';
import { redisTestUrl } from './helpers/redis.js';
import { JOB_MODES, jobsClient, startJobsServer, uniqueQueue } from './jobs/helpers.js';

// `opsdeck user …` once started a job worker and the scheduler and took runs from the live server.
describe.each(JOB_MODES)('a CLI command plays no role ($name)', (mode) => {
  it('leaves queued runs queued and spawns nothing', async () => {
    const db = await createTestDatabase(mode.dialect, { migrate: false });
    const queue = uniqueQueue('cli-roles');
    // The "live server" enqueues but does not consume (api role only), so its runs stay queued.
    const server = await startJobsServer(mode, { db, queue, env: { OPSDECK_ROLES: 'api' } });
    try {
      const jobs = jobsClient(server, await adminToken(server));
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) ids.push((await jobs.start({ type: 'noop' })).id);
      await server.close();

      const env: Record<string, string> = {
        OPSDECK_DATA_DIR: db.dataDir,
        OPSDECK_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
        OPSDECK_LOG_LEVEL: 'warn',
        OPSDECK_JOBS_QUEUE: queue,
        ...(db.url ? { OPSDECK_DATABASE_URL: db.url } : {}),
        ...(mode.cluster ? { OPSDECK_REDIS_URL: redisTestUrl(), OPSDECK_JWT_SECRET: TEST_JWT_SECRET, OPSDECK_MASTER_KEY: TEST_MASTER_KEY } : {}),
      };
      const create = runOpsdeck(['user', 'create', 'cli-roles-zed', '--email', 'zed@example.com', '--role', 'viewer'], env);
      expect(await create.exited, create.stderr()).toBe(0);
      const disable = runOpsdeck(['user', 'disable', 'cli-roles-zed'], env);
      expect(await disable.exited, disable.stderr()).toBe(0);

      const rows = await sql<{ id: string; status: string }>`select id, status from job_runs`.execute(db.database.db);
      expect(rows.rows.map((r) => r.status).sort()).toEqual(['queued', 'queued', 'queued']);
      const workers = await sql<{ n: number | string }>`select count(*) as n from job_workers`.execute(db.database.db);
      expect(Number(workers.rows[0]!.n)).toBe(0);
    } finally {
      await server.close().catch(() => undefined);
      await db.drop();
    }
  }, 120_000);
});
