import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { useGitDaemon } from '../../../test/helpers/git-daemon.js';

const MINUTE = 60_000;

describe.each(DIALECTS)('scheduled syncs and allowed file extensions on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker', OPSDECK_GIT_SCHEMES: 'https,ssh,git' } });
  const git = useGitDaemon();
  let auth: Record<string, string>;
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  const waitRun = (id: string) =>
    vi.waitFor(
      async () => {
        expect((await api('GET', `/jobs/runs/${id}`)).json().status).toBe('succeeded');
      },
      { timeout: 30_000, interval: 100 },
    );

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
  });

  it('fires a due repository once per interval, as the user who set it, exactly once when passes race', async () => {
    const { root, daemon } = git();
    root.createBare('timed');
    root.commit('timed', { 'r1.cfg': 'hostname r1\n' }, 'first');
    const created = await api('POST', '/git/repositories', {
      name: `timed-${dialect}`,
      category: 'configs',
      url: `${daemon.url}/timed.git`,
      sync_interval_seconds: 60,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const scheduler = server().modules.configs.syncScheduler;
    const t0 = Date.now();
    // Two passes at once (two scheduler nodes): one claims the repository.
    const fired = (await Promise.all([scheduler.tick(new Date(t0)), scheduler.tick(new Date(t0))])).flat().filter((x) => x === id);
    expect(fired).toEqual([id]);
    expect(await scheduler.tick(new Date(t0 + 1000))).not.toContain(id);
    const first = (await api('GET', `/git/repositories/${id}`)).json();
    expect(first.next_sync_at).toEqual(new Date(t0 + MINUTE).toISOString());
    await waitRun(first.last_sync_run_id);
    const run = (await api('GET', `/jobs/runs/${first.last_sync_run_id}`)).json();
    const adminId = (await api('GET', '/auth/me')).json().id as string;
    expect(first.sync_owner_id).toBe(adminId);
    expect(run).toMatchObject({ type: 'git_sync', trigger: { kind: 'system', id }, initiator: { kind: 'user', id: adminId } });
    expect((await api('GET', `/git/repositories/${id}`)).json()).toMatchObject({ last_sync_status: 'ok', head_commit: expect.any(String) });
    // The next interval fires again once the previous run has finished.
    expect(await scheduler.tick(new Date(t0 + MINUTE + 1000))).toContain(id);
    const second = (await api('GET', `/git/repositories/${id}`)).json();
    expect(second.last_sync_run_id).not.toBe(first.last_sync_run_id);
    await waitRun(second.last_sync_run_id);
    // Inactive or without an interval: never due.
    await api('PATCH', `/git/repositories/${id}`, { sync_interval_seconds: null });
    expect(await scheduler.tick(new Date(t0 + 10 * MINUTE))).not.toContain(id);
  });

  it('re-checks the owner at every fire: one who lost git:sync refuses it, recorded on the repository; nothing runs', async () => {
    const { root, daemon } = git();
    root.createBare('owned');
    root.commit('owned', { 'r1.cfg': 'hostname r1\n' }, 'first');
    const role = await api('POST', '/roles', { name: `syncer-${dialect}`, permissions: ['git:read', 'git:write', 'git:sync', 'jobs:run', 'jobs:read'] });
    expect(role.statusCode, role.body).toBe(201);
    const owner = await loginAs(server(), `syncer-${dialect}`);
    const created = await server().app.inject({
      method: 'POST',
      url: '/api/v1/git/repositories',
      headers: bearer(owner.token),
      payload: { name: `owned-${dialect}`, category: 'configs', url: `${daemon.url}/owned.git`, sync_interval_seconds: 60 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect(created.json().sync_owner_id).toBe(owner.userId);
    const scheduler = server().modules.configs.syncScheduler;
    const t0 = Date.now();
    expect(await scheduler.tick(new Date(t0))).toContain(id);
    const first = (await api('GET', `/git/repositories/${id}`)).json();
    expect((await api('GET', `/jobs/runs/${first.last_sync_run_id}`)).json().initiator).toEqual({ kind: 'user', id: owner.userId });
    await waitRun(first.last_sync_run_id);
    // The owner's role loses git:sync: the next fire is refused, and says why.
    expect((await api('PATCH', `/roles/${role.json().id}`, { permissions: ['git:read', 'git:write', 'jobs:run', 'jobs:read'] })).statusCode).toBe(200);
    expect(await scheduler.tick(new Date(t0 + MINUTE + 1000))).not.toContain(id);
    const refused = (await api('GET', `/git/repositories/${id}`)).json();
    expect(refused).toMatchObject({ last_sync_status: 'failed', last_sync_run_id: first.last_sync_run_id });
    expect(refused.last_sync_error).toMatch(/^scheduled sync refused: its owner .* may no longer sync repositories \(git:sync\)$/);
    // An admin taking the interval over owns it from then on.
    const taken = await api('PATCH', `/git/repositories/${id}`, { sync_interval_seconds: 120 });
    expect(taken.json().sync_owner_id).not.toBe(owner.userId);
    expect(await scheduler.tick(new Date(t0 + 3 * MINUTE))).toContain(id);
    await waitRun((await api('GET', `/git/repositories/${id}`)).json().last_sync_run_id);
  });

  it('lists only files with allowed extensions (the default, or the repository’s own list)', async () => {
    const { root, daemon } = git();
    root.createBare('files');
    root.commit(
      'files',
      {
        'configs/r1.cfg': 'hostname r1\n',
        'configs/NOTES.TXT': 'notes\n',
        'configs/firmware.bin': 'ELF\u0001\u0002',
        'configs/old.cfg.bak': 'x\n',
        'configs/Makefile': 'all:\n',
        'configs/sub/x.conf': 'x\n',
      },
      'files',
    );
    const created = await api('POST', '/git/repositories', {
      name: `files-${dialect}`,
      category: 'templates',
      url: `${daemon.url}/files.git`,
      path: 'configs',
    });
    const id = created.json().id as string;
    const runId = (await api('POST', `/git/repositories/${id}/sync`)).json().run_id;
    await waitRun(runId);
    const paths = async () => ((await api('GET', `/git/repositories/${id}/files`)).json().items as { path: string }[]).map((f) => f.path).sort();
    expect(await paths()).toEqual(['NOTES.TXT', 'r1.cfg', 'sub/x.conf']);
    const patched = await api('PATCH', `/git/repositories/${id}`, { allowed_extensions: ['.BIN', '.bak'] });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().allowed_extensions).toEqual(['.bin', '.bak']);
    expect(await paths()).toEqual(['firmware.bin', 'old.cfg.bak']);
    // Hidden from the list, still readable by path.
    expect((await api('GET', `/git/repositories/${id}/files/r1.cfg`)).statusCode).toBe(200);
    const bad = await api('PATCH', `/git/repositories/${id}`, { allowed_extensions: ['cfg'] });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().errors)).toContain('allowed_extensions');
    await api('PATCH', `/git/repositories/${id}`, { allowed_extensions: null });
    expect(await paths()).toEqual(['NOTES.TXT', 'r1.cfg', 'sub/x.conf']);
  });
});

