import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';

/** The code of the step `offset` steps from now (distinct steps, since a code is accepted once). */
const code = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });

describe.each(DIALECTS)('two-factor authentication on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000', OPSDECK_LOCKOUT_THRESHOLD: '50' } });
  const post = (url: string, token: string | null, payload?: object) =>
    server().app.inject({ method: 'POST', url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}), ...(payload ? { payload } : {}) });

  async function enrolled() {
    const u = await loginAs(server(), 'operator');
    const enrol = await post('/auth/2fa/enrol', u.token);
    expect(enrol.statusCode).toBe(200);
    const { secret, otpauth_uri } = enrol.json();
    expect(otpauth_uri).toMatch(/^otpauth:\/\/totp\/Opsdeck:.*secret=/);
    expect(otpauth_uri).toContain(secret);
    const wrong = await post('/auth/2fa/confirm', u.token, { code: '000000' === (await code(secret)) ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(422);
    const confirm = await post('/auth/2fa/confirm', u.token, { code: await code(secret, -1) });
    expect(confirm.statusCode).toBe(200);
    const recovery: string[] = confirm.json().recovery_codes;
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    return { ...u, secret, recovery };
  }

  it('enrols with a first code, then requires a TOTP at login and accepts each code once', async () => {
    const u = await enrolled();
    const noCode = await post('/auth/login', null, { username: u.username, password: u.password });
    expect(noCode.statusCode).toBe(401);
    expect(noCode.json().code).toBe('TOTP_REQUIRED');
    const totp = await code(u.secret);
    const ok = await post('/auth/login', null, { username: u.username, password: u.password, totp });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.two_factor_enabled).toBe(true);
    const replay = await post('/auth/login', null, { username: u.username, password: u.password, totp });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('INVALID_CREDENTIALS');
    expect((await post('/auth/2fa/enrol', u.token)).statusCode).toBe(409);
  });

  it('accepts each recovery code once instead of a TOTP', async () => {
    const u = await enrolled();
    const recovery = u.recovery[0]!.toUpperCase();
    expect((await post('/auth/login', null, { username: u.username, password: u.password, totp: recovery })).statusCode).toBe(200);
    expect((await post('/auth/login', null, { username: u.username, password: u.password, totp: recovery })).statusCode).toBe(401);
  });

  it('regenerates recovery codes and turns 2FA off only with a current code', async () => {
    const u = await enrolled();
    const regen = await post('/auth/2fa/recovery-codes', u.token, { code: await code(u.secret, 1) });
    expect(regen.statusCode).toBe(200);
    expect(regen.json().recovery_codes).not.toContain(u.recovery[0]);
    expect((await post('/auth/login', null, { username: u.username, password: u.password, totp: u.recovery[1] })).statusCode).toBe(401);
    expect((await post('/auth/2fa/disable', u.token, {})).statusCode).toBe(422);
    expect((await post('/auth/2fa/disable', u.token, { code: regen.json().recovery_codes[0] })).statusCode).toBe(204);
    expect((await post('/auth/login', null, { username: u.username, password: u.password })).statusCode).toBe(200);
    expect((await post('/auth/2fa/disable', u.token, {})).statusCode).toBe(409);
  });

  it('lets an admin turn off a user’s 2FA (lost device)', async () => {
    const u = await enrolled();
    const admin = await adminToken(server());
    expect((await server().app.inject({ method: 'DELETE', url: `/api/v1/users/${u.userId}/two-factor`, headers: bearer(admin) })).statusCode).toBe(204);
    expect((await post('/auth/login', null, { username: u.username, password: u.password })).statusCode).toBe(200);
    expect((await server().app.inject({ method: 'DELETE', url: `/api/v1/users/${u.userId}/two-factor`, headers: bearer(u.token) })).statusCode).toBe(403);
  });

  it('step-up: requires a fresh code for a user with 2FA, with clear codes; no-op without 2FA', async () => {
    const { identity } = server().modules;
    const u = await enrolled();
    const me = await server().app.inject({ method: 'GET', url: '/api/v1/auth/verify', headers: bearer(u.token) });
    // A session that signed in with its password just now (step-up also requires that).
    const actor = {
      kind: 'user' as const,
      id: me.json().actor.id,
      name: u.username,
      permissions: new Set<string>(),
      teamIds: [],
      authAt: Math.floor(Date.now() / 1000),
    };
    await expect(identity.stepUp.require(actor, undefined)).rejects.toMatchObject({ status: 401, code: 'STEP_UP_REQUIRED' });
    await expect(identity.stepUp.require(actor, '123456' === (await code(u.secret)) ? '654321' : '123456')).rejects.toMatchObject({
      status: 403,
      code: 'STEP_UP_FAILED',
    });
    const fresh = await code(u.secret);
    await expect(identity.stepUp.require(actor, fresh)).resolves.toBeUndefined();
    await expect(identity.stepUp.require(actor, fresh)).rejects.toMatchObject({ code: 'STEP_UP_FAILED' });
    const plain = await loginAs(server(), 'viewer');
    await expect(identity.stepUp.require({ ...actor, id: plain.userId }, undefined)).resolves.toBeUndefined();
    await expect(
      identity.stepUp.require({ kind: 'system', id: '00000000-0000-0000-0000-000000000000', name: 'system', permissions: '*', teamIds: [] }, undefined),
    ).resolves.toBeUndefined();
    await expect(identity.stepUp.require({ ...actor, authAt: Math.floor(Date.now() / 1000) - 3600 }, fresh)).rejects.toMatchObject({
      status: 401,
      code: 'REAUTH_REQUIRED',
    });
  });

  it('keeps TOTP secrets sealed in the database', async () => {
    const u = await enrolled();
    const { sql } = await import('kysely');
    const row = await sql<{ totpSecret: string }>`select totp_secret from users where id = ${u.userId}`.execute(server().modules.database.db);
    expect(row.rows[0]!.totpSecret).toMatch(/^env1:[A-Za-z0-9_-]+:v1\.[^:]+:v1\./);
    expect(row.rows[0]!.totpSecret).not.toContain(u.secret);
  });
});
