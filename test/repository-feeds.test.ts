/**
 * Git repositories feeding other modules (issues 17, 18): a `textfsm` repository laid out like
 * ntc-templates becomes a parser library; a `templates` repository becomes versioned templates.
 * Real git daemon on loopback; the ntc-templates corpus is committed into a temporary repository.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { DIALECTS } from './helpers/db.js';
import { createTestServer, useTestServer, type TestServer } from './helpers/server.js';
import { adminToken, bearer } from './helpers/auth.js';
import { createGitFixtureRoot, startGitDaemon, type GitFixtureRoot, type GitServerPeer } from './peers/git-servers.js';

const NTC = fileURLToPath(new URL('../../shared/data/ntc-templates', import.meta.url));
const VERSION_RAW = readFileSync(`${NTC}/tests/cisco_ios/show_version/cisco_ios_show_version.raw`, 'utf8');
const VERSION_EXPECTED = (YAML.parse(readFileSync(`${NTC}/tests/cisco_ios/show_version/cisco_ios_show_version.yml`, 'utf8')) as { parsed_sample: unknown[] })
  .parsed_sample;
const WIDGETS = 'Value NAME (\\S+)\nValue COUNT (\\d+)\n\nStart\n  ^widget ${NAME} count ${COUNT} -> Record\n';
const BROKEN = 'Value NAME (\\S+)\n\nStart\n  ^${NAME} -> Nowhere\n';
const ENV = { OPSDECK_ROLES: 'api,worker', OPSDECK_GIT_SCHEMES: 'git', OPSDECK_TEXTFSM_LIBRARY_DIRS: '' };

/** Commits the corpus's templates directory, plus a repository-only template and a broken one in the index, in one commit. */
function commitNtc(root: GitFixtureRoot): string {
  const bare = root.createBare('ntc');
  const work = mkdtempSync(path.join(root.dir, 'work-'));
  root.git(['clone', '-q', bare, work]);
  cpSync(`${NTC}/templates`, `${work}/templates`, { recursive: true });
  writeFileSync(`${work}/templates/acme_os_show_widgets.textfsm`, WIDGETS);
  writeFileSync(`${work}/templates/acme_os_show_thing.textfsm`, BROKEN);
  appendFileSync(
    `${work}/templates/index`,
    'acme_os_show_widgets.textfsm, .*, acme_os, sh[[ow]] wid[[gets]]\nacme_os_show_thing.textfsm, .*, acme_os, sh[[ow]] thi[[ng]]\n',
  );
  root.git(['add', '-A'], work);
  root.git(['commit', '-q', '-m', 'ntc-templates plus acme'], work);
  root.git(['push', '-q', 'origin', 'HEAD:main'], work);
  return root.git(['rev-parse', 'HEAD'], work).trim();
}

