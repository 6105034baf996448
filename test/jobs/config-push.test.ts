import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, loginAs } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { freeTcpPort } from '../peers/ports.js';
import { startIosEmulator, type IosEmulator } from '../peers/ios-emulator.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer, type RunBody } from './helpers.js';

/** Two emulated IOS devices per deployment, so the two runs of this file never share a running config. */
const ADDRESSES = ['127.0.22.1', '127.0.22.2', '127.0.22.3', '127.0.22.4'];
/** A device that never answers a line containing HANG, one per deployment. */
const HUNG = ['127.0.22.11', '127.0.22.12'];

let ios: IosEmulator;
let hung: IosEmulator;
beforeAll(async () => {
  ios = await startIosEmulator({ addresses: ADDRESSES, port: await freeTcpPort(ADDRESSES[0]!) });
  hung = await startIosEmulator({ addresses: HUNG, port: await freeTcpPort(HUNG[0]!), hangOn: 'HANG' });
});
afterAll(async () => {
  await Promise.all([ios?.stop(), hung?.stop()]);
});

interface PushOutput {
  template_id: string;
  version: number;
  rendered: string;
  rendered_sha256: string;
  dry_run: boolean;
  lines_sent: number;
  committed: boolean;
  saved: boolean;
  failed_line: { number: number; line: string; error: string } | null;
  diff_summary: { added: number; removed: number };
  diff: string;
}

const PUSH_TEMPLATE = [
  'hostname {{ device.name }}-{{ site }}',
  '!',
  'ntp server {{ ntp }}',
  'username admin secret 0 {{ admin_password }}',
  'logging host 10.5.5.5 vrf {{ vrf.token }}',
  'snmp-server location {{ locator }}',
  '',
].join('\n');

