import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { DIALECTS } from '../../../test/helpers/db.js';
import { isolatedRedisUrl } from '../../../test/helpers/events.js';
import { useTestServer } from '../../../test/helpers/server.js';

describe.each(DIALECTS)('job-template changes are audited by the audit subscriber on %s', (dialect) => {
  const server = useTestServer(dialect, {
    cluster: dialect === 'postgres',
    env: {
      OPSDECK_EVENTS_POLL_MS: '100',
      OPSDECK_JOBS_QUEUE: `eva-${randomBytes(4).toString('hex')}`,
      ...(dialect === 'postgres' ? { OPSDECK_REDIS_URL: isolatedRedisUrl(15) } : {}),
    },
  });
  let admin: Record<string, string>;
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers: admin, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    admin = bearer(await adminToken(server()));
  });

  it('create, update and delete each leave one audit record naming the actor, the template and the changed fields', async () => {
    const created = await api('POST', '/jobs/templates', { name: 'audited', type: 'noop', params: {} });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect((await api('PATCH', `/jobs/templates/${id}`, { description: 'now described', tags: ['x'] })).statusCode).toBe(200);
    expect((await api('DELETE', `/jobs/templates/${id}`)).statusCode).toBe(204);
    // A failed write records nothing.
    expect((await api('DELETE', `/jobs/templates/${id}`)).statusCode).toBe(404);

    type Row = {
      action: string;
      actor: { kind: string; name: string };
      resource_type: string;
      resource_id: string;
      outcome: string;
      changes: Record<string, unknown>;
    };
    let rows: Row[] = [];
    for (let i = 0; i < 200 && rows.length < 3; i += 1) {
      await server().modules.eventsModule.subscribers.drain();
      rows = (await api('GET', `/audit?resource_type=job_template&resource_id=${id}&sort=time`)).json().items;
      if (rows.length < 3) await new Promise((r) => setTimeout(r, 25));
    }
    expect(rows.map((r) => r.action).sort()).toEqual(['job_template.created', 'job_template.deleted', 'job_template.updated']);
    for (const r of rows) {
      expect(r).toMatchObject({ actor: { kind: 'user', name: 'admin' }, resource_type: 'job_template', resource_id: id, outcome: 'success' });
    }
    expect(rows.find((r) => r.action === 'job_template.updated')!.changes).toMatchObject({ name: 'audited', fields: ['description', 'tags'] });

    // Consumed once: draining again (a redelivery attempt) adds nothing.
    await server().modules.eventsModule.subscribers.drain();
    expect((await api('GET', `/audit?resource_type=job_template&resource_id=${id}`)).json().items).toHaveLength(3);
  });
});
