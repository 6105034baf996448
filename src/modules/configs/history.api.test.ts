import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer } from '../../../test/helpers/auth.js';
import { createGitFixtureRoot, startGitDaemon, type GitFixtureRoot, type GitServerPeer } from '../../../test/peers/git-servers.js';

describe.each(DIALECTS)('configuration history index on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker', OPSDECK_GIT_SCHEMES: 'https,ssh,git' } });
  let auth: Record<string, string>;
  let root: GitFixtureRoot;
  let daemon: GitServerPeer;

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function sync(id: string) {
    const runId = (await api('POST', `/git/repositories/${id}/sync`)).json().run_id;
    await vi.waitFor(
      async () => {
        const run = (await api('GET', `/jobs/runs/${runId}`)).json();
        expect(run.status).toBe('succeeded');
      },
      { timeout: 30_000, interval: 100 },
    );
  }

  /** A fresh bare repository with three commits over two devices; answers the registered repository's id. */
  async function fixture(label: string) {
    const repoName = `${label}-${dialect}`;
    root.createBare(repoName);
    const dev = { a: `${label}-a-${dialect}`, b: `${label}-b-${dialect}` };
    const heads = [
      root.commit(
        repoName,
        { [`configs/${dev.a}.cfg`]: 'hostname a\nntp server 192.0.2.1\n', [`configs/${dev.b}.cfg`]: 'hostname b\n', 'README.md': 'not a device\n' },
        'first',
        { date: '2026-02-01T08:00:00Z', author: 'Oxi Backup' },
      ),
      root.commit(repoName, { [`configs/${dev.a}.cfg`]: 'hostname a\nntp server 192.0.2.2\n' }, 'a: ntp', {
        date: '2026-02-02T08:00:00Z',
        author: 'Net Engineer',
      }),
      root.commit(repoName, { [`configs/${dev.b}.cfg`]: 'hostname b\nlogging host 192.0.2.9\n' }, 'b: logging', {
        date: '2026-02-03T08:00:00Z',
        author: 'Net Engineer',
      }),
    ];
    const devices = {
      a: (await api('POST', '/devices', { name: dev.a })).json().id as string,
      b: (await api('POST', '/devices', { name: dev.b })).json().id as string,
    };
    const created = await api('POST', '/git/repositories', { name: repoName, category: 'configs', url: `${daemon.url}/${repoName}.git`, path: 'configs' });
    expect(created.statusCode, created.body).toBe(201);
    await sync(created.json().id);
    return { id: created.json().id as string, repoName, dev, devices, heads };
  }

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
    root = createGitFixtureRoot();
    daemon = await startGitDaemon(root.dir);
  });
  afterAll(async () => {
    await daemon?.close();
    root?.close();
  });

  it('lists a device’s versions newest first, serves one with its content, and diffs versions', async () => {
    const f = await fixture('hist');
    const list = (await api('GET', `/devices/${f.devices.a}/configs?limit=1`)).json();
    expect(list.items).toEqual([
      expect.objectContaining({
        device: f.dev.a,
        commit: f.heads[1],
        path: `configs/${f.dev.a}.cfg`,
        change: 'modified',
        author: 'Net Engineer',
        committed_at: '2026-02-02T08:00:00.000Z',
        size: 32,
      }),
    ]);
    const next = (await api('GET', `/devices/${f.devices.a}/configs?limit=1&cursor=${encodeURIComponent(list.next_cursor)}`)).json();
    expect(next.items.map((v: { commit: string; change: string }) => [v.commit, v.change])).toEqual([[f.heads[0], 'added']]);
    expect(next.next_cursor).toBeNull();
    const one = (await api('GET', `/devices/${f.devices.a}/configs/${next.items[0].id}`)).json();
    expect(one).toMatchObject({ content: 'hostname a\nntp server 192.0.2.1\n', message: 'first', commit: f.heads[0] });
    const diff = (await api('GET', `/devices/${f.devices.a}/configs/diff`)).json();
    expect(diff).toMatchObject({ from: { commit: f.heads[0] }, to: { commit: f.heads[1] }, file: { additions: 1, deletions: 1 } });
    expect(diff.unified).toContain('-ntp server 192.0.2.1\n+ntp server 192.0.2.2');
    const explicit = (await api('GET', `/devices/${f.devices.a}/configs/diff?from=${list.items[0].id}&to=${next.items[0].id}`)).json();
    expect(explicit.unified).toContain('-ntp server 192.0.2.2\n+ntp server 192.0.2.1');
    // Another device's version is not this device's.
    const other = (await api('GET', `/devices/${f.devices.b}/configs`)).json().items[0].id;
    expect((await api('GET', `/devices/${f.devices.a}/configs/${other}`)).statusCode).toBe(404);
    expect((await api('GET', `/devices/0190f2d0-0000-7000-8000-000000000000/configs`)).statusCode).toBe(404);
  });

  it('answers what changed across the fleet since a time, and indexes new commits incrementally', async () => {
    const f = await fixture('fleet');
    const mine = (items: { device: string; commit: string }[]) => items.filter((v) => v.device === f.dev.a || v.device === f.dev.b);
    const since = (await api('GET', '/configs/changes?since=2026-02-01T12:00:00Z&until=2026-02-28T00:00:00Z&limit=1000')).json();
    expect(mine(since.items).map((v: { device: string; commit: string }) => [v.device, v.commit])).toEqual([
      [f.dev.b, f.heads[2]],
      [f.dev.a, f.heads[1]],
    ]);
    const h4 = root.commit(f.repoName, { [`configs/${f.dev.a}.cfg`]: null }, 'a: decommissioned', { date: '2026-02-05T08:00:00Z' });
    await sync(f.id);
    const after = (await api('GET', `/devices/${f.devices.a}/configs`)).json();
    expect(after.items.map((v: { commit: string; change: string; size: number }) => [v.commit, v.change])).toEqual([
      [h4, 'deleted'],
      [f.heads[1], 'modified'],
      [f.heads[0], 'added'],
    ]);
  });

  it('rebuilds the index from the mirrors when it is lost', async () => {
    const f = await fixture('reindex');
    const before = (await api('GET', `/devices/${f.devices.b}/configs`)).json().items.map((v: { commit: string }) => v.commit);
    const db = server().modules.database.db as never as { deleteFrom(t: string): { execute(): Promise<unknown> } };
    await db.deleteFrom('config_versions').execute();
    expect((await api('GET', `/devices/${f.devices.b}/configs`)).json().items).toEqual([]);
    const r = await server().modules.configs.history.reindex();
    expect(r.versions).toBeGreaterThanOrEqual(4);
    expect((await api('GET', `/devices/${f.devices.b}/configs`)).json().items.map((v: { commit: string }) => v.commit)).toEqual(before);
  });

  it('searches the latest configuration of every device, literally or with an RE2 pattern', async () => {
    const f = await fixture('search');
    const mine = (r: { items: { device: string }[] }) => r.items.filter((i) => i.device === f.dev.a || i.device === f.dev.b);
    const literal = (await api('GET', '/configs/search?q=LOGGING%20host&limit=1000')).json();
    expect(mine(literal)).toEqual([
      expect.objectContaining({ device: f.dev.b, commit: f.heads[2], match_count: 1, matches: [{ line: 2, text: 'logging host 192.0.2.9' }] }),
    ]);
    // Only the latest version counts: 192.0.2.1 was a's ntp server before the second commit.
    expect(mine((await api('GET', '/configs/search?q=ntp%20server%20192.0.2.1&limit=1000')).json())).toEqual([]);
    const regex = (await api('GET', `/configs/search?regex=true&limit=1000&q=${encodeURIComponent('^ntp server 192\\.0\\.2\\.[0-9]$')}`)).json();
    expect(mine(regex).map((i) => i.device)).toEqual([f.dev.a]);
    for (const bad of ['(a', '(a)\\1']) {
      const res = await api('GET', `/configs/search?regex=true&q=${encodeURIComponent(bad)}`);
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().errors[0].path).toBe('query.q');
    }
  });
});
