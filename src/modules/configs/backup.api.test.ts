import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';
import type { TestServer } from '../../../test/helpers/server.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer } from '../../../test/jobs/helpers.js';
import { createGitFixtureRoot, startGitDaemon, startGitHttp, type GitFixtureRoot, type GitServerPeer } from '../../../test/peers/git-servers.js';
import { NOISY_SECRETS, startIosEmulator, type IosEmulator } from '../../../test/peers/ios-emulator.js';
import { freeTcpPort } from '../../../test/peers/ports.js';
import { startSshd, type SshdPeer } from '../../../test/peers/sshd.js';

const ADDRESSES = ['127.0.23.1', '127.0.23.2', '127.0.23.3', '127.0.23.4', '127.0.23.5'];
const HTTP_USER = 'backup-bot';
const HTTP_PASSWORD = 'Git-Push-Secret-5521';
const NEW_SECRET = '$1$N3w$SecretHashOfBob';

// SSH sessions, git pushes and job runs on a shared 2-core machine: a backup takes seconds.
vi.setConfig({ testTimeout: 90_000 });

let ios: IosEmulator;
let root: GitFixtureRoot;
let http: GitServerPeer;
let daemon: GitServerPeer;
let sshd: SshdPeer;

beforeAll(async () => {
  ios = await startIosEmulator({ addresses: ADDRESSES, port: await freeTcpPort(ADDRESSES[0]!), noise: true, promptPrefix: { [ADDRESSES[4]!]: 'netops@' } });
  root = createGitFixtureRoot();
  http = await startGitHttp(root.dir, { auth: { username: HTTP_USER, password: HTTP_PASSWORD } });
  daemon = await startGitDaemon(root.dir, { push: true });
  sshd = await startSshd();
});
afterAll(async () => {
  await Promise.all([ios?.stop(), http?.close(), daemon?.close(), sshd?.stop()]);
  root?.close();
});

