import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import { useGitDaemon } from '../../../test/helpers/git-daemon.js';

type Summary = { device_id: string; device: string; status: string; rules: number; compliant: number; noncompliant: number; errors: number };
type Result = { rule: string; status: string; missing: string[]; extra: string[]; commit: string };
type Event = { name: string; payload: { device: string; rule: string; missing: string[]; extra: string[]; commit: string } };

describe.each(DIALECTS)('configuration compliance on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker', OPSDECK_GIT_SCHEMES: 'https,ssh,git' } });
  const git = useGitDaemon();
  let auth: Record<string, string>;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const create = async (url: string, body: unknown) => {
    const res = await api('POST', url, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };

  /** Syncs and waits for the run, then for the compliance evaluation the new versions started. */
  async function sync(id: string) {
    const runId = (await api('POST', `/git/repositories/${id}/sync`)).json().run_id;
    await vi.waitFor(
      async () => {
        expect((await api('GET', `/jobs/runs/${runId}`)).json().status).toBe('succeeded');
      },
      { timeout: 30_000, interval: 100 },
    );
    await server().modules.configs.compliance.idle();
  }

  const events = async (devices: string[]) =>
    ((await api('GET', '/events/history?events=config.noncompliant&limit=1000')).json().items as Event[]).filter((e) => devices.includes(e.payload.device));

  beforeAll(async () => {
    auth = bearer(await adminToken(server()));
  });

  it('creates, reads, changes and deletes rules, refusing bad patterns and unknown scope ids with 422 naming the field', async () => {
    for (const [body, field] of [
      [{ name: 'bad-pattern', kind: 'must_not_match', pattern: '(a' }, 'body.pattern'],
      [{ name: 'backref', kind: 'must_not_match', pattern: '(a)\\1' }, 'body.pattern'],
      [{ name: 'no-pattern', kind: 'must_not_match' }, 'body.pattern'],
      [{ name: 'no-lines', kind: 'must_contain', lines: [] }, 'body.lines'],
      [{ name: 'bad-parent', kind: 'must_contain', lines: ['x'], parent: 'interface (' }, 'body.parent'],
      [{ name: 'bad-scope', kind: 'must_contain', lines: ['x'], scope: { platform_ids: ['0190f2d0-0000-7000-8000-000000000000'] } }, 'body.scope.platform_ids'],
    ] as const) {
      const res = await api('POST', '/configs/compliance/rules', body);
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    const id = await create('/configs/compliance/rules', {
      name: `crud-${dialect}`,
      kind: 'must_contain',
      lines: ['service password-encryption'],
      description: 'passwords encrypted',
    });
    expect((await api('GET', `/configs/compliance/rules/${id}`)).json()).toMatchObject({
      id,
      kind: 'must_contain',
      severity: 'warning',
      active: true,
      ordered: false,
      parent: null,
      pattern: null,
      scope: { platform_ids: [], role_ids: [], location_ids: [] },
    });
    const patched = await api('PATCH', `/configs/compliance/rules/${id}`, { severity: 'critical', kind: 'must_not_match', pattern: '^enable password ' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ severity: 'critical', kind: 'must_not_match', pattern: '^enable password ' });
    expect((await api('PATCH', `/configs/compliance/rules/${id}`, { pattern: '[' })).json().errors[0].path).toBe('body.pattern');
    expect((await api('POST', '/configs/compliance/rules', { name: `crud-${dialect}`, kind: 'must_contain', lines: ['x'] })).statusCode).toBe(409);
    expect((await api('GET', '/configs/compliance/rules?limit=1000')).json().items.map((r: { id: string }) => r.id)).toContain(id);
    const viewer = bearer((await loginAs(server(), 'viewer')).token);
    expect((await api('GET', `/configs/compliance/rules/${id}`, undefined, viewer)).statusCode).toBe(200);
    expect((await api('POST', '/configs/compliance/rules', { name: 'v', kind: 'must_contain', lines: ['x'] }, viewer)).statusCode).toBe(403);
    expect((await api('POST', '/configs/compliance/evaluate', {}, viewer)).statusCode).toBe(403);
    expect((await api('DELETE', `/configs/compliance/rules/${id}`)).statusCode).toBe(204);
    expect((await api('GET', `/configs/compliance/rules/${id}`)).statusCode).toBe(404);
  });

  it('evaluates new versions by platform, role and location scope, with missing and extra lines, and emits config.noncompliant once per transition', async () => {
    const ios = await create('/platforms', { name: `ios-${dialect}`, network_driver: 'cisco_ios' });
    const junos = await create('/platforms', { name: `junos-${dialect}`, network_driver: 'juniper_junos' });
    const core = await create('/device-roles', { name: `core-${dialect}` });
    const emea = await create('/locations', { name: `EMEA-${dialect}`, location_type: 'region' });
    const paris = await create('/locations', { name: `Paris-${dialect}`, parent: emea });
    const berlin = await create('/locations', { name: `Berlin-${dialect}` });
    const name = { a: `cmp-a-${dialect}`, b: `cmp-b-${dialect}`, c: `cmp-c-${dialect}` };
    const dev = {
      a: await create('/devices', { name: name.a, platform: ios, role: core, location: paris }),
      b: await create('/devices', { name: name.b, platform: junos }),
      c: await create('/devices', { name: name.c, platform: ios, location: berlin }),
    };
    const rules = {
      ntp: await create('/configs/compliance/rules', { name: `ntp-${dialect}`, kind: 'must_contain', lines: ['ntp server 192.0.2.1'] }),
      vty: await create('/configs/compliance/rules', {
        name: `vty-ssh-${dialect}`,
        kind: 'must_contain',
        parent: 'line vty .*',
        lines: ['transport input ssh'],
        scope: { platform_ids: [ios] },
        severity: 'critical',
      }),
      telnet: await create('/configs/compliance/rules', {
        name: `no-telnet-${dialect}`,
        kind: 'must_not_match',
        pattern: 'telnet',
        scope: { location_ids: [emea] },
      }),
      logging: await create('/configs/compliance/rules', {
        name: `logging-${dialect}`,
        kind: 'must_contain',
        lines: ['logging host 192.0.2.9'],
        scope: { role_ids: [core] },
      }),
    };
    const { root, daemon } = git();
    const repo = `compliance-${dialect}`;
    root.createBare(repo);
    root.commit(
      repo,
      {
        [`configs/${name.a}.cfg`]: 'hostname a\nntp server 192.0.2.1\nip telnet source-interface Loopback0\nline vty 0 4\n transport input ssh\n',
        [`configs/${name.b}.cfg`]: 'hostname b\n',
        [`configs/${name.c}.cfg`]: 'hostname c\nntp server 192.0.2.1\nline vty 0 4\n login local\n',
      },
      'first',
    );
    const repoId = await create('/git/repositories', { name: repo, category: 'configs', url: `${daemon.url}/${repo}.git`, path: 'configs' });
    await sync(repoId);

    const mine = async (query = '') =>
      ((await api('GET', `/configs/compliance?limit=1000${query}`)).json().items as Summary[]).filter((s) => Object.values(name).includes(s.device));
    expect(await mine()).toEqual([
      expect.objectContaining({ device_id: dev.a, device: name.a, status: 'noncompliant', rules: 4, compliant: 2, noncompliant: 2, errors: 0 }),
      expect.objectContaining({ device_id: dev.b, device: name.b, status: 'noncompliant', rules: 1, compliant: 0, noncompliant: 1 }),
      expect.objectContaining({ device_id: dev.c, device: name.c, status: 'noncompliant', rules: 2, compliant: 1, noncompliant: 1 }),
    ]);
    expect((await mine(`&rule=${rules.ntp}&status=noncompliant`)).map((s) => s.device)).toEqual([name.b]);
    expect((await mine(`&rule=${rules.ntp}&status=compliant`)).map((s) => s.device)).toEqual([name.a, name.c]);
    expect((await mine(`&device=${dev.c}`)).map((s) => s.device)).toEqual([name.c]);
    const page = (await api('GET', `/configs/compliance?limit=1&rule=${rules.vty}`)).json();
    expect(page.items).toHaveLength(1);
    expect((await api('GET', `/configs/compliance?limit=1&rule=${rules.vty}&cursor=${encodeURIComponent(page.next_cursor)}`)).json().items[0].device).not.toBe(
      page.items[0].device,
    );

    const detail = (await api('GET', `/devices/${dev.a}/compliance`)).json();
    expect(detail.status).toBe('noncompliant');
    const byRule = Object.fromEntries((detail.results as Result[]).map((r) => [r.rule, r]));
    expect(byRule[`no-telnet-${dialect}`]).toMatchObject({ status: 'noncompliant', missing: [], extra: ['ip telnet source-interface Loopback0'] });
    expect(byRule[`logging-${dialect}`]).toMatchObject({ status: 'noncompliant', missing: ['logging host 192.0.2.9'], extra: [] });
    expect(byRule[`vty-ssh-${dialect}`]).toMatchObject({ status: 'compliant', missing: [], extra: [] });
    const c = (await api('GET', `/devices/${dev.c}/compliance`)).json().results as Result[];
    expect(c.find((r) => r.rule === `vty-ssh-${dialect}`)).toMatchObject({ status: 'noncompliant', missing: ['line vty 0 4', ' transport input ssh'] });

    const first = await events(Object.values(name));
    expect(first.map((e) => `${e.payload.device}/${e.payload.rule}`).sort()).toEqual([
      `${name.a}/logging-${dialect}`,
      `${name.a}/no-telnet-${dialect}`,
      `${name.b}/ntp-${dialect}`,
      `${name.c}/vty-ssh-${dialect}`,
    ]);
    expect(first.find((e) => e.payload.device === name.c)!.payload.missing).toEqual(['line vty 0 4', ' transport input ssh']);

    // c is fixed; a stays noncompliant for telnet and logging (no new events) and loses ntp and its vty block (two); then c breaks again: one more.
    root.commit(
      repo,
      {
        [`configs/${name.c}.cfg`]: 'hostname c\nntp server 192.0.2.1\nline vty 0 4\n transport input ssh\n',
        [`configs/${name.a}.cfg`]: 'hostname a2\nip telnet source-interface Loopback0\n',
      },
      'c: ssh; a: changed',
    );
    await sync(repoId);
    expect((await mine(`&device=${dev.c}`))[0]).toMatchObject({ status: 'compliant', noncompliant: 0 });
    const second = await events(Object.values(name));
    expect(second.map((e) => `${e.payload.device}/${e.payload.rule}`).sort()).toEqual(
      [...first.map((e) => `${e.payload.device}/${e.payload.rule}`), `${name.a}/ntp-${dialect}`, `${name.a}/vty-ssh-${dialect}`].sort(),
    );
    root.commit(repo, { [`configs/${name.c}.cfg`]: 'hostname c\nntp server 192.0.2.1\n' }, 'c: vty gone');
    await sync(repoId);
    expect((await events([name.c])).filter((e) => e.payload.rule === `vty-ssh-${dialect}`)).toHaveLength(2);

    // On demand: nothing changed, so nothing newly noncompliant.
    const again = await api('POST', '/configs/compliance/evaluate', { device_ids: [dev.a, dev.b, dev.c] });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ devices: 3, newly_noncompliant: 0 });
    const all = await api('POST', '/configs/compliance/evaluate', {});
    expect(all.json().devices).toBeGreaterThanOrEqual(3);
    expect(all.json().newly_noncompliant).toBe(0);
    const unknown = await api('POST', '/configs/compliance/evaluate', { device_ids: ['0190f2d0-0000-7000-8000-000000000000'] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors[0].path).toBe('body.device_ids');
    expect((await api('GET', '/devices/0190f2d0-0000-7000-8000-000000000000/compliance')).statusCode).toBe(404);
  });
});
