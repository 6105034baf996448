import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './helpers/db.js';
import { useTestServer } from './helpers/server.js';
import { adminToken, bearer, login } from './helpers/auth.js';

/**
 * The route-policy walk (docs/architecture.md "Team scoping"): for every team-scoped resource
 * kind, an object of team A is absent (404, unchanged) to a team-B user holding every
 * permission but the admin wildcard and the cross-team audit grant, on every route of its kind,
 * and absent from its lists and filters. To cover a new kind, add a fixture to FIXTURES.
 */
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Answer {
  statusCode: number;
  body: string;
  json(): any;
}
type Api = (headers: Record<string, string>, method: Method, url: string, payload?: unknown) => Promise<Answer>;
interface World {
  api: Api;
  admin: Record<string, string>;
  teamA: string;
  ids: Record<string, string>;
}
interface Fixture {
  /** Creates the team-A object (as admin); returns its id. */
  create(w: World): Promise<string>;
  /** The admin's view, compared before and after the walk. */
  read: (id: string) => string;
  /** Lists and filters that must not show the object to the outsider. */
  lists(w: World, id: string): string[];
}

const created = async (res: Answer, what: string) => {
  expect(res.statusCode, `${what}: ${res.body}`).toBeLessThan(300);
  return res.json().id as string;
};