describe.each(JOB_MODES)('config_backup on $name', (mode) => {
  let server: TestServer;
  let token: string;
  let api: ReturnType<typeof jobsClient>;
  const tag = mode.cluster ? 'pg' : 'lite';
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, auth = token) =>
    server.app.inject({ method, url: `/api/v1${url}`, headers: bearer(auth), ...(payload ? { payload } : {}) });
  const create = async (url: string, payload: object): Promise<Record<string, any>> => {
    const res = await call('POST', url, payload);
    if (res.statusCode !== 201) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  /** A bare remote served over authenticated HTTP and its configs repository (tests run in random order: each has its own). */
  const newRepository = async (name: string) => {
    const remote = `${name}-${tag}`;
    root.createBare(remote);
    const id = (
      await create('/git/repositories', { name: remote, category: 'configs', url: `${http.url}/${remote}.git`, credential_id: ids.git, path: 'devices' })
    ).id as string;
    const git = (...args: string[]) => root.git(['--git-dir', `${root.dir}/${remote}.git`, ...args]).trim();
    return { id, remote, git, commits: () => Number(git('rev-list', '--count', 'main')) };
  };
  const backup = async (repositoryId: string, targets: object[], params: Record<string, unknown> = {}, auth = token) => {
    const client = auth === token ? api : jobsClient(server, auth);
    const run = await client.start({ type: 'config_backup', targets, params: { repository_id: repositoryId, port: ios.port, ...params } });
    const done = await api.finished(run.id, 30_000);
    return { run: done, out: await api.output(run.id), logs: await api.logs(run.id) };
  };

  beforeAll(async () => {
    server = await startJobsServer(mode, { env: { OPSDECK_GIT_SCHEMES: 'https,ssh,http,git', OPSDECK_SCHEDULER_POLL_MS: '200' } });
    token = await adminToken(server);
    api = jobsClient(server, token);
    ids.ssh = await createCredential(server, token, { type: 'ssh', username: ios.username, password: ios.password, enable_secret: ios.enableSecret });
    ids.git = await createCredential(server, token, { type: 'basic', username: HTTP_USER, password: HTTP_PASSWORD });
    await create('/platforms', { name: 'IOS', network_driver: 'cisco_ios' });
    await create('/platforms', { name: 'Mystery', network_driver: 'vendor_x' });
    for (const [i, name] of ['bk1', 'bk2', 'bk3'].entries()) {
      ids[name] = (await create('/devices', { name, platform: 'IOS', primary_ip4: ADDRESSES[i], credential_id: ids.ssh })).id;
    }
    ids.jx1 = (await create('/devices', { name: 'jx1', platform: 'IOS', primary_ip4: ADDRESSES[4], credential_id: ids.ssh })).id;
    ids.odd = (await create('/devices', { name: 'odd1', platform: 'Mystery', primary_ip4: ADDRESSES[3], credential_id: ids.ssh })).id;
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('commits one change per device, masked and without noise, and nothing when only noise changed', async () => {
    const { id: repo, git, commits } = await newRepository('fleet');
    const first = await backup(repo, [{ device: 'bk1' }, { device: 'bk2' }, { device: 'bk3' }]);
    expect(first.run.status, JSON.stringify(first.out.targets.map((t) => t.error))).toBe('succeeded');
    expect(first.run.changes_devices).toBe(false);
    for (const t of first.out.targets) expect(t.output).toMatch(/^changed \(\+\d+ −0 lines\), commit [0-9a-f]{12}$/);
    expect(commits()).toBe(3);
    const messages = git('log', '--format=%an|%s', 'main').split('\n').sort();
    expect(messages).toEqual(['bk1', 'bk2', 'bk3'].map((d) => `Opsdeck|backup ${d} (run ${first.run.id}, by admin)`));
    const stored = git('show', 'main:devices/bk1.cfg');
    expect(stored).toContain('hostname R23-1');
    expect(stored).toContain('snmp-server community <removed> RO');
    expect(stored).toContain('username admin privilege 15 secret 5 <removed>');
    expect(stored).not.toMatch(/ntp clock-period|Last configuration change|Building configuration|Current configuration/);
    expect(stored).not.toContain(NOISY_SECRETS.community);
    expect(stored).not.toContain(NOISY_SECRETS.userHash);

    // The emulator's timestamp and NTP clock period changed; nothing else did.
    const second = await backup(repo, [{ device: 'bk1' }, { device: 'bk2' }, { device: 'bk3' }]);
    expect(second.run.status).toBe('succeeded');
    expect(second.out.targets.map((t) => t.output)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(commits()).toBe(3);

    // The history index has the backup at once: the device's versions list it.
    const versions = await call('GET', `/devices/${ids.bk1}/configs`);
    expect(versions.statusCode, versions.body).toBe(200);
    expect(versions.json().items).toContainEqual(
      expect.objectContaining({
        device: 'bk1',
        repository_id: repo,
        path: 'devices/bk1.cfg',
        change: 'added',
        author: 'Opsdeck',
        commit: git('log', '-1', '--format=%H', 'main', '--', 'devices/bk1.cfg'),
      }),
    );
  });

  it('commits a real change on top of a remote that moved, and records config.changed with masked secrets', async () => {
    const { id: repo, remote, git } = await newRepository('moved');
    expect((await backup(repo, [{ device: 'bk1' }, { device: 'bk2' }])).run.status).toBe('succeeded');
    const moved = root.commit(remote, { 'README.md': '# backups\n' }, 'someone else pushed');
    ios.config.get(ADDRESSES[0]!)!.push('ntp server 192.0.2.55', `username bob secret 5 ${NEW_SECRET}`);
    const { run, out, logs } = await backup(repo, [{ device: 'bk1' }, { device: 'bk2' }]);
    expect(run.status, JSON.stringify(out.targets.map((t) => t.error))).toBe('succeeded');
    expect(out.targets.map((t) => t.output)).toEqual([expect.stringMatching(/^changed \(\+2 −0 lines\)/), 'unchanged']);
    const head = git('rev-parse', 'main');
    expect(git('rev-parse', 'main^')).toBe(moved);
    expect(git('show', 'main:README.md')).toBe('# backups');
    const blob = git('show', 'main:devices/bk1.cfg');
    expect(blob).toContain('username bob secret 5 <removed>');

    const events = await call('GET', '/events/history?events=config.changed&limit=1000');
    expect(events.statusCode, events.body).toBe(200);
    const mine = (events.json().items as { payload: Record<string, any> }[]).filter((e) => e.payload.commit === head);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.payload).toMatchObject({
      device_id: ids.bk1,
      device_name: 'bk1',
      repository_id: repo,
      path: 'devices/bk1.cfg',
      run_id: run.id,
      parent: moved,
      triggered_by: { kind: 'user', name: 'admin' },
      diff: { added: 2, removed: 0, lines: ['+ntp server 192.0.2.55', '+username bob secret 5 <removed>'], truncated: false },
    });
    const version = ((await call('GET', `/devices/${ids.bk1}/configs`)).json().items as { commit: string; id: string }[]).find((v) => v.commit === head)!;
    expect(version).toBeDefined();
    const content = await call('GET', `/devices/${ids.bk1}/configs/${version.id}`);
    const everything = [blob, JSON.stringify(out), JSON.stringify(logs), events.body, content.body, (await call('GET', `/git/repositories/${repo}`)).body].join(
      '\n',
    );
    for (const secret of [NEW_SECRET, NOISY_SECRETS.community, NOISY_SECRETS.userHash, HTTP_PASSWORD, ios.password, ios.enableSecret]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('runs from a schedule of a config_backup job template', async () => {
    const { id: repo, git, commits } = await newRepository('scheduled');
    const template = await create('/jobs/templates', {
      name: `nightly-backup-${tag}`,
      type: 'config_backup',
      targets: [{ device: 'bk2' }],
      params: { repository_id: repo, port: ios.port },
    });
    const schedule = await create('/schedules', { name: `nightly-${tag}`, template_id: template.id, kind: 'interval', interval_seconds: 1 });
    try {
      await vi.waitFor(
        async () => {
          const runs = (await call('GET', `/jobs/runs?template_id=${template.id}`)).json().items as { status: string; trigger: { kind: string } }[];
          expect(runs.filter((r) => r.status === 'succeeded').map((r) => r.trigger.kind)).toContain('schedule');
        },
        { timeout: 60_000, interval: 200 },
      );
    } finally {
      expect((await call('DELETE', `/schedules/${schedule.id}`)).statusCode).toBe(204);
    }
    // Every fire after the first found the configuration unchanged: one commit, no empty ones.
    expect(commits()).toBe(1);
    expect(git('log', '-1', '--format=%s', 'main')).toMatch(/^backup bk2 \(run [0-9a-f-]{36}, by admin\)$/);
  }, 90_000);

  it('backs up a Linux server over SSH exec with the linux profile', async () => {
    const { id: repo, git } = await newRepository('servers');
    const cred = await createCredential(server, token, { type: 'ssh', username: sshd.username, password: sshd.password });
    await create('/platforms', { name: `Linux-${tag}`, network_driver: 'linux' });
    await create('/devices', { name: `srv-${tag}`, platform: `Linux-${tag}`, primary_ip4: '127.0.0.1', credential_id: cred });
    const { run, out } = await backup(repo, [{ device: `srv-${tag}` }], { port: sshd.port });
    expect(run.status, JSON.stringify(out.targets)).toBe('succeeded');
    expect(out.targets[0]!.parsed).toMatchObject({ profile: 'linux', changed: true });
    const stored = git('show', `main:devices/srv-${tag}.cfg`);
    expect(stored).toMatch(/localhost/);
    expect(stored).toMatch(/ lo /);
  });

  it('pushes to git daemon too', async () => {
    const daemonRepo = `daemon-${tag}`;
    root.createBare(daemonRepo);
    const repo = await create('/git/repositories', { name: `daemon-backups-${tag}`, category: 'configs', url: `${daemon.url}/${daemonRepo}.git` });
    const run = await api.start({ type: 'config_backup', targets: [{ device: 'bk3' }], params: { repository_id: repo.id, port: ios.port } });
    expect((await api.finished(run.id, 30_000)).status, JSON.stringify((await api.output(run.id)).targets)).toBe('succeeded');
    expect(root.git(['--git-dir', `${root.dir}/${daemonRepo}.git`, 'ls-tree', '--name-only', 'main']).trim()).toBe('bk3.cfg');
  });

  it('fails, without retrying, for an initiator without git:write, a device without a profile and a repository that is not configs', async () => {
    await create('/roles', {
      name: `backup-runner-${tag}`,
      permissions: ['jobs:run', 'jobs:read', 'devices:read', 'credentials:use', 'git:read', 'configs:read'],
    });
    const runner = await loginAs(server, `backup-runner-${tag}`);
    const { id: repo, commits } = await newRepository('refusals');
    const denied = await backup(repo, [{ device: 'bk2' }], {}, runner.token);
    expect(denied.run.status).toBe('failed');
    expect(denied.out.targets[0]).toMatchObject({ attempt: 1, error: expect.stringContaining('PERMISSION_DENIED') });

    const odd = await backup(repo, [{ device: 'odd1' }]);
    expect(odd.run.status).toBe('failed');
    expect(odd.out.targets[0]).toMatchObject({
      attempt: 1,
      error: expect.stringContaining("no platform profile serves the device's platform (network driver 'vendor_x')"),
    });
    // Naming a profile serves it.
    const named = await backup(repo, [{ device: 'odd1' }], { profile: 'cisco_ios' });
    expect(named.run.status, JSON.stringify(named.out.targets)).toBe('succeeded');
    expect(commits()).toBe(1);

    const textfsm = await create('/git/repositories', { name: `textfsm-${tag}`, category: 'textfsm', url: `${http.url}/refusals-${tag}.git` });
    const wrong = await backup(textfsm.id, [{ device: 'bk2' }]);
    expect(wrong.out.targets[0]).toMatchObject({ attempt: 1, error: expect.stringContaining('CONFIG_BACKUP_REPOSITORY') });
  });

  it("reads a device whose prompt is not 'name#' with a profile's RE2 prompt (user@host>)", async () => {
    const { id: repo, git } = await newRepository('prompt');
    const body = {
      name: 'Prefixed IOS',
      drivers: ['prefixed_ios'],
      mode: 'device',
      enable: true,
      prompt: '(?:^|\\n)netops@[A-Za-z0-9-]+[>#] ?$',
      setup_commands: ['terminal length 0'],
      backup_commands: ['show running-config'],
      strip_lines: ['^! Last configuration', '^ntp clock-period'],
      mask: [
        { pattern: '^(snmp-server community )\\S+', replacement: '<removed>' },
        { pattern: '^(\\s*(?:enable|username \\S+ .*) secret \\d+ )\\S+', replacement: '<removed>' },
      ],
    };
    expect((await call('POST', '/configs/profiles', { id: 'prefixed_ios', ...body })).statusCode).toBe(201);
    const run = await backup(repo, [{ device: 'jx1' }], { profile: 'prefixed_ios' });
    expect(run.run.status, JSON.stringify(run.out.targets)).toBe('succeeded');
    expect(git('show', 'main:devices/jx1.cfg')).toContain('hostname R23-5');
    expect((await call('DELETE', '/configs/profiles/prefixed_ios')).statusCode).toBe(204);
  });

  it('manages user-defined profiles (RE2 checked) and backs up with one', async () => {
    const bad = await call('POST', '/configs/profiles', {
      id: 'bad',
      name: 'bad',
      drivers: [],
      mode: 'device',
      backup_commands: ['show run'],
      strip_lines: ['^ok', '(a)\\1'],
      mask: [{ pattern: '(?=x)', replacement: '' }],
    });
    expect(bad.statusCode, bad.body).toBe(422);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['body.strip_lines.1', 'body.mask.0.pattern']);
    const body = {
      name: 'Lab IOS',
      drivers: ['lab_ios'],
      mode: 'device',
      enable: true,
      setup_commands: ['terminal length 0'],
      backup_commands: ['show running-config'],
      strip_lines: ['^Building', '^Current configuration', '^! Last configuration', '^ntp clock-period', '^ description '],
      mask: [
        { pattern: '^(snmp-server community )\\S+', replacement: 'MASKED' },
        { pattern: '^(\\s*(?:enable|username \\S+ .*) secret \\d+ )\\S+', replacement: '<removed>' },
      ],
    };
    const made = await call('POST', '/configs/profiles', { id: 'lab_ios', ...body });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json()).toMatchObject({ id: 'lab_ios', builtin: false, strip_lines: body.strip_lines, configure: null });
    expect((await call('POST', '/configs/profiles', { id: 'lab_ios', ...body })).statusCode).toBe(409);
    const list = (await call('GET', '/configs/profiles')).json().items as { id: string; builtin: boolean }[];
    expect(list.map((p) => p.id)).toEqual(expect.arrayContaining(['arista_eos', 'cisco_ios', 'cisco_nxos', 'cisco_xr', 'juniper_junos', 'linux', 'lab_ios']));
    expect((await call('PUT', '/configs/profiles/lab_ios', { ...body, name: 'Lab IOS v2' })).json().name).toBe('Lab IOS v2');
    expect((await call('PUT', '/configs/profiles/cisco_ios', body)).statusCode).toBe(409);

    const { id: repo, git } = await newRepository('custom');
    expect((await backup(repo, [{ device: 'bk3' }])).run.status).toBe('succeeded');
    const run = await backup(repo, [{ device: 'bk3' }], { profile: 'lab_ios' });
    expect(run.run.status, JSON.stringify(run.out.targets)).toBe('succeeded');
    expect(run.out.targets[0]!.output).toMatch(/^changed \(\+1 −5 lines\)/);
    expect(git('show', 'main:devices/bk3.cfg')).toContain('snmp-server community MASKED');

    const viewer = await loginAs(server, 'viewer');
    expect((await call('GET', '/configs/profiles/lab_ios', undefined, viewer.token)).statusCode).toBe(200);
    expect((await call('DELETE', '/configs/profiles/lab_ios', undefined, viewer.token)).statusCode).toBe(403);
    expect((await call('DELETE', '/configs/profiles/lab_ios')).statusCode).toBe(204);
    expect((await call('GET', '/configs/profiles/lab_ios')).statusCode).toBe(404);
    expect((await call('DELETE', '/configs/profiles/cisco_ios')).statusCode).toBe(409);
  });
});
