import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { createTestServer, type TestServer } from '../../../test/helpers/server.js';

/** A run resolves platform profiles once: the user-defined ones are read on its first target, not on each. */
describe('profiles.resolve with a run memo', () => {
  let server: TestServer;
  let token = '';
  beforeAll(async () => {
    server = await createTestServer('sqlite');
    token = await adminToken(server);
  });
  afterAll(async () => server?.close());

  const body = { name: 'Memo IOS', drivers: ['memo_ios'], mode: 'device', backup_commands: ['show running-config'] };

  it('reads the user-defined profiles once per memo and afresh without one', async () => {
    const profiles = server.modules.configs.profiles;
    expect(
      (await server.app.inject({ method: 'POST', url: '/api/v1/configs/profiles', headers: bearer(token), payload: { id: 'memo_ios', ...body } })).statusCode,
    ).toBe(201);
    const memo = new Map<string, unknown>();
    expect((await profiles.resolve(undefined, 'memo_ios', memo))?.id).toBe('memo_ios');
    expect((await server.app.inject({ method: 'DELETE', url: '/api/v1/configs/profiles/memo_ios', headers: bearer(token) })).statusCode).toBe(204);
    // Same run: its snapshot still serves the driver (no second read). A new run sees the deletion.
    expect((await profiles.resolve(undefined, 'memo_ios', memo))?.id).toBe('memo_ios');
    expect(await profiles.resolve(undefined, 'memo_ios', new Map())).toBeNull();
    expect(await profiles.resolve(undefined, 'memo_ios')).toBeNull();
    expect((await profiles.resolve('cisco_ios', null, memo))?.id).toBe('cisco_ios');
  });
});
