import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { createGitFixtureRoot, startGitDaemon, startGitHttp, type GitFixtureRoot, type GitServerPeer } from '../../../test/peers/git-servers.js';

const HTTP_USER = 'alice';
const HTTP_PASSWORD = 'Git-Http-Secret-4471';

const R1_V1 = 'hostname r1\ninterface Gi0/1\n description uplink\n!\n';
const R1_V2 = 'hostname r1\ninterface Gi0/1\n description uplink to core\n!\nntp server 192.0.2.1\n';
const R2_V1 = 'hostname r2\nsnmp-server location lab\n';

describe.each(DIALECTS)('/api/v1/git/repositories on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker', OPSDECK_GIT_SCHEMES: 'https,ssh,http,git' } });
  let auth: Record<string, string>;
  let root: GitFixtureRoot;
  let daemon: GitServerPeer;
  let httpOpen: GitServerPeer;
  let httpAuth: GitServerPeer;
  const heads: string[] = [];

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function waitRun(id: string) {
    let run: { status: string; reason?: string | null } = { status: 'queued' };
    await vi.waitFor(
      async () => {
        run = (await api('GET', `/jobs/runs/${id}`)).json();
        expect(['queued', 'running']).not.toContain(run.status);
      },
      { timeout: 30_000, interval: 100 },
    );
    return run;
  }

  /** Registers a repository and syncs it; returns its id. */
  async function synced(body: Record<string, unknown>): Promise<string> {
    const created = await api('POST', '/git/repositories', { category: 'configs', ...body });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const sync = await api('POST', `/git/repositories/${id}/sync`);
    expect(sync.statusCode, sync.body).toBe(202);
    expect(sync.json()).toMatchObject({ repository_id: id, run_id: expect.any(String) });
    const run = await waitRun(sync.json().run_id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    return id;
  }

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
    root = createGitFixtureRoot();
    root.createBare('net');
    heads.push(
      root.commit('net', { 'configs/r1.cfg': R1_V1, 'configs/r2.cfg': R2_V1, 'README.md': '# lab\n' }, 'initial import', {
        date: '2026-01-01T10:00:00Z',
        author: 'Alice Admin',
      }),
    );
    heads.push(root.commit('net', { 'configs/r1.cfg': R1_V2 }, 'r1: uplink description, ntp', { date: '2026-01-02T10:00:00Z', author: 'Bob Backup' }));
    heads.push(
      root.commit('net', { 'configs/sw2.cfg': { rename: 'configs/r2.cfg' } }, 'rename r2 to sw2', { date: '2026-01-03T10:00:00Z', author: 'Alice Admin' }),
    );
    heads.push(
      root.commit(
        'net',
        { 'configs/sw2.cfg': R2_V1.replace('lab', 'lab-2'), 'configs/evil.cfg': { symlink: '../../../../etc/passwd' } },
        'sw2 location; a link',
        { date: '2026-01-04T10:00:00Z', author: 'Bob Backup' },
      ),
    );
    daemon = await startGitDaemon(root.dir);
    httpOpen = await startGitHttp(root.dir);
    httpAuth = await startGitHttp(root.dir, { auth: { username: HTTP_USER, password: HTTP_PASSWORD } });
  });
  afterAll(async () => {
    await Promise.all([daemon?.close(), httpOpen?.close(), httpAuth?.close()]);
    root?.close();
  });

  it('registers, syncs over git daemon as a job run, and reports the sync', async () => {
    const id = await synced({ name: `daemon-${dialect}`, url: `${daemon.url}/net.git` });
    const repo = (await api('GET', `/git/repositories/${id}`)).json();
    expect(repo).toMatchObject({
      name: `daemon-${dialect}`,
      category: 'configs',
      branch: 'main',
      path: '',
      last_sync_status: 'ok',
      head_commit: heads[3],
      last_sync_error: null,
      ca_cert_set: false,
    });
    const status = (await api('GET', `/git/repositories/${id}/status`)).json();
    expect(status).toMatchObject({ synced: true, head_commit: heads[3], remote_commit: heads[3], ahead: 0, behind: 0, dirty: false });
    expect((await api('GET', `/git/repositories/${id}/branches`)).json().items).toEqual([{ name: 'main', commit: heads[3] }]);
    expect((await api('GET', '/git/repositories?category=configs')).json().items.map((r: { id: string }) => r.id)).toContain(id);
  });

  it('checks git:sync and the credential for the run’s initiator when the sync executes, not only when it is requested', async () => {
    const cred = await api('POST', '/credentials', { name: `git-exec-${dialect}`, type: 'basic', username: HTTP_USER, password: HTTP_PASSWORD });
    const created = await api('POST', '/git/repositories', {
      category: 'configs',
      name: `exec-check-${dialect}`,
      url: `${httpAuth.url}/net.git`,
      credential_id: cred.json().id,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    // Someone who may start job runs but not sync repositories starts a git_sync through /jobs/runs.
    const role = await api('POST', '/roles', { name: `runs-only-${dialect}`, permissions: ['jobs:read', 'jobs:run'] });
    expect(role.statusCode, role.body).toBe(201);
    const runner = bearer((await loginAs(server(), `runs-only-${dialect}`)).token);
    const started = await api('POST', '/jobs/runs', { type: 'git_sync', params: { repository_id: id } }, runner);
    expect(started.statusCode, started.body).toBe(202);
    const run = await waitRun(started.json().id);
    expect(run).toMatchObject({ status: 'failed', attempt: 1 });
    const targets = (await api('GET', `/jobs/runs/${started.json().id}/targets`)).json().items as { error: string }[];
    expect(targets[0]!.error).toMatch(/^PERMISSION_DENIED: .*git:sync/);
    expect((await api('GET', `/git/repositories/${id}`)).json()).toMatchObject({ head_commit: null, last_sync_status: 'failed' });
    // Nothing was decrypted for the run.
    const uses = (await api('GET', `/credentials/${cred.json().id}/access-log`)).json().items as { job_run_id?: string | null }[];
    expect(uses.filter((u) => u.job_run_id === started.json().id)).toEqual([]);
  });

  it('tests a connection before saving, and syncs over http-backend with basic auth from the vault', async () => {
    const cred = await api('POST', '/credentials', { name: `git-basic-${dialect}`, type: 'basic', username: HTTP_USER, password: HTTP_PASSWORD });
    expect(cred.statusCode, cred.body).toBe(201);
    const url = `${httpAuth.url}/net.git`;
    const denied = (await api('POST', '/git/repositories/test', { url })).json();
    expect(denied).toMatchObject({ ok: false, code: 'GIT_AUTH_FAILED', branches: [] });
    const ok = (await api('POST', '/git/repositories/test', { url, credential_id: cred.json().id })).json();
    expect(ok).toMatchObject({ ok: true, branch_found: true, branches: [{ name: 'main', commit: heads[3] }] });
    const id = await synced({ name: `http-auth-${dialect}`, url, credential_id: cred.json().id });
    const file = (await api('GET', `/git/repositories/${id}/files/configs/r1.cfg`)).json();
    expect(file).toMatchObject({ path: 'configs/r1.cfg', encoding: 'utf8', content: R1_V2, commit: heads[3] });
    // The password is in no answer and no run log.
    const runId = (await api('GET', `/git/repositories/${id}`)).json().last_sync_run_id;
    const logs = await api('GET', `/jobs/runs/${runId}/logs`);
    expect(`${logs.body} ${JSON.stringify((await api('GET', `/git/repositories/${id}`)).json())}`).not.toContain(HTTP_PASSWORD);
  });

  it('serves commits paginated and filtered by path, author and time', async () => {
    const id = await synced({ name: `commits-${dialect}`, url: `${httpOpen.url}/net.git` });
    const first = (await api('GET', `/git/repositories/${id}/commits?limit=3`)).json();
    expect(first.items.map((c: { sha: string }) => c.sha)).toEqual([heads[3], heads[2], heads[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await api('GET', `/git/repositories/${id}/commits?limit=3&cursor=${encodeURIComponent(first.next_cursor)}`)).json();
    expect(second).toEqual({
      items: [expect.objectContaining({ sha: heads[0], author_name: 'Alice Admin', message: 'initial import', committed_at: '2026-01-01T10:00:00.000Z' })],
      next_cursor: null,
    });
    const byPath = (await api('GET', `/git/repositories/${id}/commits?path=configs/r1.cfg`)).json();
    expect(byPath.items.map((c: { sha: string }) => c.sha)).toEqual([heads[1], heads[0]]);
    const byAuthor = (await api('GET', `/git/repositories/${id}/commits?author=Bob`)).json();
    expect(byAuthor.items.map((c: { sha: string }) => c.sha)).toEqual([heads[3], heads[1]]);
    const byTime = (await api('GET', `/git/repositories/${id}/commits?since=2026-01-02T00:00:00Z&until=2026-01-03T23:00:00Z`)).json();
    expect(byTime.items.map((c: { sha: string }) => c.sha)).toEqual([heads[2], heads[1]]);
    const onRef = (await api('GET', `/git/repositories/${id}/commits?ref=${heads[1]}`)).json();
    expect(onRef.items.map((c: { sha: string }) => c.sha)).toEqual([heads[1], heads[0]]);
  });

  it('lists files, reads content at any ref, and follows renames in history', async () => {
    const id = await synced({ name: `files-${dialect}`, url: `${daemon.url}/net.git`, path: 'configs' });
    const files = (await api('GET', `/git/repositories/${id}/files`)).json();
    expect(files.items).toEqual(
      expect.arrayContaining([
        { path: 'r1.cfg', type: 'file', size: R1_V2.length },
        { path: 'evil.cfg', type: 'symlink', size: expect.any(Number) },
      ]),
    );
    expect(files.items.map((f: { path: string }) => f.path)).not.toContain('README.md');
    const old = (await api('GET', `/git/repositories/${id}/files/r1.cfg?ref=main~3`)).json();
    expect(old).toMatchObject({ content: R1_V1, commit: heads[0] });
    const history = (await api('GET', `/git/repositories/${id}/history/sw2.cfg`)).json();
    expect(history.items.map((h: { sha: string; path: string; change: string }) => [h.sha, h.path, h.change])).toEqual([
      [heads[3], 'sw2.cfg', 'modified'],
      [heads[2], 'sw2.cfg', 'renamed'],
      [heads[0], 'r2.cfg', 'added'],
    ]);
  });

  it('diffs two refs as unified text and structured hunks, and as a patch download', async () => {
    const id = await synced({ name: `diff-${dialect}`, url: `${daemon.url}/net.git` });
    const res = await api('POST', `/git/repositories/${id}/diff`, { from: heads[0], to: 'main', path: 'configs/r1.cfg' });
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d).toMatchObject({ from: heads[0], to: heads[3] });
    expect(d.unified).toContain('- description uplink\n+ description uplink to core');
    expect(d.files).toHaveLength(1);
    expect(d.files[0]).toMatchObject({ old_path: 'configs/r1.cfg', new_path: 'configs/r1.cfg', status: 'modified', additions: 2, deletions: 1 });
    expect(d.files[0].hunks[0].lines).toEqual(
      expect.arrayContaining([
        { type: 'delete', old_line: 3, new_line: null, text: ' description uplink' },
        { type: 'add', old_line: null, new_line: 3, text: ' description uplink to core' },
        { type: 'add', old_line: null, new_line: 5, text: 'ntp server 192.0.2.1' },
      ]),
    );
    const all = (await api('POST', `/git/repositories/${id}/diff`, { from: heads[1], to: heads[2] })).json();
    expect(all.files).toEqual([expect.objectContaining({ status: 'renamed', old_path: 'configs/r2.cfg', new_path: 'configs/sw2.cfg', hunks: [] })]);
    const patch = await api('GET', `/git/repositories/${id}/patch?from=${heads[0]}&to=${heads[1]}`);
    expect(patch.statusCode).toBe(200);
    expect(patch.headers['content-type']).toMatch(/^text\/x-patch/);
    expect(patch.headers['content-disposition']).toMatch(/^attachment; filename="[0-9a-f]{12}-[0-9a-f]{12}\.patch"$/);
    expect(patch.body).toMatch(/^diff --git a\/configs\/r1\.cfg b\/configs\/r1\.cfg\n/);
    expect(patch.body).toContain('+ntp server 192.0.2.1');
  });

  it('compares two different files, each at its own ref', async () => {
    const id = await synced({ name: `compare-${dialect}`, url: `${daemon.url}/net.git` });
    const res = await api('POST', '/configs/compare', {
      a: { repository_id: id, path: 'configs/r1.cfg', ref: heads[0] },
      b: { repository_id: id, path: 'configs/r1.cfg' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ identical: false, a: { commit: heads[0] }, b: { commit: heads[3] }, file: { additions: 2, deletions: 1 } });
    expect(res.json().unified).toContain('+ntp server 192.0.2.1');
    const same = (
      await api('POST', '/configs/compare', { a: { repository_id: id, path: 'configs/r1.cfg' }, b: { repository_id: id, path: 'configs/r1.cfg' } })
    ).json();
    expect(same).toMatchObject({ identical: true, unified: '', file: { hunks: [] } });
  });

  it('refuses paths outside the repository, symlinks, and option-looking refs', async () => {
    const id = await synced({ name: `attack-${dialect}`, url: `${daemon.url}/net.git`, path: 'configs' });
    for (const [url, field] of [
      [`/git/repositories/${id}/files/..%2FREADME.md`, 'params.path'],
      [`/git/repositories/${id}/files/%2Fetc%2Fpasswd`, 'params.path'],
      [`/git/repositories/${id}/files/r1.cfg?ref=--output%3D%2Ftmp%2Fx`, 'query.ref'],
      [`/git/repositories/${id}/files?path=../..`, 'query.path'],
      [`/git/repositories/${id}/commits?ref=main..HEAD`, 'query.ref'],
      [`/git/repositories/${id}/history/..%2F..%2Fetc%2Fpasswd`, 'params.path'],
    ] as const) {
      const res = await api('GET', url);
      expect(res.statusCode, `${url} ${res.body}`).toBe(422);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    const link = await api('GET', `/git/repositories/${id}/files/evil.cfg`);
    expect(link.statusCode).toBe(422);
    expect(link.json().code).toBe('GIT_SYMLINK_REFUSED');
    expect(link.body).not.toContain('root:');
    expect((await api('GET', `/git/repositories/${id}/files/nope.cfg`)).statusCode).toBe(404);
    expect((await api('GET', `/git/repositories/${id}/files/r1.cfg?ref=no-such-branch`)).statusCode).toBe(404);
  });

  it.each([
    ['ext::sh -c touch% /tmp/pwned', /transport helpers|whitespace/],
    ['--upload-pack=touch /tmp/pwned', /must not start with "-"/],
    ['file:///etc', /scheme file is not enabled/],
    ['https://bob:pw-in-url@127.0.0.1/x.git', /must not carry a password/],
  ])('refuses the URL %s with a 422 naming body.url', async (url, message) => {
    const res = await api('POST', '/git/repositories', { name: `bad-${Math.random().toString(36).slice(2, 8)}`, category: 'configs', url });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors).toEqual([{ path: 'body.url', message: expect.stringMatching(message) }]);
    expect(res.body).not.toContain('pw-in-url');
  });

  it('records a failed sync with a clear error, and answers 409 on a taken name and 404 on an unknown id', async () => {
    const created = await api('POST', '/git/repositories', { name: `missing-${dialect}`, category: 'configs', url: `${daemon.url}/nope.git` });
    const id = created.json().id;
    const run = await waitRun((await api('POST', `/git/repositories/${id}/sync`)).json().run_id);
    expect(run.status).toBe('failed');
    const repo = (await api('GET', `/git/repositories/${id}`)).json();
    expect(repo.last_sync_status).toBe('failed');
    expect(repo.last_sync_error).toMatch(/fetch failed/);
    const dup = await api('POST', '/git/repositories', { name: `missing-${dialect}`, category: 'configs', url: `${daemon.url}/nope.git` });
    expect(dup.statusCode).toBe(409);
    expect((await api('GET', '/git/repositories/0190f2d0-0000-7000-8000-000000000000')).statusCode).toBe(404);
    const patched = await api('PATCH', `/git/repositories/${id}`, { description: 'gone', active: false });
    expect(patched.json()).toMatchObject({ description: 'gone', active: false });
    expect((await api('POST', `/git/repositories/${id}/sync`)).statusCode).toBe(409);
    expect((await api('DELETE', `/git/repositories/${id}`)).statusCode).toBe(204);
    expect((await api('GET', `/git/repositories/${id}`)).statusCode).toBe(404);
  });

  it('lets a viewer read but not register or sync', async () => {
    const viewer = bearer((await loginAs(server(), 'viewer')).token);
    expect((await api('GET', '/git/repositories', undefined, viewer)).statusCode).toBe(200);
    expect((await api('POST', '/git/repositories', { name: 'v', category: 'configs', url: `${daemon.url}/net.git` }, viewer)).statusCode).toBe(403);
  });

  it('syncs on a push webhook signed the GitHub, Gitea or GitLab way, and refuses anything else', async () => {
    const secret = `whsec-${dialect}-7f3a9c2e11`;
    const cred = await api('POST', '/credentials', { name: `git-webhook-${dialect}`, type: 'api_token', token: secret });
    expect(cred.statusCode, cred.body).toBe(201);
    const created = await api('POST', '/git/repositories', {
      name: `hooked-${dialect}`,
      category: 'configs',
      url: `${daemon.url}/net.git`,
      webhook_credential_id: cred.json().id,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    const body = JSON.stringify({ ref: 'refs/heads/main', after: heads[3] });
    const hmac = createHmac('sha256', secret).update(body).digest('hex');
    const hook = (headers: Record<string, string>, payload = body) =>
      server().app.inject({
        method: 'POST',
        url: `/api/v1/git/repositories/${id}/webhook`,
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    for (const [headers, scheme] of [
      [{ 'x-hub-signature-256': `sha256=${hmac}`, 'x-github-event': 'push' }, 'github'],
      [{ 'x-gitea-signature': hmac }, 'gitea'],
      [{ 'x-gitlab-token': secret }, 'gitlab'],
    ] as const) {
      const res = await hook(headers);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ scheme, run_id: expect.any(String) });
      expect((await waitRun(res.json().run_id)).status).toBe('succeeded');
    }
    for (const headers of [{ 'x-hub-signature-256': `sha256=${hmac}` }, { 'x-gitlab-token': 'wrong' }, {}] as Record<string, string>[]) {
      const res = await hook(headers, `${body} `);
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json().code).toBe('GIT_WEBHOOK_REJECTED');
    }
    expect((await api('GET', `/git/repositories/${id}`)).json()).toMatchObject({ last_sync_status: 'ok', webhook_credential_id: cred.json().id });
  });
});
