import { generate } from 'otplib';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, login, loginAs } from '../../../test/helpers/auth.js';

const code = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)('GET /auth/security-events on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000', OPSDECK_LOCKOUT_THRESHOLD: '3', OPSDECK_LOCKOUT_SECONDS: '1' } });
  const post = (url: string, token: string | null, payload?: object, headers: Record<string, string> = {}) =>
    server().app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...(token ? bearer(token) : {}), ...headers }, ...(payload ? { payload } : {}) });
  const events = (token: string, query = '') => server().app.inject({ method: 'GET', url: `/api/v1/auth/security-events${query}`, headers: bearer(token) });

  it('lists a lockout, a recovery-code sign-in, 2FA removed by an admin and refresh-token reuse to the owner only, newest first, with IP and user agent', async () => {
    const u = await loginAs(server(), 'viewer');
    const other = await loginAs(server(), 'viewer');
    const secret = (await post('/auth/2fa/enrol', u.token)).json().secret as string;
    const recovery: string[] = (await post('/auth/2fa/confirm', u.token, { code: await code(secret, -1) })).json().recovery_codes;
    // A sign-in with a recovery code.
    const ua = { 'user-agent': `security-events-test/${dialect}` };
    expect((await post('/auth/login', null, { username: u.username, password: u.password, totp: recovery[0] }, ua)).statusCode).toBe(200);
    // Refresh-token reuse.
    const session = (await post('/auth/login', null, { username: u.username, password: u.password, totp: await code(secret) })).json();
    expect((await post('/auth/refresh', null, { refresh_token: session.refresh_token })).statusCode).toBe(200);
    expect((await post('/auth/refresh', null, { refresh_token: session.refresh_token })).json().code).toBe('REFRESH_TOKEN_REUSED');
    // An admin removes the user's 2FA.
    const removed = await server().app.inject({ method: 'DELETE', url: `/api/v1/users/${u.userId}/two-factor`, headers: bearer(await adminToken(server())) });
    expect(removed.statusCode).toBe(204);
    // Three wrong passwords lock the account.
    for (let i = 0; i < 3; i += 1) expect((await post('/auth/login', null, { username: u.username, password: 'wrong-password-xyz' }, ua)).statusCode).toBe(401);
    await sleep(1100);
    const token = (await login(server(), u.username, u.password)).access_token;

    const res = await events(token);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { action: string; time: string; ip: string | null; user_agent: string | null; actor: { name: string } }[];
    const actions = items.map((i) => i.action);
    for (const a of [
      'auth.lockout',
      'auth.login.failed',
      'auth.2fa.recovery_code_used',
      'auth.2fa.disabled',
      'auth.token.reuse_detected',
      'auth.2fa.enabled',
    ]) {
      expect(actions).toContain(a);
    }
    expect(items.find((i) => i.action === 'auth.2fa.disabled')!.actor.name).toBe('admin');
    expect(items.find((i) => i.action === 'auth.lockout')).toMatchObject({ ip: '127.0.0.1', user_agent: `security-events-test/${dialect}` });
    expect(items.find((i) => i.action === 'auth.2fa.recovery_code_used')).toMatchObject({ user_agent: `security-events-test/${dialect}` });
    expect([...items].sort((a, b) => b.time.localeCompare(a.time)).map((i) => i.time)).toEqual(items.map((i) => i.time));
    // Paginated like every list.
    const page = (await events(token, '?limit=2')).json();
    expect(page.items).toHaveLength(2);
    expect((await events(token, `?limit=2&cursor=${page.next_cursor}`)).json().items[0].time <= page.items[1].time).toBe(true);
    // Nobody else's.
    expect((await events(other.token)).json().items.map((i: { action: string }) => i.action)).not.toContain('auth.lockout');
    // Each is announced on the outbox for the future notification channel.
    const rows = await sql<{
      n: number | string;
    }>`select count(*) as n from domain_events where name = 'security.event' and cast(payload as text) like ${`%${u.userId}%`}`.execute(
      server().db.database.db,
    );
    expect(Number(rows.rows[0]!.n)).toBeGreaterThanOrEqual(6);
  });
});
