import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkOutboundUrl,
  checkOutboundUrlNow,
  createEgressPolicy,
  createOwnListeners,
  egressRequest,
  EgressRefusedError,
  pinnedLookup,
  type EgressOptions,
} from './index.js';

const NAMES: Record<string, string[]> = {
  'good.example': ['203.0.113.5'],
  'sneaky.example': ['203.0.113.5', '169.254.169.254'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'inside.example': ['10.1.2.3'],
  'device.lab.test': ['127.0.0.1'],
};
const resolve = async (host: string) => {
  const answer = NAMES[host];
  if (!answer) throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answer;
};
const OWN_PORT = 8000;
const policy = (o: Partial<EgressOptions> = {}) =>
  createEgressPolicy({ allow: [], deny: [], allowInternal: [], privateRanges: 'allow', listeners: createOwnListeners([OWN_PORT]), resolve, ...o });
const verdict = async (p: ReturnType<typeof policy>, url: string) => p.check(new URL(url));

// Every spelling WHATWG URL accepts for a loopback or unspecified host.
const LOOPBACK_FORMS = [
  '127.0.0.1',
  '2130706433',
  '0x7f000001',
  '0x7f.1',
  '0177.0.0.1',
  '127.1',
  '[::1]',
  '[::ffff:127.0.0.1]',
  '[::ffff:7f00:1]',
  '[::127.0.0.1]',
  '[64:ff9b::127.0.0.1]',
  '[::ffff:0:127.0.0.1]',
];
const UNSPECIFIED_FORMS = ['0', '0.0.0.0', '0x0', '[::]', '[::ffff:0.0.0.0]', '[::ffff:0:0]'];

describe('the egress policy', () => {
  it('refuses loopback and unspecified hosts in every literal form by default', async () => {
    const p = policy();
    for (const host of [...LOOPBACK_FORMS, ...UNSPECIFIED_FORMS]) {
      const url = `http://${host}:9/x`;
      expect((await verdict(p, url)).ok, url).toBe(false);
      expect(checkOutboundUrlNow(p, url), url).toMatchObject({ kind: 'denied' });
    }
  });

  it('refuses link-local and metadata addresses, also behind a name or an IPv4-mapped form', async () => {
    const p = policy();
    for (const url of [
      'http://169.254.169.254/latest',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://[fe80::1]/',
      'http://169.254.1.1/',
      'http://metadata.google.internal/',
      'http://sneaky.example/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
    ]) {
      expect((await verdict(p, url)).ok, url).toBe(false);
    }
    expect(await verdict(p, 'http://good.example/')).toEqual({ ok: true, addresses: [{ address: '203.0.113.5', family: 4 }] });
  });

  it('lets private ranges through for device work unless OPSDECK_EGRESS_PRIVATE=deny', async () => {
    for (const url of ['http://10.1.2.3/', 'http://172.16.0.1/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://[fd12::1]/', 'http://inside.example/']) {
      expect((await verdict(policy(), url)).ok, url).toBe(true);
      expect((await verdict(policy({ privateRanges: 'deny' }), url)).ok, url).toBe(false);
    }
    expect((await verdict(policy({ privateRanges: 'deny', allowInternal: ['10.1.0.0/16'] }), 'http://10.1.2.3/')).ok).toBe(true);
  });

  it('lets listed loopback addresses through OPSDECK_EGRESS_ALLOW_INTERNAL, never unspecified, metadata or its own ports', async () => {
    const p = policy({ allowInternal: ['127.0.0.0/8', '::1', '169.254.0.0/16'] });
    expect(await verdict(p, 'http://127.0.0.1:9/')).toMatchObject({ ok: true });
    expect(await verdict(p, 'http://mapped.example:9/')).toEqual({ ok: true, addresses: [{ address: '127.0.0.1', family: 4 }] });
    expect(await verdict(p, 'http://[::1]:9/')).toMatchObject({ ok: true });
    for (const host of UNSPECIFIED_FORMS) expect((await verdict(p, `http://${host}:9/`)).ok, host).toBe(false);
    expect((await verdict(p, 'http://169.254.169.254/')).ok).toBe(false);
    for (const host of [...LOOPBACK_FORMS, ...UNSPECIFIED_FORMS, 'device.lab.test']) {
      const url = `http://${host}:${OWN_PORT}/metrics`;
      const v = await verdict(p, url);
      expect(v.ok, url).toBe(false);
      // Without DNS, save time judges literal hosts only.
      if (host !== 'device.lab.test') expect(checkOutboundUrlNow(p, url), url).not.toBeNull();
    }
    expect((await verdict(p, 'http://127.0.0.1:80/')).ok).toBe(true);
    p.listeners.add(80);
    expect(await verdict(p, 'http://127.0.0.1/')).toMatchObject({ ok: false, reason: expect.stringMatching(/own listener/) });
  });

  it('applies the deny list, then the allow list, to names and addresses', async () => {
    const p = policy({ allow: ['*.example', '203.0.113.0/24'], deny: ['10.0.0.0/8', 'bad.example'] });
    expect((await verdict(p, 'http://inside.example/')).ok).toBe(false);
    expect(checkOutboundUrlNow(p, 'http://bad.example/')).toMatchObject({ kind: 'denied' });
    expect(checkOutboundUrlNow(p, 'http://BAD.example./')).toMatchObject({ kind: 'denied' });
    expect(checkOutboundUrlNow(policy(), 'http://metadata.google.internal./')).toMatchObject({ kind: 'denied' });
    expect((await verdict(p, 'http://good.example/')).ok).toBe(true);
    expect((await verdict(p, 'http://203.0.113.9/')).ok).toBe(true);
    expect((await verdict(p, 'http://198.51.100.1/')).ok).toBe(false);
  });

  it('reports names that do not resolve (retryable unless NXDOMAIN) and checks names at save time through the resolver', async () => {
    expect(await verdict(policy(), 'http://nowhere.test/')).toMatchObject({ ok: false, retryable: false });
    const flaky = policy({ resolve: () => Promise.reject(Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' })) });
    expect(await verdict(flaky, 'http://good.example/')).toMatchObject({ ok: false, retryable: true });
    expect(await checkOutboundUrl(policy(), 'http://device.lab.test:9/')).toMatchObject({ kind: 'denied' });
    expect(await checkOutboundUrl(policy(), 'ftp://good.example/')).toMatchObject({ kind: 'invalid' });
    expect(await checkOutboundUrl(policy(), 'http://u:p@good.example/')).toMatchObject({ kind: 'invalid' });
    expect(await checkOutboundUrl(policy(), 'https://good.example/')).toBeNull();
  });
});

describe('pinnedLookup', () => {
  it('answers an array when asked for all addresses (Node 20 happy eyeballs) and one address otherwise', () => {
    const lookup = pinnedLookup([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    const calls: unknown[][] = [];
    lookup('device.lab.test', { all: true }, (...args: unknown[]) => calls.push(args));
    lookup('device.lab.test', {}, (...args: unknown[]) => calls.push(args));
    lookup('device.lab.test', { family: 6 }, (...args: unknown[]) => calls.push(args));
    expect(calls).toEqual([
      [
        null,
        [
          { address: '127.0.0.1', family: 4 },
          { address: '::1', family: 6 },
        ],
      ],
      [null, '127.0.0.1', 4],
      [null, '::1', 6],
    ]);
  });
});

describe('egressRequest', () => {
  let web: http.Server;
  let base: string;
  const seen: { url: string; authorization: string | undefined; host: string | undefined }[] = [];
  beforeAll(async () => {
    web = http.createServer((req, res) => {
      seen.push({ url: req.url!, authorization: req.headers.authorization, host: req.headers.host });
      const hop = /^\/hop\/(\d+)$/.exec(req.url!);
      if (hop) return void res.writeHead(302, { location: Number(hop[1]) > 0 ? `/hop/${Number(hop[1]) - 1}` : '/done' }).end();
      if (req.url === '/to-unspecified') return void res.writeHead(301, { location: `http://0.0.0.0:${(web.address() as AddressInfo).port}/done` }).end();
      if (req.url === '/to-other-origin') {
        return void res.writeHead(307, { location: `http://device.lab.test:${(web.address() as AddressInfo).port}/done` }).end();
      }
      res.end('done');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => web.close(() => r())));
  const lab = () => policy({ allowInternal: ['127.0.0.1/32'] });
  const get = (p: ReturnType<typeof policy>, url: string, maxRedirects = 5) =>
    egressRequest(p, new URL(url), { method: 'GET', headers: { authorization: 'Bearer t0ken' }, timeoutMs: 5000, maxBodyBytes: 1000, maxRedirects });

  it('reaches a host name on Node 20 at the address the resolver gave, with Host still the name', async () => {
    const port = (web.address() as AddressInfo).port;
    const res = await get(lab(), `http://device.lab.test:${port}/plain`);
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ url: '/plain', host: `device.lab.test:${port}` });
  });

  it('connects to the address it checked: a resolver that rebinds to loopback on the second query is never asked again', async () => {
    const port = (web.address() as AddressInfo).port;
    let queries = 0;
    // First answer: an allowed address nothing listens on (127.0.0.2); later answers: the receiver.
    const rebinding = policy({ allowInternal: ['127.0.0.2/32'], resolve: async () => (queries++ === 0 ? ['127.0.0.2'] : ['127.0.0.1']) });
    const before = seen.length;
    await expect(get(rebinding, `http://rebind.test:${port}/secret`)).rejects.toThrow(/ECONNREFUSED/);
    expect(queries).toBe(1);
    expect(seen.length).toBe(before);
  });

  it('follows redirects up to the limit, checking every hop, and drops credentials on another origin', async () => {
    const res = await get(lab(), `${base}/hop/2`);
    expect(res).toMatchObject({ status: 200 });
    expect(res.body.toString()).toBe('done');
    expect((await get(lab(), `${base}/hop/2`, 1)).status).toBe(302);
    await expect(get(lab(), `${base}/to-unspecified`)).rejects.toBeInstanceOf(EgressRefusedError);
    expect(seen.some((s) => s.url === '/done' && s.host?.startsWith('0.0.0.0'))).toBe(false);
    await get(lab(), `${base}/to-other-origin`);
    expect(seen.at(-1)).toMatchObject({ url: '/done', authorization: undefined });
    expect(seen.at(-2)).toMatchObject({ url: '/to-other-origin', authorization: 'Bearer t0ken' });
  });
});
