import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { createTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';
import { bearer, login } from './helpers/auth.js';

/**
 * The paths that once waited forever on SQLite's one connection (a read outside the transaction
 * holding it), taken on a server just restarted over the same data: every cache is cold, so no
 * earlier test can have warmed the value the path would read outside its transaction.
 */
const HANG = 5_000;
async function answered<T extends { statusCode: number }>(p: Promise<T>): Promise<T> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${HANG} ms`)), HANG).unref());
  return Promise.race([p, timeout]);
}

const totp = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });

describe.each(DIALECTS)('cold paths after a restart on %s', (dialect) => {
  let db: TestDatabase;
  let server: TestServer;
  const saved = { refresh: '', access: '', apiKey: '', credentialId: '', totpSecret: '' };
  const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: object) =>
    answered(server.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) }));

  beforeAll(async () => {
    db = await createTestDatabase(dialect, { migrate: false });
    const first = await createTestServer(dialect, { db });
    server = first;
    const session = await login(first, 'admin', TEST_ADMIN_PASSWORD);
    const admin = bearer(session.access_token);
    const key = await inject('POST', '/api-keys', admin, { name: 'cold', role: 'admin' });
    expect(key.statusCode, key.body).toBe(201);
    saved.apiKey = key.json().key;
    const cred = await inject('POST', '/credentials', admin, { name: 'cold-ssh', type: 'ssh', username: 'netops', password: 'cold-path-secret-1' });
    expect(cred.statusCode, cred.body).toBe(201);
    saved.credentialId = cred.json().id;
    const enrol = await inject('POST', '/auth/2fa/enrol', admin);
    saved.totpSecret = enrol.json().secret;
    expect((await inject('POST', '/auth/2fa/confirm', admin, { code: await totp(saved.totpSecret, -1) })).statusCode).toBe(200);
    const again = await login(first, 'admin', TEST_ADMIN_PASSWORD, await totp(saved.totpSecret));
    saved.refresh = again.refresh_token;
    saved.access = again.access_token;
    await first.close();
    // The restart: a new process over the same database, every cache empty.
    server = await createTestServer(dialect, { db });
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('refreshes a token saved before the restart', async () => {
    const res = await inject('POST', '/auth/refresh', {}, { refresh_token: saved.refresh });
    expect(res.statusCode, res.body).toBe(200);
    expect((await inject('GET', '/auth/me', bearer(res.json().access_token))).statusCode).toBe(200);
  });

  it('accepts an API key, reveals with step-up, writes a device checked against the vault, and creates a run', async () => {
    const key = { 'x-api-key': saved.apiKey };
    expect((await inject('GET', '/auth/me', key)).statusCode).toBe(200);
    const admin = bearer(saved.access);
    const reveal = await inject('POST', `/credentials/${saved.credentialId}/reveal`, admin, { reason: 'cold path', totp: await totp(saved.totpSecret, 1) });
    expect(reveal.statusCode, reveal.body).toBe(200);
    const device = await inject('POST', '/devices', key, { name: 'cold-r1', credential_id: saved.credentialId });
    expect(device.statusCode, device.body).toBe(201);
    const run = await inject('POST', '/jobs/runs', key, { type: 'noop' });
    expect(run.statusCode, run.body).toBe(202);
  });
});
