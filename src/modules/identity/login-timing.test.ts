import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { loginAs } from '../../../test/helpers/auth.js';

const ROUNDS = 21;
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

/**
 * A failed login must not tell whether the username exists: both paths run one argon2id
 * verification, so their median durations differ by a small fraction of the hash time.
 */
describe.each(DIALECTS)('login timing on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_AUTH_RATE_LIMIT: '100000', OPSDECK_LOCKOUT_THRESHOLD: '1000' } });

  it('takes comparable time for an existing and a non-existing username', async () => {
    const u = await loginAs(server(), 'viewer');
    const time = async (username: string) => {
      const started = performance.now();
      const res = await server().app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: 'wrong-password-guess' } });
      expect(res.statusCode).toBe(401);
      return performance.now() - started;
    };
    await time(u.username);
    await time('warm-up-nobody');
    const existing: number[] = [];
    const missing: number[] = [];
    // Interleaved, so load from other processes on the machine hits both series alike.
    for (let i = 0; i < ROUNDS; i += 1) {
      existing.push(await time(u.username));
      missing.push(await time(`nobody-${i}`));
    }
    const [e, m] = [median(existing), median(missing)];
    const hashTime = Math.min(e, m);
    expect(hashTime).toBeGreaterThan(5); // a real password hash ran on both paths
    expect(Math.abs(e - m) / hashTime).toBeLessThan(0.25);
  });
});
