import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.js';
import { useTestServer } from '../../../test/helpers/server.js';
import { adminToken, bearer, loginAs } from '../../../test/helpers/auth.js';

// Schedules stored team_id but did not restrict by it: anyone with schedules:* could read,
// change, trigger and delete another team's schedule.
describe.each(DIALECTS)('team scoping of schedules on %s', (dialect) => {
  const server = useTestServer(dialect, { env: { OPSDECK_ROLES: 'api,worker' } });
  let admin: Record<string, string>;
  let member: Record<string, string>;
  let outsider: Record<string, string>;
  let teamA: string;
  let teamB: string;
  let templateId: string;

  const api = (headers: Record<string, string>, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    server().app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    const token = await adminToken(server());
    admin = bearer(token);
    const team = async (name: string) => {
      const res = await api(admin, 'POST', '/teams', { name });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    teamA = await team('sched-team-a');
    teamB = await team('sched-team-b');
    const m = await loginAs(server(), 'operator', token);
    const o = await loginAs(server(), 'operator', token);
    expect((await api(admin, 'PUT', `/teams/${teamA}/members/${m.userId}`)).statusCode).toBe(204);
    expect((await api(admin, 'PUT', `/teams/${teamB}/members/${o.userId}`)).statusCode).toBe(204);
    member = bearer(m.token);
    outsider = bearer(o.token);
    const t = await api(admin, 'POST', '/jobs/templates', {
      name: 'team scan',
      type: 'tcp_port_scan',
      targets: ['127.0.0.1'],
      params: { ports: [1], timeout_ms: 200 },
    });
    expect(t.statusCode, t.body).toBe(201);
    templateId = t.json().id;
  });

  const create = async (headers: Record<string, string>, name: string, team: string | null) =>
    api(headers, 'POST', '/schedules', { name, template_id: templateId, kind: 'interval', interval_seconds: 3600, enabled: false, team_id: team });

  it('hides a team schedule from non-members (404 on read, update, enable, trigger, history, preview, delete) and lists only what they may see', async () => {
    const res = await create(admin, 'team-a nightly', teamA);
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id as string;
    const shared = (await create(admin, 'shared nightly', null)).json().id as string;

    for (const [method, url, body] of [
      ['GET', `/schedules/${id}`, undefined],
      ['PATCH', `/schedules/${id}`, { description: 'taken over' }],
      ['PATCH', `/schedules/${id}`, { enabled: true }],
      ['POST', `/schedules/${id}/trigger`, undefined],
      ['GET', `/schedules/${id}/runs`, undefined],
      ['GET', `/schedules/${id}/preview`, undefined],
      ['DELETE', `/schedules/${id}`, undefined],
    ] as const) {
      const r = await api(outsider, method, url, body);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.json().code).toBe('SCHEDULE_NOT_FOUND');
    }
    const theirs = (await api(outsider, 'GET', '/schedules?limit=1000')).json().items.map((s: { id: string }) => s.id);
    expect(theirs).not.toContain(id);
    expect(theirs).toContain(shared);
    // Nothing changed.
    expect((await api(admin, 'GET', `/schedules/${id}`)).json()).toMatchObject({ enabled: false, description: null });

    // Members and admins see and change it.
    expect((await api(member, 'GET', `/schedules/${id}`)).statusCode).toBe(200);
    expect((await api(member, 'GET', '/schedules?limit=1000')).json().items.map((s: { id: string }) => s.id)).toContain(id);
    expect((await api(member, 'PATCH', `/schedules/${id}`, { description: 'ours' })).statusCode).toBe(200);
    expect((await api(member, 'POST', `/schedules/${id}/trigger`)).statusCode).toBeLessThan(300);
    expect((await api(member, 'GET', `/schedules/${id}/runs`)).statusCode).toBe(200);
    expect((await api(admin, 'PATCH', `/schedules/${id}`, { enabled: true })).statusCode).toBe(200);
    expect((await api(member, 'DELETE', `/schedules/${id}`)).statusCode).toBe(204);
  });

  it('refuses to put a schedule in a team the user is not in (422 body.team_id), and changes nothing', async () => {
    const bad = await create(member, 'sneaky', teamB);
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: 'body.team_id' })]);
    expect((await api(admin, 'GET', '/schedules?q=sneaky')).json().items).toEqual([]);

    const own = await create(member, 'own team', teamA);
    expect(own.statusCode, own.body).toBe(201);
    const id = own.json().id as string;
    const move = await api(member, 'PATCH', `/schedules/${id}`, { team_id: teamB });
    expect(move.statusCode).toBe(422);
    expect(move.json().errors).toEqual([expect.objectContaining({ path: 'body.team_id' })]);
    expect((await api(member, 'GET', `/schedules/${id}`)).json().team_id).toBe(teamA);
    // An admin may move it anywhere; then the member no longer sees it.
    expect((await api(admin, 'PATCH', `/schedules/${id}`, { team_id: teamB })).statusCode).toBe(200);
    expect((await api(member, 'GET', `/schedules/${id}`)).statusCode).toBe(404);
    expect((await api(outsider, 'GET', `/schedules/${id}`)).statusCode).toBe(200);
  });
});