describe.each(DIALECTS)('scheduled syncs without a worker on %s', (dialect) => {
  // No worker: a run stays queued, as a long sync would stay running.
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api', OPSDECK_GIT_SCHEMES: 'https,ssh,git' } });
  let auth: Record<string, string>;
  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
  });

  it('skips a repository whose previous sync is still queued or running', async () => {
    const created = await server().app.inject({
      method: 'POST',
      url: '/api/v1/git/repositories',
      headers: auth,
      payload: { name: `busy-${dialect}`, category: 'configs', url: 'git://127.0.0.1:9/busy.git', sync_interval_seconds: 60 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const scheduler = server().modules.configs.syncScheduler;
    const t0 = Date.now();
    expect(await scheduler.tick(new Date(t0))).toContain(id);
    const queued = (await server().app.inject({ method: 'GET', url: `/api/v1/git/repositories/${id}`, headers: auth })).json();
    expect(queued.last_sync_status).toBe('queued');
    expect(await scheduler.tick(new Date(t0 + MINUTE + 1000))).not.toContain(id);
    const after = (await server().app.inject({ method: 'GET', url: `/api/v1/git/repositories/${id}`, headers: auth })).json();
    expect(after.last_sync_run_id).toBe(queued.last_sync_run_id);
    const runs = (await server().app.inject({ method: 'GET', url: '/api/v1/jobs/runs?type=git_sync&limit=1000', headers: auth })).json().items as {
      params: { repository_id: string };
    }[];
    expect(runs.filter((r) => r.params.repository_id === id)).toHaveLength(1);
  });
});
