import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { JOB_MODES, jobsClient, startJobsServer } from './helpers.js';

// Every spelling of "this machine" WHATWG URL accepts; each must be refused for Opsdeck's own port.
const OWN_FORMS = ['127.0.0.1', '0', '0.0.0.0', '[::]', '[::ffff:0.0.0.0]', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', '[::1]'];
const METRICS_MARK = '# HELP';

let web: http.Server;
let webPort: number;
const webSeen: string[] = [];
let opsdeckPort = 0;

beforeAll(async () => {
  web = http.createServer((req, res) => {
    webSeen.push(req.url!);
    if (req.url === '/to-opsdeck') return void res.writeHead(302, { location: `http://127.0.0.1:${opsdeckPort}/metrics` }).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`web peer saw ${req.headers.host}`);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webPort = (web.address() as AddressInfo).port;
});
afterAll(async () => {
  web.closeAllConnections();
  await new Promise((r) => web.close(r));
});

/** Names the server resolves through this map, never the machine's DNS; `rebind.lab.test` answers 127.0.0.2 once, then 127.0.0.1. */
function labResolver() {
  let rebinds = 0;
  const resolver = async (host: string): Promise<string[]> => {
    if (host === 'device.lab.test' || host === 'opsdeck.lab.test') return ['127.0.0.1'];
    if (host === 'rebind.lab.test') return rebinds++ === 0 ? ['127.0.0.2'] : ['127.0.0.1'];
    throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  return { resolver, queries: () => rebinds };
}

describe.each(JOB_MODES)('egress of http_request on $name', (mode) => {
  let strict: TestServer;
  let lab: TestServer;
  let labDns: ReturnType<typeof labResolver>;
  let strictApi: ReturnType<typeof jobsClient>;
  let api: ReturnType<typeof jobsClient>;

  beforeAll(async () => {
    labDns = labResolver();
    [strict, lab] = await Promise.all([
      startJobsServer(mode, { resolve: labResolver().resolver }),
      // A lab that lets loopback through explicitly: Opsdeck's own port must stay refused anyway.
      startJobsServer(mode, { resolve: labDns.resolver, env: { OPSDECK_EGRESS_ALLOW_INTERNAL: '127.0.0.0/8,::1' } }),
    ]);
    await lab.app.listen({ host: '127.0.0.1', port: 0 });
    opsdeckPort = (lab.app.server.address() as AddressInfo).port;
    await strict.app.listen({ host: '127.0.0.1', port: 0 });
    [strictApi, api] = [jobsClient(strict, await adminToken(strict)), jobsClient(lab, await adminToken(lab))];
  });
  afterAll(async () => {
    await Promise.all([strict?.close(), lab?.close()]);
  });

  it('refuses loopback and unspecified targets by default, in every form, when saved and when run', async () => {
    const strictPort = (strict.app.server.address() as AddressInfo).port;
    for (const host of OWN_FORMS) {
      for (const port of [strictPort, webPort]) {
        const res = await strictApi.create({ type: 'http_request', params: { url: `http://${host}:${port}/metrics` } });
        expect(res.statusCode, `${host}:${port} → ${res.body}`).toBe(422);
        expect(res.json().errors[0]).toMatchObject({ path: 'body.params.url', message: expect.stringMatching(/^egress refused/) });
      }
    }
    // A name is judged by the address it resolves to, when the run runs.
    const run = await strictApi.start({ type: 'http_request', params: { url: `http://device.lab.test:${webPort}/default` } });
    const done = await strictApi.finished(run.id);
    expect(done.status).toBe('failed');
    expect((await strictApi.output(run.id)).targets[0]!.error).toMatch(/egress refused: 127\.0\.0\.1 is a loopback address/);
    expect(webSeen).not.toContain('/default');
  });

  it("never reaches Opsdeck's own listener, even with loopback allowed: not by any literal form, a name, a target or a redirect", async () => {
    expect((await lab.app.inject({ method: 'GET', url: '/metrics' })).body).toContain(METRICS_MARK);
    for (const host of OWN_FORMS) {
      for (const path of ['/metrics', '/health']) {
        const res = await api.create({ type: 'http_request', params: { url: `http://${host}:${opsdeckPort}${path}` } });
        expect(res.statusCode, `${host} → ${res.body}`).toBe(422);
        expect(res.json().errors[0]).toMatchObject({ path: 'body.params.url', message: expect.stringMatching(/own listener|unspecified/) });
      }
    }
    const runs = [
      await api.start({ type: 'http_request', params: { url: `http://opsdeck.lab.test:${opsdeckPort}/metrics` } }),
      await api.start({ type: 'http_request', targets: ['127.0.0.1', '0.0.0.0', '2130706433'], params: { url: `http://{{target}}:${opsdeckPort}/metrics` } }),
      await api.start({ type: 'http_request', params: { url: `http://127.0.0.1:${webPort}/to-opsdeck`, max_redirects: 3 } }),
    ];
    for (const run of runs) {
      const done = await api.finished(run.id);
      expect(done.status, JSON.stringify(done)).toBe('failed');
      const out = await api.output(run.id);
      for (const t of out.targets) expect(t.error, JSON.stringify(t)).toMatch(/egress refused: .* (own listener|unspecified)/);
      const text = JSON.stringify(out) + JSON.stringify(await api.logs(run.id));
      expect(text).not.toContain(METRICS_MARK);
      expect(text).not.toContain('opsdeck_');
    }
    expect(webSeen).toContain('/to-opsdeck');
  });

  it('reaches a host name on Node 20 at the resolved, checked address (Host stays the name)', async () => {
    const run = await api.start({ type: 'http_request', params: { url: `http://device.lab.test:${webPort}/by-name` } });
    const done = await api.finished(run.id);
    expect(done.status, JSON.stringify(await api.output(run.id))).toBe('succeeded');
    expect((await api.output(run.id)).targets[0]!.output).toBe(`web peer saw device.lab.test:${webPort}`);
  });

  it('connects to the address it checked: a name rebinding to the receiver after the check never reaches it', async () => {
    const before = labDns.queries();
    const run = await api.start({ type: 'http_request', params: { url: `http://rebind.lab.test:${webPort}/rebound` } });
    const done = await api.finished(run.id);
    expect(done.status).toBe('failed');
    expect((await api.output(run.id)).targets[0]!.error).toMatch(/ECONNREFUSED 127\.0\.0\.2/);
    expect(labDns.queries() - before).toBe(1);
    expect(webSeen).not.toContain('/rebound');
  });

  it('refuses a template whose URL the policy refuses (create and update), naming body.params.url', async () => {
    const h = bearer(await adminToken(lab));
    const name = `egress-${mode.dialect}`;
    const bad = await lab.app.inject({
      method: 'POST',
      url: '/api/v1/jobs/templates',
      headers: h,
      payload: { name, type: 'http_request', params: { url: `http://[::ffff:169.254.169.254]/latest` } },
    });
    expect(bad.statusCode, bad.body).toBe(422);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['body.params.url']);
    const ok = await lab.app.inject({
      method: 'POST',
      url: '/api/v1/jobs/templates',
      headers: h,
      payload: { name, type: 'http_request', params: { url: `http://device.lab.test:${webPort}/` } },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const id = ok.json().id as string;
    const patched = await lab.app.inject({
      method: 'PATCH',
      url: `/api/v1/jobs/templates/${id}`,
      headers: h,
      payload: { params: { url: `http://0:${opsdeckPort}/metrics` } },
    });
    expect(patched.statusCode, patched.body).toBe(422);
    expect(patched.json().errors.map((e: { path: string }) => e.path)).toEqual(['body.params.url']);
    const kept = await lab.app.inject({ method: 'GET', url: `/api/v1/jobs/templates/${id}`, headers: h });
    expect(kept.json().params.url).toBe(`http://device.lab.test:${webPort}/`);
  });
});
