import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminToken, bearer, loginAs } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { makeDevice, makeJobTemplate } from '../factories/index.js';
import { createCredential, JOB_MODES, jobsClient, startJobsServer, type RunBody } from './helpers.js';

// Issue 16: using a credential is reading it. An operator of team B could start a run naming a
// team-A credential (its id shows in audit, devices and runs) and receive the secret at his own
// listener; schedules ran with system rights after their owner was demoted and disabled; an
// operator could scan any address with any number of targets × ports.

const SECRET = `tok-${randomBytes(12).toString('hex')}`;
let listener: http.Server;
let listenerUrl: string;
const hits: { url: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  listener = http.createServer((req, res) => {
    hits.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});
afterAll(async () => {
  listener.closeAllConnections();
  await new Promise((r) => listener.close(r));
});

const hitsFor = (path: string) => hits.filter((h) => h.url.startsWith(path));

describe.each(JOB_MODES)('runs act for the principal that started them on $name', (mode) => {
  let server: TestServer;
  let token: string;
  let admin: Record<string, string>;
  let teamA: string;
  let teamB: string;
  let credA: string;
  let device: string;
  const tag = mode.cluster ? 'pg' : 'lite';

  const call = (headers: Record<string, string>, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    server.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const created = async (res: Awaited<ReturnType<typeof call>>, status = 201) => {
    expect(res.statusCode, res.body).toBe(status);
    return res.json() as Record<string, any>;
  };
  const audit = async (query: string) =>
    (await created(await call(admin, 'GET', `/audit?limit=1000&${query}`), 200)).items as {
      actor: { kind: string; id: string | null; name: string };
      action: string;
      resource_id: string | null;
      outcome: string;
      changes: Record<string, any> | null;
    }[];
  const credentialUses = async (runId: string) =>
    (await audit(`action=credential.resolved&resource_id=${credA}`)).filter((e) => e.changes?.job_run_id === runId);
  const runCount = async () => ((await created(await call(admin, 'GET', '/jobs/runs?limit=1000'), 200)).items as unknown[]).length;
  const finished = (headers: Record<string, string>, id: string) => jobsClient(server, headers.authorization!.slice(7)).finished(id);
  const targetsOf = async (id: string) =>
    (await created(await call(admin, 'GET', `/jobs/runs/${id}/targets`), 200)).items as { status: string; error: string | null }[];
  const inTeam = async (team: string, roles: string | string[] = 'operator') => {
    const u = await loginAs(server, roles, token);
    expect((await call(admin, 'PUT', `/teams/${team}/members/${u.userId}`)).statusCode).toBe(204);
    return { ...u, headers: bearer(u.token), caller: { server, headers: bearer(u.token) } };
  };
  const httpRun = (path: string, extra: Record<string, unknown> = {}) => ({
    type: 'http_request',
    credential_id: credA,
    params: { url: `${listenerUrl}/${tag}${path}` },
    ...extra,
  });

  beforeAll(async () => {
    server = await startJobsServer(mode, {
      env: {
        OPSDECK_RUN_MAX_TARGETS: '5',
        OPSDECK_RUN_MAX_PROBES: '100',
        OPSDECK_RUN_MAX_ACTIVE_PER_USER: '3',
        OPSDECK_SCHEDULER_POLL_MS: '200',
        OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.1/32',
      },
    });
    token = await adminToken(server);
    admin = bearer(token);
    teamA = (await created(await call(admin, 'POST', '/teams', { name: `run-a-${tag}` }))).id;
    teamB = (await created(await call(admin, 'POST', '/teams', { name: `run-b-${tag}` }))).id;
    credA = await createCredential(server, token, { type: 'api_token', token: SECRET, team_id: teamA });
    // A shared device whose own credential is team A's: the inventory resolves it for anyone who sees the device.
    await created(await call(admin, 'POST', '/locations', { name: `loc-${tag}`, location_type: 'site' }));
    device = (await makeDevice({ server, headers: admin }, { location: `loc-${tag}`, primary_ip4: '127.0.0.1', credential_id: credA })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a credential of another team does not exist for a run, a template, its run, a schedule or a credential test; the secret never leaves', async () => {
    const b = await inTeam(teamB);
    const before = await runCount();
    const nobody = '01900000-0000-7000-8000-000000000000';
    const asTypo = await call(b.headers, 'POST', '/jobs/runs', httpRun('/b-run', { credential_id: nobody }));
    const named = await call(b.headers, 'POST', '/jobs/runs', httpRun('/b-run'));
    expect(named.statusCode, named.body).toBe(422);
    expect(named.json().code).toBe('JOB_CREDENTIAL_NOT_FOUND');
    // Indistinguishable from an id that names nothing: existence is not confirmed.
    expect(named.json().errors).toEqual(asTypo.json().errors);
    expect(asTypo.json().code).toBe('JOB_CREDENTIAL_NOT_FOUND');

    const template = await call(b.headers, 'POST', '/jobs/templates', { name: `b-tpl-${tag}`, ...httpRun('/b-template') });
    expect(template.statusCode, template.body).toBe(422);
    expect(template.json().errors[0].path).toBe('body.credential_id');

    const adminTemplate = await makeJobTemplate({ server, headers: admin }, httpRun('/b-template-run'));
    const run = await call(b.headers, 'POST', `/jobs/templates/${adminTemplate.id}/run`, {});
    expect(run.statusCode, run.body).toBe(422);
    expect(run.json().code).toBe('JOB_CREDENTIAL_NOT_FOUND');
    const patch = await call(b.headers, 'PATCH', `/jobs/templates/${adminTemplate.id}`, { credential_id: credA });
    expect(patch.statusCode, patch.body).toBe(422);

    const schedule = await call(b.headers, 'POST', '/schedules', {
      name: `b-sched-${tag}`,
      template_id: adminTemplate.id,
      kind: 'interval',
      interval_seconds: 1,
    });
    expect(schedule.statusCode, schedule.body).toBe(422);
    expect(schedule.json().code).toBe('JOB_CREDENTIAL_NOT_FOUND');

    const probe = await call(b.headers, 'POST', `/credentials/${credA}/test`, { host: '127.0.0.1', port: (listener.address() as AddressInfo).port });
    expect(probe.statusCode, probe.body).toBe(404);

    expect(await runCount()).toBe(before);
    expect(hitsFor(`/${tag}/b-`)).toEqual([]);
    expect(await audit(`action=credential.resolved&resource_id=${credA}&actor_id=${b.userId}`)).toEqual([]);
  });

  it('a member of the team uses it, and the vault audits the use as that member, not the system', async () => {
    const a = await inTeam(teamA);
    const res = await call(a.headers, 'POST', '/jobs/runs', httpRun('/a-run'));
    const run = (await created(res, 202)) as RunBody;
    expect((await finished(admin, run.id)).status).toBe('succeeded');
    expect(hitsFor(`/${tag}/a-run`).map((h) => h.authorization)).toEqual([`Bearer ${SECRET}`]);
    const uses = await credentialUses(run.id);
    expect(uses.map((e) => [e.actor.kind, e.actor.id, e.outcome])).toEqual([['user', a.userId, 'success']]);
    const createdEntry = (await audit(`action=job_run.created&resource_id=${run.id}`))[0]!;
    expect(createdEntry.actor.id).toBe(a.userId);
  });

  it('a run created while allowed fails at execution once its initiator left the team or was disabled, without decrypting', async () => {
    const moved = await inTeam(teamA);
    const disabled = await inTeam(teamA);
    const later = () => new Date(Date.now() + 2500).toISOString();
    const r1 = (await created(await call(moved.headers, 'POST', '/jobs/runs', httpRun('/late-moved', { not_before: later() })), 202)) as RunBody;
    const r2 = (await created(await call(disabled.headers, 'POST', '/jobs/runs', httpRun('/late-disabled', { not_before: later() })), 202)) as RunBody;
    expect((await call(admin, 'DELETE', `/teams/${teamA}/members/${moved.userId}`)).statusCode).toBe(204);
    await created(await call(admin, 'PATCH', `/users/${disabled.userId}`, { status: 'disabled' }), 200);

    const end1 = await finished(admin, r1.id);
    expect(end1.status).toBe('failed');
    expect((await targetsOf(r1.id))[0]!.error).toMatch(/^CREDENTIAL_FORBIDDEN: .* may not use credential/);
    const end2 = await finished(admin, r2.id);
    expect(end2.status).toBe('failed');
    expect(end2.reason).toMatch(/user that started this run no longer exists or is disabled/);
    expect(hitsFor(`/${tag}/late-`)).toEqual([]);
    expect(await credentialUses(r1.id)).toEqual([]);
    expect(await credentialUses(r2.id)).toEqual([]);
  });

  it('a credential the inventory resolves for a device fails that target when it is outside the initiator’s teams', async () => {
    const b = await inTeam(teamB);
    const port = (listener.address() as AddressInfo).port;
    const run = (await created(
      await call(b.headers, 'POST', '/jobs/runs', {
        type: 'http_request',
        targets: [{ device_id: device }],
        params: { url: `http://{{target}}:${port}/${tag}/inventory-b` },
      }),
      202,
    )) as RunBody;
    expect((await finished(admin, run.id)).status).toBe('failed');
    expect((await targetsOf(run.id))[0]!.error).toMatch(/^CREDENTIAL_FORBIDDEN: /);
    expect(hitsFor(`/${tag}/inventory-b`)).toEqual([]);
    expect(await credentialUses(run.id)).toEqual([]);
  });

  it('ad-hoc addresses need jobs:run_adhoc (not in operator); inventory devices need jobs:run; the audit records the targets', async () => {
    const b = await inTeam(teamB);
    const adhoc = await call(b.headers, 'POST', '/jobs/runs', { type: 'tcp_port_scan', targets: ['127.0.0.1'], params: { ports: [5432, 6379] } });
    expect(adhoc.statusCode, adhoc.body).toBe(403);
    expect(adhoc.json().code).toBe('JOB_ADHOC_FORBIDDEN');
    const inventory = (await created(await call(b.headers, 'POST', '/jobs/runs', { type: 'noop', targets: [{ device_id: device }] }), 202)) as RunBody;
    const entry = (await audit(`action=job_run.created&resource_id=${inventory.id}`))[0]!;
    expect(entry.changes?.target_specs).toEqual([`device_id=${device}`]);

    await created(await call(admin, 'POST', '/roles', { name: `scanner-${tag}`, permissions: ['jobs:run', 'jobs:run_adhoc', 'jobs:read'] }));
    const scanner = await inTeam(teamB, `scanner-${tag}`);
    const allowed = (await created(await call(scanner.headers, 'POST', '/jobs/runs', { type: 'noop', targets: ['127.0.0.1', '127.0.0.2'] }), 202)) as RunBody;
    expect((await audit(`action=job_run.created&resource_id=${allowed.id}`))[0]!.changes?.target_specs).toEqual(['127.0.0.1', '127.0.0.2']);
  });

  it('bounds a run (targets, targets × ports) with 422 naming the field, and a person’s active runs with 429 and Retry-After', async () => {
    const many = await call(admin, 'POST', '/jobs/runs', { type: 'noop', targets: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'] });
    expect(many.statusCode, many.body).toBe(422);
    expect(many.json().errors[0].path).toBe('body.targets');
    const probes = await call(admin, 'POST', '/jobs/runs', {
      type: 'tcp_port_scan',
      targets: ['127.0.0.1', '127.0.0.2'],
      params: { ports: Array.from({ length: 60 }, (_, i) => 1000 + i) },
    });
    expect(probes.statusCode, probes.body).toBe(422);
    expect(probes.json().errors[0].path).toBe('body.params.ports');

    const busy = await inTeam(teamB);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) {
      queued.push(
        ((await created(await call(busy.headers, 'POST', '/jobs/runs', { type: 'noop', targets: [{ device_id: device }], not_before: later }), 202)) as RunBody)
          .id,
      );
    }
    const refused = await call(busy.headers, 'POST', '/jobs/runs', { type: 'noop', targets: [{ device_id: device }], not_before: later });
    expect(refused.statusCode, refused.body).toBe(429);
    expect(refused.json().code).toBe('JOB_RUNS_LIMIT');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another person is not held back by this one's runs.
    expect((await call(admin, 'POST', '/jobs/runs', { type: 'noop', targets: [{ device_id: device }], not_before: later })).statusCode).toBe(202);
    for (const id of queued) await call(busy.headers, 'POST', `/jobs/runs/${id}/cancel`);
    expect((await call(busy.headers, 'POST', '/jobs/runs', { type: 'noop', targets: [{ device_id: device }] })).statusCode).toBe(202);
  });

  it('a schedule acts for its owner (audited as them) and is paused with a reason, not run, once the owner is demoted and disabled', async () => {
    const owner = await inTeam(teamA);
    const template = await makeJobTemplate(owner.caller, httpRun('/scheduled'));
    const schedule = await created(
      await call(owner.headers, 'POST', '/schedules', { name: `owner-sched-${tag}`, template_id: template.id, kind: 'interval', interval_seconds: 86_400 }),
    );
    const fire = await created(await call(admin, 'POST', `/schedules/${schedule.id}/trigger`), 202);
    expect(fire.outcome, JSON.stringify(fire)).toBe('enqueued');
    expect((await finished(admin, fire.run_id)).status).toBe('succeeded');
    const [use] = await credentialUses(fire.run_id);
    expect(use?.actor.id).toBe(owner.userId);
    expect(use?.changes?.purpose).toContain(`schedule:${schedule.id}`);
    expect((await created(await call(admin, 'GET', `/jobs/runs/${fire.run_id}`), 200)).initiator).toEqual({ kind: 'user', id: owner.userId });
    const runEntry = (await audit(`action=job_run.created&resource_id=${fire.run_id}`))[0]!;
    expect([runEntry.actor.id, runEntry.changes?.schedule_id]).toEqual([owner.userId, schedule.id]);

    await created(await call(admin, 'PATCH', `/users/${owner.userId}`, { roles: ['viewer'] }), 200);
    await created(await call(admin, 'PATCH', `/users/${owner.userId}`, { status: 'disabled' }), 200);
    const hitsBefore = hitsFor(`/${tag}/scheduled`).length;
    const refused = await created(await call(admin, 'POST', `/schedules/${schedule.id}/trigger`), 202);
    expect(refused.outcome).toBe('refused');
    expect(refused.run_id).toBeNull();
    const paused = await created(await call(admin, 'GET', `/schedules/${schedule.id}`), 200);
    expect(paused.enabled).toBe(false);
    expect(paused.paused_reason).toMatch(/owner .* no longer exists or is disabled/);
    const [entry] = await audit(`action=schedule.paused&resource_id=${schedule.id}`);
    expect([entry?.actor.kind, entry?.changes?.owner_id]).toEqual(['system', owner.userId]);
    expect(hitsFor(`/${tag}/scheduled`).length).toBe(hitsBefore);

    // Whoever enables it again becomes its owner.
    const enabled = await created(await call(admin, 'PATCH', `/schedules/${schedule.id}`, { enabled: true }), 200);
    expect([enabled.enabled, enabled.paused_reason, enabled.owner_id]).toEqual([true, null, (await created(await call(admin, 'GET', '/auth/me'), 200)).id]);
    await call(admin, 'PATCH', `/schedules/${schedule.id}`, { enabled: false });
  });

  it('checks the owner at each tick: a due schedule of an owner who lost jobs:run is paused by the scheduler, no run created', async () => {
    const owner = await inTeam(teamA);
    const template = await makeJobTemplate(owner.caller, { targets: [{ device_id: device }] });
    const schedule = await created(
      await call(owner.headers, 'POST', '/schedules', {
        name: `tick-sched-${tag}`,
        template_id: template.id,
        kind: 'interval',
        interval_seconds: 1,
        start_at: new Date(Date.now() + 3000).toISOString(),
      }),
    );
    await created(await call(admin, 'PATCH', `/users/${owner.userId}`, { roles: ['viewer'] }), 200);
    await vi.waitFor(async () => expect((await created(await call(admin, 'GET', `/schedules/${schedule.id}`), 200)).enabled).toBe(false), {
      timeout: 20_000,
      interval: 200,
    });
    const s = await created(await call(admin, 'GET', `/schedules/${schedule.id}`), 200);
    expect(s.paused_reason).toMatch(/may no longer run jobs \(jobs:run\)/);
    const fires = (await created(await call(admin, 'GET', `/schedules/${schedule.id}/runs`), 200)).items as { outcome: string; run_id: string | null }[];
    expect(fires.map((f) => f.outcome)).toContain('refused');
    expect(fires.filter((f) => f.run_id !== null)).toEqual([]);
  });
});