describe.each(DIALECTS)('repositories feeding parsers and templates on %s', (dialect) => {
  const server = useTestServer(dialect, { env: ENV });
  let auth: Record<string, string>;
  let root: GitFixtureRoot;
  let daemon: GitServerPeer;
  let ntcHead = '';

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, s: TestServer = server()) =>
    s.app.inject({ method, url: `/api/v1${url}`, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });

  /** Syncs and waits for the run; answers the run and its log lines. */
  async function sync(id: string): Promise<{ run: { status: string }; log: string[] }> {
    const started = await api('POST', `/git/repositories/${id}/sync`);
    expect(started.statusCode, started.body).toBe(202);
    const runId = started.json().run_id as string;
    let run: { status: string } = { status: 'queued' };
    await vi.waitFor(
      async () => {
        run = (await api('GET', `/jobs/runs/${runId}`)).json();
        expect(['queued', 'running']).not.toContain(run.status);
      },
      { timeout: 60_000, interval: 100 },
    );
    const log = ((await api('GET', `/jobs/runs/${runId}/logs`)).json().items as { message: string }[]).map((l) => l.message);
    return { run, log };
  }

  async function register(body: Record<string, unknown>): Promise<string> {
    const created = await api('POST', '/git/repositories', body);
    expect(created.statusCode, created.body).toBe(201);
    return created.json().id as string;
  }

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
    root = createGitFixtureRoot();
    ntcHead = commitNtc(root);
    root.createBare('tpl');
    root.commit(
      'tpl',
      {
        'templates/base.j2': 'hostname {{ device.name }}\n',
        'templates/ntp.txt': 'ntp server 192.0.2.1\n',
        'templates/bad.j2': '{% if x %}unterminated\n',
        'templates/taken.j2': 'from git\n',
        'README.md': '# templates\n',
      },
      'templates',
    );
    daemon = await startGitDaemon(root.dir);
  }, 120_000);
  afterAll(async () => {
    await daemon?.close();
    root?.close();
  });

  it('a textfsm repository becomes a parser library: ntc-templates and its own templates parse, a broken template is skipped and reported, other nodes and restarts load it from the database, deactivation removes it', async () => {
    const parseVersion = (s: TestServer = server()) => api('POST', '/parsers/parse', { platform: 'cisco_ios', command: 'sh ver', output: VERSION_RAW }, s);
    expect((await parseVersion()).statusCode).toBe(404);

    const id = await register({ name: `ntc-${dialect}`, category: 'textfsm', url: `${daemon.url}/ntc.git` });
    const { run, log } = await sync(id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(log).toContainEqual(
      expect.stringMatching(new RegExp(`^TextFSM library 'ntc-${dialect}' at ${ntcHead.slice(0, 12)}: \\d+ templates loaded, 1 skipped$`)),
    );
    expect(log).toContainEqual(expect.stringMatching(/^template 'acme_os_show_thing.textfsm' line 4: .*Nowhere/));

    const parsed = await parseVersion();
    expect(parsed.statusCode, parsed.body).toBe(200);
    expect(parsed.json()).toEqual({
      template: 'cisco_ios_show_version.textfsm',
      parser: 'textfsm:cisco_ios_show_version.textfsm',
      records: VERSION_EXPECTED,
      library: { id, name: `ntc-${dialect}`, commit: ntcHead },
    });
    const widgets = await api('POST', '/parsers/parse', { platform: 'acme_os', command: 'show widgets', output: 'widget w1 count 3\nwidget w2 count 5\n' });
    expect(widgets.json()).toMatchObject({
      template: 'acme_os_show_widgets.textfsm',
      records: [
        { name: 'w1', count: '3' },
        { name: 'w2', count: '5' },
      ],
    });
    const broken = await api('POST', '/parsers/parse', { platform: 'acme_os', command: 'show thing', output: 'x\n' });
    expect(broken.json()).toMatchObject({ status: 404, code: 'PARSER_TEMPLATE_NOT_FOUND' });

    const libraries = (await api('GET', '/parsers/libraries')).json();
    expect(libraries.items).toEqual([
      expect.objectContaining({
        kind: 'repository',
        name: `ntc-${dialect}`,
        repository_id: id,
        commit: ntcHead,
        path: '',
        skipped: [expect.objectContaining({ template: 'acme_os_show_thing.textfsm', line: 4 })],
      }),
    ]);
    expect(libraries.items[0].templates).toBeGreaterThan(900);
    const listed = (await api('GET', '/parsers/templates?platform=acme_os')).json().items;
    expect(listed).toEqual([
      { name: 'acme_os_show_widgets.textfsm', source: 'library', platform: 'acme_os', command: 'sh[[ow]] wid[[gets]]', dir: null, library: `ntc-${dialect}` },
    ]);

    // A second node over the same database (or this one restarted) loads the library from the database, with no mirror on disk.
    await server().modules.configs.store.remove(id);
    const other = await createTestServer(dialect, { db: server().db, env: ENV });
    try {
      const again = await parseVersion(other);
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json().records).toEqual(VERSION_EXPECTED);
    } finally {
      await other.close();
    }

    // A sync at the same commit (the mirror fetched again) keeps the library as it is.
    expect((await sync(id)).log).toContainEqual(expect.stringMatching(/templates loaded, 1 skipped$/));
    const off = await api('PATCH', `/git/repositories/${id}`, { active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect((await parseVersion()).statusCode).toBe(404);
    expect((await api('GET', '/parsers/libraries')).json().items).toEqual([]);
  }, 180_000);

  it('a templates repository creates versioned git templates, records changes as versions, deactivates removed files, keeps the last good version of a broken file, and refuses API edits of what Git owns', async () => {
    const name = `tpl-${dialect}`;
    const mine = await api('POST', '/templates', { name: `${name}/taken.j2`, content: 'from the editor\n' });
    expect(mine.statusCode, mine.body).toBe(201);
    const id = await register({ name, category: 'templates', url: `${daemon.url}/tpl.git`, path: 'templates' });
    const first = await sync(id);
    expect(first.run.status).toBe('succeeded');
    expect(first.log).toContainEqual(
      expect.stringMatching(new RegExp(`^Templates from '${name}' at [0-9a-f]{12}: 2 created, 0 updated, 0 deactivated, 2 skipped$`)),
    );
    expect(first.log).toContainEqual(expect.stringMatching(/^bad\.j2: syntax error, line \d+.*keeps its last good version$/));
    expect(first.log).toContainEqual(`taken.j2: an active template named '${name}/taken.j2' exists (webeditor); skipped`);

    const byName = async (n: string) =>
      ((await api('GET', `/templates?q=${encodeURIComponent(n)}`)).json().items as Record<string, unknown>[]).find((t) => t.name === n);
    const base = (await byName(`${name}/base.j2`))!;
    expect(base).toMatchObject({
      source: 'git',
      source_path: 'base.j2',
      source_repository_id: id,
      type: 'jinja2',
      version: 1,
      active: true,
      content: 'hostname {{ device.name }}\n',
    });
    expect(await byName(`${name}/ntp.txt`)).toMatchObject({ type: 'text', active: true });
    expect(await byName(`${name}/bad.j2`)).toBeUndefined();
    expect(await byName(`${name}/README.md`)).toBeUndefined();

    const head2 = root.commit(
      'tpl',
      {
        'templates/base.j2': 'hostname {{ device.name }}\nip domain-name lab\n',
        'templates/ntp.txt': null,
        'templates/bad.j2': '{% if x %}fixed{% endif %}\n',
      },
      'base: domain; drop ntp; fix bad',
    );
    const second = await sync(id);
    expect(second.log).toContainEqual(expect.stringMatching(/: 1 created, 1 updated, 1 deactivated, 1 skipped$/));
    expect(await byName(`${name}/base.j2`)).toMatchObject({ version: 2, source_commit: head2, content: 'hostname {{ device.name }}\nip domain-name lab\n' });
    const versions = (await api('GET', `/templates/${base.id}/versions`)).json().items;
    expect(versions[0]).toMatchObject({ version: 2, author: { name: 'git sync' }, notes: `Synced from repository '${name}' at ${head2.slice(0, 12)}` });
    expect((await api('GET', `/templates?active=false&q=${encodeURIComponent(`${name}/ntp`)}`)).json().items).toEqual([
      expect.objectContaining({ name: `${name}/ntp.txt`, active: false }),
    ]);
    expect(await byName(`${name}/bad.j2`)).toMatchObject({ version: 1, active: true });

    root.commit('tpl', { 'templates/base.j2': '{% for %}\n' }, 'break base');
    const third = await sync(id);
    expect(third.run.status).toBe('succeeded');
    expect(third.log).toContainEqual(expect.stringMatching(/^base\.j2: syntax error, /));
    expect(await byName(`${name}/base.j2`)).toMatchObject({ version: 2, source_commit: head2, active: true });

    const edit = await api('PATCH', `/templates/${base.id}`, { content: 'changed here\n', name: 'other' });
    expect(edit.statusCode).toBe(409);
    expect(edit.json()).toMatchObject({ code: 'TEMPLATE_MANAGED_BY_GIT' });
    expect(
      edit
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['body.content', 'body.name']);
    expect(edit.json().errors[0].message).toMatch(/managed by Git/);
    expect((await api('DELETE', `/templates/${base.id}`)).statusCode).toBe(409);
    const described = await api('PATCH', `/templates/${base.id}`, { description: 'interfaces and hostname' });
    expect(described.statusCode, described.body).toBe(200);
    expect(described.json()).toMatchObject({ description: 'interfaces and hostname', version: 2 });

    expect((await api('DELETE', `/git/repositories/${id}`)).statusCode).toBe(204);
    expect(await byName(`${name}/base.j2`)).toMatchObject({ active: false });
    expect(await byName(`${name}/taken.j2`)).toMatchObject({ source: 'webeditor', active: true });
  }, 180_000);
});
