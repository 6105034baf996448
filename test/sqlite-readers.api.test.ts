import { describe, expect, it } from 'vitest';
import { adminToken, bearer } from './helpers/auth.js';
import { DIALECTS } from './helpers/db.js';
import { useTestServer } from './helpers/server.js';

// The whole app with reads in reader threads (sqlite-readers.ts); PostgreSQL ignores the setting.
describe.each(DIALECTS)('the API with OPSDECK_SQLITE_READERS=2 (%s)', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_SQLITE_READERS: '2' } });

  it('a request reads what the previous one wrote; bad input is still a 4xx naming the field', async () => {
    const { app } = server();
    const headers = bearer(await adminToken(server()));
    for (let i = 0; i < 5; i++) {
      const created = await app.inject({ method: 'POST', url: '/api/v1/devices', headers, payload: { name: `reader-${i}` } });
      expect(created.statusCode).toBe(201);
      const id = (created.json() as { id: string }).id;
      const byId = await app.inject({ method: 'GET', url: `/api/v1/devices/${id}`, headers });
      expect((byId.json() as { name: string }).name).toBe(`reader-${i}`);
      const renamed = await app.inject({ method: 'PATCH', url: `/api/v1/devices/${id}`, headers, payload: { name: `renamed-${i}` } });
      expect(renamed.statusCode).toBe(200);
      const list = await app.inject({ method: 'GET', url: '/api/v1/devices?limit=50', headers });
      expect((list.json() as { items: { name: string }[] }).items.map((d) => d.name)).toContain(`renamed-${i}`);
    }
    const bad = await app.inject({ method: 'GET', url: '/api/v1/devices?limit=5000', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('limit');
  });
});