describe.each(JOB_MODES)('config_push on $name', (mode) => {
  const [a1, a2] = mode.cluster ? [ADDRESSES[2]!, ADDRESSES[3]!] : [ADDRESSES[0]!, ADDRESSES[1]!];
  let server: TestServer;
  let api: ReturnType<typeof jobsClient>;
  let token: string;
  const ids: Record<string, string> = {};
  // Secret values, kept in the vault, each unlike anything else in a config.
  const secrets = {
    admin_password: `Adm1n-Pw-${mode.cluster ? 'pg' : 'lt'}-77`,
    vrf_token: `Vrf-Tok3n-${mode.cluster ? 'pg' : 'lt'}-88`,
    locator: `Hidden-Rack-${mode.cluster ? 'pg' : 'lt'}-99`,
  };
  /** `secret_variables` reading the three secrets from the vault: a password, a token under a dotted path, a chosen field. */
  const fromVault = () => ({
    admin_password: { credential_id: ids.pw },
    'vrf.token': { credential_id: ids.tok },
    locator: { credential_id: ids.loc, field: 'enable_secret' },
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, auth = token) =>
    server.app.inject({ method, url: `/api/v1${url}`, headers: bearer(auth), ...(payload ? { payload } : {}) });
  const create = async (url: string, payload: object): Promise<Record<string, any>> => {
    const res = await call('POST', url, payload);
    if (res.statusCode !== 201) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const template = async (name: string, content: string, variables_schema?: object) =>
    (await create('/templates', { name: `${name}-${mode.dialect}`, content, ...(variables_schema ? { variables_schema } : {}) })).id as string;
  const push = (templateId: string, params: Record<string, unknown> = {}, devices = [ids.r1!, ids.r2!]) =>
    api.start({ type: 'config_push', targets: devices.map((device_id) => ({ device_id })), params: { template_id: templateId, port: ios.port, ...params } });
  const outputs = async (run: RunBody) => (await api.output(run.id)).targets;
  // What the run produced: outputs, job log, the run's reason and error, the server log (the run's params are the caller's own input, shown as given).
  const events = async () => {
    const out: unknown[] = [];
    for (let after: string | null = ''; after !== null; ) {
      const page = (await call('GET', `/events/history?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`)).json() as {
        items: unknown[];
        next_cursor: string | null;
      };
      out.push(...page.items);
      after = page.next_cursor;
    }
    return out;
  };
  // What the run stored and produced: the run as read (its params included), outputs, job log, domain events, the server log.
  const everything = async (run: RunBody) =>
    JSON.stringify(await api.get(run.id)) +
    JSON.stringify(await api.output(run.id)) +
    JSON.stringify(await api.logs(run.id)) +
    JSON.stringify(await events()) +
    server.logs.text();
  const runCount = async () => ((await call('GET', '/jobs/runs?limit=1000')).json() as { items: unknown[] }).items.length;
  const configOf = (address: string) => [...(ios.config.get(address) ?? [])];

  beforeAll(async () => {
    server = await startJobsServer(mode, { env: { OPSDECK_TEMPLATE_RENDER_TIMEOUT_MS: '500' } });
    token = await adminToken(server);
    api = jobsClient(server, token);
    ids.cred = await createCredential(server, token, { type: 'ssh', username: ios.username, password: ios.password, enable_secret: ios.enableSecret });
    await create('/platforms', { name: 'IOS', network_driver: 'cisco_ios' });
    ids.r1 = (await create('/devices', { name: 'r1', platform: 'IOS', primary_ip4: a1, credential_id: ids.cred })).id;
    ids.r2 = (await create('/devices', { name: 'r2', platform: 'IOS', primary_ip4: a2, credential_id: ids.cred })).id;
    ids.pw = await createCredential(server, token, { type: 'ssh', username: 'admin', password: secrets.admin_password });
    ids.tok = await createCredential(server, token, { type: 'api_token', token: secrets.vrf_token });
    ids.loc = await createCredential(server, token, { type: 'ssh', username: 'rack', password: `unused-${mode.dialect}`, enable_secret: secrets.locator });
    ids.push = await template('push', PUSH_TEMPLATE, {
      type: 'object',
      properties: { ntp: { type: 'string', pattern: '^[0-9.]+$' }, locator: { type: 'string', writeOnly: true } },
      required: ['ntp'],
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('renders per device with secrets from the vault and pushes: the running configs change, the output holds the diff, the secrets appear nowhere else', async () => {
    const run = await push(ids.push!, { variables: { site: 'ams', ntp: '10.9.9.9' }, secret_variables: fromVault(), save: true });
    expect(run.changes_devices).toBe(true);
    const done = await api.finished(run.id);
    const targets = await outputs(run);
    expect(done.status, JSON.stringify(targets.map((t) => t.error))).toBe('succeeded');
    for (const [address, name] of [
      [a1, 'r1'],
      [a2, 'r2'],
    ] as const) {
      const config = configOf(address);
      expect(config).toContain(`hostname ${name}-ams`);
      expect(config).toContain('ntp server 10.9.9.9');
      // The device got the real values; only what Opsdeck stores and logs is masked.
      expect(config).toContain(`username admin secret 0 ${secrets.admin_password}`);
      expect(config).toContain(`snmp-server location ${secrets.locator}`);
      expect(config).toContain(`logging host 10.5.5.5 vrf ${secrets.vrf_token}`);
      expect(ios.commands.get(address)).toContain('write memory');
    }
    for (const [i, t] of targets.entries()) {
      const out = t.parsed as PushOutput;
      expect(out).toMatchObject({ template_id: ids.push, version: 1, dry_run: false, lines_sent: 5, committed: false, saved: true, failed_line: null });
      expect(out.diff).toContain(`+hostname r${i + 1}-ams`);
      expect(out.diff).toContain('+ntp server 10.9.9.9');
      expect(out.diff).toContain('+username admin secret 0 <removed>');
      expect(out.diff_summary.added).toBe(5);
      expect(out.rendered).toContain('snmp-server location ********');
      expect(t.output).toContain('+ntp server 10.9.9.9');
    }
    const text = await everything(run);
    for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
    // The vault logged each read for the initiator and this run, per device.
    const uses = (await call('GET', `/audit?limit=1000&action=credential.resolved&resource_id=${ids.tok}`)).json().items as {
      actor: { name: string };
      changes: Record<string, unknown> | null;
    }[];
    const mine = uses.filter((e) => e.changes?.job_run_id === run.id);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.actor.name).toBe('admin');
  });

  it('refuses a secret in plain variables with 422 naming the field, and stores no run', async () => {
    const before = await runCount();
    const value = `Plain-Secr3t-${mode.dialect}`;
    for (const [variables, path] of [
      [{ ntp: '10.9.9.9', admin_password: value }, 'body.params.variables.admin_password'],
      [{ ntp: '10.9.9.9', snmp: { communities: [value] } }, 'body.params.variables.snmp.communities'],
      // Secret by the template's schema (writeOnly), not by name.
      [{ ntp: '10.9.9.9', locator: value }, 'body.params.variables.locator'],
    ] as const) {
      const res = await api.create({ type: 'config_push', targets: [{ device_id: ids.r1 }], params: { template_id: ids.push, port: ios.port, variables } });
      expect(res.statusCode, res.body).toBe(422);
      const body = res.json() as { errors: { path: string; message: string }[] };
      expect(body.errors.map((e) => e.path)).toEqual([path]);
      expect(body.errors[0]!.message).toContain('secret_variables');
      expect(res.body).not.toContain(value);
    }
    // A job template stores params too: the same rule.
    const tpl = await call('POST', '/jobs/templates', {
      name: `push-tpl-${mode.dialect}`,
      type: 'config_push',
      targets: [{ device_id: ids.r1 }],
      params: { template_id: ids.push, variables: { enable_secret: value } },
    });
    expect(tpl.statusCode, tpl.body).toBe(422);
    expect(tpl.body).toContain('variables.enable_secret');
    expect(await runCount()).toBe(before);
    expect(server.logs.text()).not.toContain(value);
  });

  it("a variable the template's schema marks secret after the run was queued fails the target before anything is sent", async () => {
    const id = await template('marked-later', 'snmp-server location {{ rack }}\n');
    const notBefore = new Date(Date.now() + 1500).toISOString();
    const res = await api.create({
      type: 'config_push',
      targets: [{ device_id: ids.r1 }],
      not_before: notBefore,
      params: { template_id: id, port: ios.port, variables: { rack: 'rack-8' } },
    });
    expect(res.statusCode, res.body).toBe(202);
    const jobTemplate = await create('/jobs/templates', {
      name: `marked-later-${mode.dialect}`,
      type: 'config_push',
      targets: [{ device_id: ids.r1 }],
      params: { template_id: id, port: ios.port, variables: { rack: 'rack-8', floor: 'f2' } },
    });
    expect(
      (await call('PATCH', `/templates/${id}`, { variables_schema: { type: 'object', properties: { rack: { type: 'string', 'x-secret': true } } } }))
        .statusCode,
    ).toBe(200);
    const later = res.json() as RunBody;
    // What was stored in plain before the schema marked it is masked there: the queued run and the job template.
    expect((await api.get(later.id)).params).toMatchObject({ variables: { rack: '********' } });
    expect((await call('GET', `/jobs/templates/${jobTemplate.id}`)).json().params.variables).toEqual({ rack: '********', floor: 'f2' });
    const before = ios.commands.get(a1)?.length ?? 0;
    const done = await api.finished(later.id);
    expect(done.status).toBe('failed');
    expect(done.attempt).toBe(1);
    const [t] = await outputs(later);
    expect(t!.error).toMatch(/^TEMPLATE_SECRET_VARIABLE: .*variables\.rack: /);
    expect(t!.error).toContain('secret_variables');
    expect(ios.commands.get(a1)?.length ?? 0).toBe(before);
    expect(configOf(a1)).not.toContain('snmp-server location rack-8');
  });

  it('a credential of another team is not found for the initiator: the target fails for good and the secret stays in the vault', async () => {
    const team = (await create('/teams', { name: `push-other-${mode.dialect}` })).id as string;
    const other = await createCredential(server, token, { type: 'api_token', token: `Other-Team-${mode.dialect}-55`, team_id: team });
    const role = await create('/roles', {
      name: `pusher-vault-${mode.dialect}`,
      permissions: ['jobs:run', 'jobs:read', 'devices:read', 'credentials:use', 'templates:render'],
    });
    const user = await loginAs(server, role.name, token);
    const res = await call(
      'POST',
      '/jobs/runs',
      {
        type: 'config_push',
        targets: [{ device_id: ids.r1 }],
        params: {
          template_id: ids.push,
          port: ios.port,
          variables: { site: 'z', ntp: '10.8.8.9' },
          secret_variables: { ...fromVault(), 'vrf.token': { credential_id: other } },
        },
      },
      user.token,
    );
    expect(res.statusCode, res.body).toBe(202);
    const run = res.json() as RunBody;
    const done = await jobsClient(server, user.token).finished(run.id);
    expect(done.status).toBe('failed');
    expect(done.attempt).toBe(1);
    const [t] = await outputs(run);
    expect(t!.error).toContain(`secret_variables.vrf.token: credential ${other} not found`);
    expect(configOf(a1)).not.toContain('ntp server 10.8.8.9');
    expect(await everything(run)).not.toContain(`Other-Team-${mode.dialect}-55`);
  });

  it('an initiator without credentials:use cannot read secret variables: the target fails before anything is sent', async () => {
    const role = await create('/roles', { name: `pusher-novault-${mode.dialect}`, permissions: ['jobs:run', 'jobs:read', 'devices:read', 'templates:render'] });
    const user = await loginAs(server, role.name, token);
    const sent = ios.commands.get(a2)?.length ?? 0;
    const res = await call(
      'POST',
      '/jobs/runs',
      {
        type: 'config_push',
        targets: [{ device_id: ids.r2 }],
        params: { template_id: ids.push, port: ios.port, variables: { site: 'w', ntp: '10.8.8.7' }, secret_variables: fromVault() },
      },
      user.token,
    );
    expect(res.statusCode, res.body).toBe(202);
    const done = await jobsClient(server, user.token).finished((res.json() as RunBody).id);
    expect(done.status).toBe('failed');
    const [t] = await outputs(done);
    expect(t!.error).toContain('credentials:use');
    expect(ios.commands.get(a2)?.length ?? 0).toBe(sent);
    expect(configOf(a2)).not.toContain('ntp server 10.8.8.7');
  });

  it('a dry run renders and diffs against the running config, changes nothing and is not device-changing', async () => {
    const id = await template('dry', 'ntp server 10.7.7.{{ 1 + 1 }}\n');
    const before = [configOf(a1), configOf(a2)];
    const sent = [ios.commands.get(a1)?.length ?? 0, ios.commands.get(a2)?.length ?? 0];
    const run = await push(id, { dry_run: true });
    expect(run.changes_devices).toBe(false);
    expect((await api.finished(run.id)).status).toBe('succeeded');
    expect([configOf(a1), configOf(a2)]).toEqual(before);
    expect(ios.commands.get(a1)!.slice(sent[0])).not.toContain('configure terminal');
    expect(ios.commands.get(a2)!.slice(sent[1])).not.toContain('configure terminal');
    for (const t of await outputs(run)) {
      const out = t.parsed as PushOutput;
      expect(out).toMatchObject({ dry_run: true, lines_sent: 0, committed: false });
      expect(out.diff).toContain('+ntp server 10.7.7.2');
      expect(out.diff).toContain('-hostname R22-');
    }
  });

  it('a line the device refuses fails the target, names the line and stops the push there', async () => {
    const id = await template('invalid', 'ntp server 10.6.6.6\nbogus command here\nlogging host 10.6.6.7\n');
    const run = await push(id, {}, [ids.r1!]);
    const done = await api.finished(run.id);
    expect(done.status).toBe('failed');
    const [t] = await outputs(run);
    expect(t!.error).toContain("line 2 'bogus command here'");
    expect(t!.error).toContain('% Invalid input detected');
    expect(done.attempt).toBe(1);
    const out = t!.parsed as PushOutput;
    expect(out.failed_line).toMatchObject({ number: 2, line: 'bogus command here' });
    // IOS applies each line as it is entered: the first is in, the one after the failure was never sent.
    expect(out.diff).toContain('+ntp server 10.6.6.6');
    expect(configOf(a1)).toContain('ntp server 10.6.6.6');
    expect(configOf(a1)).not.toContain('logging host 10.6.6.7');
  });

  it('acts as the initiator at execution: one who may run jobs but not render templates fails before anything is rendered or sent', async () => {
    const role = `pusher-${mode.dialect}`;
    await create('/roles', { name: role, permissions: ['jobs:run', 'jobs:read', 'devices:read', 'credentials:use'] });
    const user = await loginAs(server, role, token);
    const sent = ios.commands.get(a1)?.length ?? 0;
    const res = await call(
      'POST',
      '/jobs/runs',
      { type: 'config_push', targets: [{ device_id: ids.r1 }], params: { template_id: ids.push, port: ios.port, variables: { site: 'x', ntp: '10.4.4.4' } } },
      user.token,
    );
    expect(res.statusCode, res.body).toBe(202);
    const done = await api.finished((res.json() as RunBody).id);
    expect(done.status).toBe('failed');
    const [t] = await outputs(done);
    expect(t!.error).toContain('templates:render');
    expect(ios.commands.get(a1)?.length ?? 0).toBe(sent);
    expect(configOf(a1)).not.toContain('ntp server 10.4.4.4');
  });

  it('re-checks the initiator when the run executes: a role that lost templates:render after queueing fails the run', async () => {
    const base = ['jobs:run', 'jobs:read', 'devices:read', 'credentials:use'];
    const role = await create('/roles', { name: `pusher-later-${mode.dialect}`, permissions: [...base, 'templates:render'] });
    const user = await loginAs(server, role.name, token);
    const notBefore = new Date(Date.now() + 1500).toISOString();
    const res = await call(
      'POST',
      '/jobs/runs',
      {
        type: 'config_push',
        targets: [{ device_id: ids.r2 }],
        not_before: notBefore,
        params: { template_id: ids.push, port: ios.port, variables: { site: 'y', ntp: '10.4.4.5' } },
      },
      user.token,
    );
    expect(res.statusCode, res.body).toBe(202);
    expect((await call('PATCH', `/roles/${role.id}`, { permissions: base })).statusCode).toBe(200);
    const done = await api.finished((res.json() as RunBody).id);
    expect(done.status).toBe('failed');
    expect((await outputs(done))[0]!.error).toContain('templates:render');
    expect(configOf(a2)).not.toContain('ntp server 10.4.4.5');
  });

  it('a device that stops answering mid-push times the target out without the secret its last output echoed', async () => {
    const id = await template('hang', 'ntp server 10.1.1.1\nlogging host 10.5.5.5 vrf {{ vrf_token }} HANG\n');
    const device = (await create('/devices', { name: 'r-hung', platform: 'IOS', primary_ip4: HUNG[mode.cluster ? 1 : 0], credential_id: ids.cred }))
      .id as string;
    const run = await api.start({
      type: 'config_push',
      targets: [{ device_id: device }],
      params: { template_id: id, port: hung.port, command_timeout_ms: 500, secret_variables: { vrf_token: { credential_id: ids.tok } } },
    });
    expect((await api.finished(run.id)).status).toBe('failed');
    const [t] = await outputs(run);
    expect(t!.error).toContain('no prompt within 500 ms');
    expect(t!.error).toContain('logging host 10.5.5.5 vrf ********');
    expect(await everything(run)).not.toContain(secrets.vrf_token);
  });

  it('a runaway render fails its target with TEMPLATE_LIMIT while the other device is pushed', async () => {
    const loop = '{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}';
    const id = await template('runaway', `{% if device.name == 'r2' %}${loop}{% endif %}ntp server 10.3.3.3\n`);
    const run = await push(id);
    const done = await api.finished(run.id);
    expect(done.status).toBe('partially_failed');
    const targets = await outputs(run);
    expect(targets[0]!.status).toBe('succeeded');
    expect(targets[1]!.status).toBe('failed');
    expect(targets[1]!.error).toMatch(/^TEMPLATE_LIMIT: /);
    expect(configOf(a1)).toContain('ntp server 10.3.3.3');
    expect(configOf(a2)).not.toContain('ntp server 10.3.3.3');
  });

  it('pins a version and enforces the variables schema at execution', async () => {
    const id = await template('pinned', 'ntp server 10.2.2.1\n');
    expect((await call('PATCH', `/templates/${id}`, { content: 'ntp server 10.2.2.2\n' })).statusCode).toBe(200);
    const pinned = await push(id, { version: 1 }, [ids.r1!]);
    expect((await api.finished(pinned.id)).status).toBe('succeeded');
    expect(((await outputs(pinned))[0]!.parsed as PushOutput).version).toBe(1);
    expect(configOf(a1)).toContain('ntp server 10.2.2.1');
    expect(configOf(a1)).not.toContain('ntp server 10.2.2.2');

    const invalid = await push(ids.push!, { variables: { site: 'x', ntp: 'not an address' } }, [ids.r1!]);
    expect((await api.finished(invalid.id)).status).toBe('failed');
    expect((await outputs(invalid))[0]!.error).toMatch(/^TEMPLATE_VARIABLES_INVALID: .*variables\.ntp: /);
  });
});
