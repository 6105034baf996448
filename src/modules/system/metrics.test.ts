import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';

describe.each(DIALECTS)('job series on /metrics on %s', (dialect) => {
  const server = useTestServer(dialect);

  it('exposes queue depth and running runs read from the database, and promtool accepts them', async () => {
    const res = await server().app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/^# TYPE opsdeck_job_queue_depth gauge$/m);
    expect(res.body).toMatch(/^opsdeck_job_queue_depth 0$/m);
    expect(res.body).toMatch(/^# TYPE opsdeck_job_runs_running gauge$/m);
    expect(res.body).toMatch(/^# TYPE opsdeck_schedule_/m);
    execFileSync('promtool', ['check', 'metrics'], { input: res.body, stdio: ['pipe', 'pipe', 'pipe'] });
  });
});
