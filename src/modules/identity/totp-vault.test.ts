import { generate } from 'otplib';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS } from '../../../test/helpers/db.js';
import { createTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../platform/observability/logger.js';
import { runKeysCommand } from '../credentials/index.js';
import { createSealer } from './secrets.fns.js';

const JWT_SECRET = 'totp-vault-test-jwt-secret-0123456789abcdef';
const K1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const K2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;
const code = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });

// TOTP seeds were sealed under a key derived from the JWT secret: not rotatable with the vault,
// and a leaked JWT secret opened them. They now live under the vault's key ring.
describe.each(DIALECTS)('TOTP seeds under the vault key ring (%s)', (dialect) => {
  it('are not sealed under the JWT secret, survive a master-key rotation (old key removed), and old-format seeds are moved at start', async () => {
    const db = await createTestDatabase(dialect, { migrate: false });
    const env = (masterKey: string) => ({ OPSDECK_JWT_SECRET: JWT_SECRET, OPSDECK_MASTER_KEY: masterKey, OPSDECK_LOCKOUT_THRESHOLD: '50' });
    const stored = async (userId: string) =>
      (await sql<{ s: string | null }>`select totp_secret as s from users where id = ${userId}`.execute(db.database.db)).rows[0]!.s!;
    try {
      // 1. Enrol under k1.
      let server = await createTestServer(dialect, { db, env: env(K1) });
      const u = await loginAs(server, 'operator');
      const other = await loginAs(server, 'viewer', await adminToken(server));
      const enrol = await server.app.inject({ method: 'POST', url: '/api/v1/auth/2fa/enrol', headers: bearer(u.token) });
      const secret = enrol.json().secret as string;
      expect(
        (await server.app.inject({ method: 'POST', url: '/api/v1/auth/2fa/confirm', headers: bearer(u.token), payload: { code: await code(secret, -1) } }))
          .statusCode,
      ).toBe(200);
      const sealed = await stored(u.userId);
      expect(sealed.startsWith('env1:k1:')).toBe(true);
      expect(sealed).not.toContain(secret);
      expect(() => createSealer(JWT_SECRET).open(sealed, `user:${u.userId}:totp`)).toThrow();
      await server.close();

      // 2. Add k2, rotate, then drop k1 from the ring.
      const config = loadConfig({ OPSDECK_DATA_DIR: db.dataDir, ...(db.url ? { OPSDECK_DATABASE_URL: db.url } : {}), ...env(`${K1},${K2}`) });
      const rotated = await runKeysCommand(['rotate'], config, createLogger({ level: 'silent' }));
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toContain('two-factor seeds: 1 re-wrapped, 0 failed');
      expect((await stored(u.userId)).startsWith('env1:k2:')).toBe(true);

      // 3. A seed in the old format (sealed under the JWT secret) is moved at start.
      const legacySecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      await sql`update users set totp_secret = ${createSealer(JWT_SECRET).seal(legacySecret, `user:${other.userId}:totp`)} where id = ${other.userId}`.execute(
        db.database.db,
      );

      server = await createTestServer(dialect, { db, env: env(K2) });
      try {
        expect((await stored(other.userId)).startsWith('env1:k2:')).toBe(true);
        const login = async (username: string, password: string, totp: string) =>
          server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password, totp } });
        expect((await login(u.username, u.password, await code(secret))).statusCode).toBe(200);
        expect((await login(other.username, other.password, await code(legacySecret))).statusCode).toBe(200);
        const status = await runKeysCommand(
          ['status'],
          loadConfig({ OPSDECK_DATA_DIR: db.dataDir, ...(db.url ? { OPSDECK_DATABASE_URL: db.url } : {}), ...env(K2) }),
          createLogger({ level: 'silent' }),
        );
        expect(status.stdout).toMatch(/k2=2\b/);
      } finally {
        await server.close();
      }
    } finally {
      await db.drop();
    }
  }, 90_000);
});
