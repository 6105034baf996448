import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { requireRedis } from '../../../test/helpers/redis.js';
import { createTestServer, type TestServer } from '../../../test/helpers/server.js';

/** Two API nodes over one database and one Redis: a change on A is live on B without a restart. */
describe.each(DIALECTS)('settings across two cluster nodes on %s', (dialect) => {
  let a: TestServer;
  let b: TestServer;
  let token = '';
  beforeAll(async () => {
    await requireRedis();
    a = await createTestServer(dialect, { cluster: true });
    b = await createTestServer(dialect, { cluster: true, db: a.db });
    token = await adminToken(a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  beforeEach(async () => {
    await requireRedis();
  });

  it('applies on node B a security change made on node A (bus message)', async () => {
    expect(b.modules.settingsStore.current('security').lockout_threshold).toBe(5);
    const res = await a.app.inject({
      method: 'PATCH',
      url: '/api/v1/settings/security',
      headers: bearer(token),
      payload: { lockout_threshold: 2, access_token_ttl_seconds: 1800 },
    });
    expect(res.statusCode, res.body).toBe(200);
    await vi.waitFor(() => expect(b.modules.settingsStore.current('security').lockout_threshold).toBe(2), { timeout: 2_000, interval: 20 });
    // …and B's identity uses it: a sign-in on B issues half-hour access tokens.
    const login = await b.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'Correct-Horse-Test-9147' } });
    expect(login.json().expires_in).toBe(1800);
    const onB = await b.app.inject({ method: 'GET', url: '/api/v1/settings/security?explain=true', headers: bearer(token) });
    expect(onB.json().explain.lockout_threshold).toMatchObject({ value: 2, source: 'database' });
  });

  it('converges from the database when the bus message was missed (periodic version check)', async () => {
    // Written behind both nodes' backs: no bus message, only the table.
    const db = a.modules.database.db;
    const now = new Date().toISOString();
    const row = await sql<{ version: number }>`select version from settings where key = 'general'`.execute(db);
    if (row.rows.length === 0) {
      await sql`insert into settings (key, value, version, updated_at, updated_by) values ('general', ${JSON.stringify({ instance_name: 'Behind the back' })}, 1, ${now}, 'sql')`.execute(
        db,
      );
    } else {
      await sql`update settings set value = ${JSON.stringify({ instance_name: 'Behind the back' })}, version = version + 1, updated_at = ${now} where key = 'general'`.execute(
        db,
      );
    }
    // Each node checks on its own timer: both converge, in either order.
    await vi.waitFor(
      () => {
        expect(b.modules.settingsStore.current('general').instance_name).toBe('Behind the back');
        expect(a.modules.settingsStore.current('general').instance_name).toBe('Behind the back');
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});
