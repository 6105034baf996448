import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { runOpsdeck } from './helpers/process.js';
import { createDatabase } from '../src/platform/db/database.js';
import { verifyPassword } from '../src/modules/identity/password.fns.js';

const tmpData = () => fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-idcli-'));

async function userRow(dataDir: string, username: string) {
  const database = createDatabase({ dialect: 'sqlite', sqlitePath: path.join(dataDir, 'opsdeck.db') });
  try {
    const r = await sql<{
      passwordHash: string;
      status: string;
      mustChangePassword: number;
    }>`select password_hash, status, must_change_password from users where username = ${username}`.execute(database.db);
    return r.rows[0];
  } finally {
    await database.destroy();
  }
}

describe('first start and the user command line', () => {
  it('creates admin with a generated password printed once as a banner on stderr, never in the log, to be changed at first sign-in; the JWT secret file is 0600', async () => {
    const dataDir = tmpData();
    const first = runOpsdeck(['serve'], { OPSDECK_DATA_DIR: dataDir, OPSDECK_PORT: '0' });
    await first.waitFor(/"msg":"opsdeck listening"/, 60_000);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const password = /shown ONCE[\s\S]*?\n\n\s+(\S+)\n/.exec(first.stderr())?.[1];
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    // The log stream (stdout, JSON lines) never carries it.
    expect(first.stdout()).not.toContain(password!);
    expect(
      first
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .some((l) => l.includes(password!)),
    ).toBe(false);
    const admin = (await userRow(dataDir, 'admin'))!;
    expect((await verifyPassword(admin.passwordHash, password!)).ok).toBe(true);
    expect(admin.mustChangePassword).toBe(1);
    expect(fs.statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);

    const second = runOpsdeck(['serve'], { OPSDECK_DATA_DIR: dataDir, OPSDECK_PORT: '0' });
    await second.waitFor(/"msg":"opsdeck listening"/, 60_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.stdout() + second.stderr()).not.toContain('shown ONCE');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('creates, resets and disables users; reports bad input naming the field', async () => {
    const dataDir = tmpData();
    const env = { OPSDECK_DATA_DIR: dataDir, OPSDECK_ADMIN_PASSWORD: 'first-start-pass-4471', OPSDECK_LOG_LEVEL: 'warn' };
    const create = runOpsdeck(['user', 'create', 'bob', '--email', 'bob@example.com', '--role', 'operator'], env);
    expect(await create.exited).toBe(0);
    const password = /Password \(shown once\): (\S+)/.exec(create.stdout())?.[1];
    expect(create.stdout()).toContain("Created user 'bob'");
    expect((await verifyPassword((await userRow(dataDir, 'bob'))!.passwordHash, password!)).ok).toBe(true);

    const reset = runOpsdeck(['user', 'reset-password', 'bob'], env);
    expect(await reset.exited).toBe(0);
    const temporary = /Temporary password \(shown once\): (\S+)/.exec(reset.stdout())?.[1];
    const afterReset = (await userRow(dataDir, 'bob'))!;
    expect((await verifyPassword(afterReset.passwordHash, temporary!)).ok).toBe(true);
    expect(afterReset.mustChangePassword).toBe(1);

    const disable = runOpsdeck(['user', 'disable', 'BOB'], env);
    expect(await disable.exited).toBe(0);
    expect((await userRow(dataDir, 'bob'))!.status).toBe('disabled');

    const bad = runOpsdeck(['user', 'create', 'carol', '--email', 'carol@example.com', '--role', 'no-such-role'], env);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/roles: unknown role\(s\): no-such-role/);
    const missing = runOpsdeck(['user', 'disable', 'nobody'], env);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toContain("No user 'nobody'");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);
});