const FIXTURES: Record<string, Fixture> = {
  credential: {
    create: async (w) =>
      created(
        await w.api(w.admin, 'POST', '/credentials', {
          name: `walk-cred-${w.teamA}`,
          type: 'ssh',
          username: 'netops',
          password: 'walk-secret-1',
          team_id: w.teamA,
        }),
        'credential',
      ),
    read: (id) => `/credentials/${id}`,
    lists: (w, id) => [
      '/credentials',
      `/credentials?team_id=${w.teamA}`,
      `/credentials?q=walk-cred`,
      `/credential-profiles`,
      `/devices?credential_id=${id}`,
      `/jobs/runs?credential_id=${id}`,
    ],
  },
  credential_profile: {
    create: async (w) =>
      created(
        await w.api(w.admin, 'POST', '/credential-profiles', { name: `walk-profile-${w.teamA}`, credential_ids: [w.ids.credential], team_id: w.teamA }),
        'profile',
      ),
    read: (id) => `/credential-profiles/${id}`,
    lists: (_w, id) => ['/credential-profiles', `/devices?credential_profile_id=${id}`, `/locations?credential_profile_id=${id}`],
  },
  job_template: {
    create: async (w) =>
      created(
        await w.api(w.admin, 'POST', '/jobs/templates', { name: `walk-template-${w.teamA}`, type: 'noop', targets: ['a.example'], team_id: w.teamA }),
        'template',
      ),
    read: (id) => `/jobs/templates/${id}`,
    lists: (w, id) => [
      '/jobs/templates',
      `/jobs/templates?team_id=${w.teamA}`,
      `/jobs/templates?name=walk-template-${w.teamA}`,
      `/jobs/runs?template_id=${id}`,
      `/jobs/runs/latest?template=${id}`,
      `/jobs/runs/latest?template=walk-template-${w.teamA}`,
    ],
  },
  job_run: {
    async create(w) {
      const res = await w.api(w.admin, 'POST', `/jobs/templates/${w.ids.job_template}/run`, {});
      const id = await created(res, 'run');
      for (let i = 0; i < 200; i += 1) {
        const status = (await w.api(w.admin, 'GET', `/jobs/runs/${id}`)).json().status as string;
        if (!['queued', 'running'].includes(status)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(res.json().team_id).toBe(w.teamA);
      return id;
    },
    read: (id) => `/jobs/runs/${id}`,
    lists: (w) => ['/jobs/runs', `/jobs/runs?team_id=${w.teamA}`, `/jobs/runs?template_id=${w.ids.job_template}`, '/jobs/runs?status=succeeded'],
  },
  schedule: {
    create: async (w) =>
      created(
        await w.api(w.admin, 'POST', '/schedules', {
          name: `walk-schedule-${w.teamA}`,
          template_id: w.ids.job_template,
          kind: 'interval',
          interval_seconds: 3600,
          enabled: false,
          team_id: w.teamA,
        }),
        'schedule',
      ),
    read: (id) => `/schedules/${id}`,
    lists: (w) => ['/schedules', `/schedules?team_id=${w.teamA}`],
  },
  workflow: {
    create: async (w) =>
      created(
        await w.api(w.admin, 'POST', '/workflows', {
          name: `walk-workflow-${w.teamA}`,
          team_id: w.teamA,
          graph: { nodes: [{ id: 'start', type: 'trigger', parameters: {} }], edges: [] },
        }),
        'workflow',
      ),
    read: (id) => `/workflows/${id}`,
    lists: () => ['/workflows', '/workflows?q=walk-workflow'],
  },
  workflow_execution: {
    create: async (w) => {
      const id = await created(await w.api(w.admin, 'POST', `/workflows/${w.ids.workflow}/execute`, {}), 'execution');
      // Finished before the walk, so the admin's view before and after compares equal.
      while (['queued', 'running'].includes((await w.api(w.admin, 'GET', `/workflows/executions/${id}`)).json().status)) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return id;
    },
    read: (id) => `/workflows/executions/${id}`,
    lists: (w) => ['/workflows/executions', `/workflows/executions?workflow_id=${w.ids.workflow}`],
  },
};

/** A multipart/form-data upload of a small text file into a team (POST /files). */
async function uploadWalkFile(w: World, name: string): Promise<string> {
  const boundary = 'walk-boundary-0123456789';
  const part = (headers: string, body: string) => `--${boundary}\r\n${headers}\r\n\r\n${body}\r\n`;
  const payload =
    part('Content-Disposition: form-data; name="team_id"', w.teamA) +
    part(`Content-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain`, `content of ${name}\n`) +
    `--${boundary}--\r\n`;
  return created(await w.api({ ...w.admin, 'content-type': `multipart/form-data; boundary=${boundary}` }, 'POST', '/files', payload), 'file');
}

FIXTURES.file = {
  create: (w) => uploadWalkFile(w, `walk-file-${w.teamA}.txt`),
  read: (id) => `/files/${id}`,
  lists: (w) => ['/files', `/files?team_id=${w.teamA}`, '/files?q=walk-file', '/files?content_type=text/plain'],
};
FIXTURES.image = {
  create: async (w) =>
    created(
      await w.api(w.admin, 'POST', '/images', {
        kind: 'firmware',
        file_id: await uploadWalkFile(w, `walk-firmware-${w.teamA}.bin`),
        vendor: 'walk',
        model: 'walker',
        version: '1.0',
      }),
      'image',
    ),
  read: (id) => `/images/${id}`,
  lists: () => ['/images', '/images?kind=firmware'],
};

/** Bodies that pass validation, so the answer is the object policy's, not the schema's. */
const BODIES: Record<string, unknown> = {
  'PATCH credential': { description: 'taken over' },
  'PATCH credential_profile': { description: 'taken over' },
  'PATCH job_template': { description: 'taken over' },
  'PATCH schedule': { description: 'taken over' },
  'PATCH file': { description: 'taken over' },
  'POST /api/v1/images/:id/conversions': { format: 'raw' },
  'PATCH workflow': { description: 'taken over' },
  'POST /api/v1/workflows/:id/execute': {},
  'POST /api/v1/workflows/executions/:id/nodes/:node_id/approve': {},
  'POST /api/v1/workflows/executions/:id/nodes/:node_id/reject': {},
  'POST /api/v1/credentials/:id/reveal': { reason: 'walk test' },
  'POST /api/v1/credentials/:id/test': { host: '127.0.0.1', port: 1, timeout_ms: 100 },
  'POST /api/v1/jobs/templates/:id/run': {},
  'POST /api/v1/jobs/runs/:id/retry': {},
};

describe.each(DIALECTS)('team-scoped objects are absent to other teams on %s', (dialect) => {
  const server = useTestServer(dialect);
  const api: Api = (headers, method, url, payload) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const w = { api, ids: {} } as World;
  let outsider: Record<string, string>;

  beforeAll(async () => {
    w.admin = bearer(await adminToken(server()));
    const team = async (name: string) => created(await api(w.admin, 'POST', '/teams', { name }), 'team');
    w.teamA = await team(`walk-a-${dialect}`);
    const teamB = await team(`walk-b-${dialect}`);
    const permissions = ((await api(w.admin, 'GET', '/permissions')).json().items as string[]).filter((p) => p !== 'audit:read-all');
    expect((await api(w.admin, 'POST', '/roles', { name: 'everything-but-admin', permissions })).statusCode).toBe(201);
    const user = { username: `walker-${dialect}`, email: `walker-${dialect}@example.com`, password: 'Walk-the-line-4471', roles: ['everything-but-admin'] };
    const userId = await created(await api(w.admin, 'POST', '/users', user), 'user');
    expect((await api(w.admin, 'PUT', `/teams/${teamB}/members/${userId}`)).statusCode).toBe(204);
    outsider = bearer((await login(server(), user.username, user.password)).access_token);
    for (const [kind, f] of Object.entries(FIXTURES)) w.ids[kind] = await f.create(w);
  });

  it('has a fixture for every team-scoped resource kind in the route table', () => {
    const kinds = new Set(
      server()
        .app.routeRegistry.filter((r) => r.scope === 'team')
        .map((r) => r.resource),
    );
    expect([...kinds].sort()).toEqual(Object.keys(FIXTURES).sort());
  });

  it.each(Object.keys(FIXTURES))('answers 404 on every %s route, leaves the object unchanged, and lists never show it', async (kind) => {
    const f = FIXTURES[kind]!;
    const id = w.ids[kind]!;
    const before = (await api(w.admin, 'GET', f.read(id))).json();
    const nowhere = (await api(w.admin, 'GET', f.read('00000000-0000-7000-8000-000000000000'))).json();
    const routes = server().app.routeRegistry.filter((r) => r.scope === 'team' && r.resource === kind);
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) {
      const url = r.url.replace('/api/v1', '').replace(':id', id).replace(':version', '1').replace(':node_id', 'start');
      const body = BODIES[`${r.method} ${r.url}`] ?? (r.method === 'PATCH' ? BODIES[`PATCH ${kind}`] : undefined);
      const res = await api(outsider, r.method as Method, url, body);
      expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBe(404);
      // The same body as an id that does not exist, but for the id itself.
      expect({ ...res.json(), detail: undefined, request_id: undefined }).toMatchObject({ code: nowhere.code, status: 404 });
      expect(res.body).not.toContain('walk-secret-1');
    }
    expect((await api(w.admin, 'GET', f.read(id))).json()).toEqual(before);
    for (const list of f.lists(w, id)) {
      const res = await api(outsider, 'GET', list);
      expect(res.statusCode, list).toBeLessThan(500);
      // A 404 may name the id the caller sent; anything else must not show it.
      if (res.statusCode !== 404) expect(res.body, `${list} shows ${kind} ${id}`).not.toContain(id);
    }
    const audit = await api(outsider, 'GET', `/audit?limit=1000`);
    expect(audit.statusCode).toBe(200);
    expect(audit.body, `the audit list shows ${kind} ${id}`).not.toContain(id);
    expect((await api(outsider, 'GET', `/audit?resource_id=${id}`)).json().items).toEqual([]);
    expect((await api(w.admin, 'GET', `/audit?resource_id=${id}`)).json().items.length).toBeGreaterThan(0);
  });

  it("redacts references to another team's credential and profile in device, location and shared template views", async () => {
    const cred = w.ids.credential!;
    const profile = w.ids.credential_profile!;
    const device = await created(
      await api(w.admin, 'POST', '/devices', { name: `walk-device-${dialect}`, credential_id: cred, credential_profile_id: profile }),
      'device',
    );
    const location = await created(await api(w.admin, 'POST', '/locations', { name: `walk-location-${dialect}`, credential_profile_id: profile }), 'location');
    const template = await created(
      await api(w.admin, 'POST', '/jobs/templates', { name: `walk-shared-${dialect}`, type: 'noop', credential_id: cred }),
      'shared template',
    );
    for (const [url, fields] of [
      [`/devices/${device}`, { credential_id: null, credential_profile_id: null, credential_restricted: true }],
      [`/locations/${location}`, { credential_profile_id: null, credential_restricted: true }],
      [`/jobs/templates/${template}`, { credential_id: null, credential_restricted: true }],
    ] as const) {
      const res = await api(outsider, 'GET', url);
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toMatchObject(fields);
      expect(res.body).not.toContain(cred);
      expect(res.body).not.toContain(profile);
      expect((await api(w.admin, 'GET', url)).json().credential_restricted).toBe(false);
    }
    const listed = await api(outsider, 'GET', `/devices?name=walk-device-${dialect}`);
    expect(listed.json().items).toMatchObject([{ id: device, credential_id: null, credential_restricted: true }]);
    expect((await api(w.admin, 'GET', `/devices?credential_id=${cred}`)).json().items.map((d: { id: string }) => d.id)).toEqual([device]);
    expect((await api(outsider, 'GET', `/devices?credential_id=${cred}`)).json().items).toEqual([]);
  });
  it("answers a write naming another team's credential or profile exactly as one naming nothing, and stores nothing", async () => {
    const nowhere = '00000000-0000-7000-8000-000000000000';
    const attempt = async (field: 'credential_id' | 'credential_profile_id', value: string, suffix: string) => {
      const res = await api(outsider, 'POST', '/devices', { name: `walk-foreign-${suffix}-${dialect}`, [field]: value });
      const problem = res.json() as { code: string; errors: { path: string; message: string }[] };
      return { status: res.statusCode, code: problem.code, errors: problem.errors.map((e) => ({ path: e.path, message: e.message.replace(value, '<id>') })) };
    };
    for (const [field, kind] of [
      ['credential_id', 'credential'],
      ['credential_profile_id', 'credential_profile'],
    ] as const) {
      const foreign = await attempt(field, w.ids[kind]!, `${kind}-a`);
      expect(foreign.status).toBe(422);
      expect(foreign).toEqual(await attempt(field, nowhere, `${kind}-b`));
    }
    const stored = await api(w.admin, 'GET', `/devices?name__isw=walk-foreign-`);
    expect(stored.json().items).toEqual([]);
  });
});
