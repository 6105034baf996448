import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';

// Two concurrent demotions of the last two admins both passed the check: no admin was left.
describe.each(DIALECTS)('the last-admin check under concurrency (%s)', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000' } });

  const activeAdmins = async () => {
    const r = await sql<{ n: number | string }>`select count(*) as n from user_roles ur join roles r on r.id = ur.role_id join users u on u.id = ur.user_id
      where r.name = 'admin' and u.status = 'active'`.execute(server().db.database.db);
    return Number(r.rows[0]!.n);
  };

  it('lets at most one of two simultaneous demotions through; one active admin always remains', async () => {
    const boot = await adminToken(server());
    const a = await loginAs(server(), 'admin', boot);
    const b = await loginAs(server(), 'admin', boot);
    const users = server().modules.identity.service.users;
    // Only a and b are admins from here on.
    const bootId = (await server().app.inject({ url: '/api/v1/auth/me', headers: bearer(boot) })).json().id as string;
    await users.update(SYSTEM_ACTOR, bootId, { status: 'disabled' });

    for (let round = 0; round < 8; round += 1) {
      expect(await activeAdmins()).toBe(2);
      const demote = (token: string, id: string, body: object) =>
        server().app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: bearer(token), payload: body });
      // Alternate the kinds of demotion: taking the role and disabling.
      const body = round % 2 === 0 ? { roles: ['viewer'] } : { status: 'disabled' };
      // Disabling signs the user out: fresh tokens every round.
      const [ta, tb] = [(await login(server(), a.username, a.password)).access_token, (await login(server(), b.username, b.password)).access_token];
      const [x, y] = await Promise.all([demote(ta, b.userId, body), demote(tb, a.userId, body)]);
      const codes = [x.statusCode, y.statusCode].sort();
      expect(codes.filter((c) => c === 200).length, `${x.body} ${y.body}`).toBeLessThanOrEqual(1);
      for (const r of [x, y]) if (r.statusCode !== 200) expect([401, 403, 409]).toContain(r.statusCode); // 401/403: the other demotion won before this request was authorised
      expect(await activeAdmins()).toBe(1);
      // Restore both admins for the next round.
      for (const id of [a.userId, b.userId]) await users.update(SYSTEM_ACTOR, id, { roles: ['admin'], status: 'active' });
    }
  }, 60_000);
});
