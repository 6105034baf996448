import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { EgressPolicy, ResolvedAddress } from './policy.js';

/**
 * A `lookup` for `http.request` that answers only the addresses the policy checked, so the
 * connection goes where the check looked (DNS rebinding between check and connect changes
 * nothing); TLS SNI and `Host` stay the URL's name. Honours `options.all`: Node 20's
 * happy-eyeballs connect (`autoSelectFamily`) asks for every address and expects an array.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const usable = addresses.filter((a) => family === 0 || a.family === family);
    const first = usable[0];
    if (!first) {
      callback(Object.assign(new Error(`no checked IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) {
      callback(
        null,
        usable.map((a) => ({ ...a })),
      );
    } else callback(null, first.address, first.family);
  };
}

/** The policy refused a hop; `retryable` only when the resolver did not answer. */
export class EgressRefusedError extends Error {
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
  ) {
    super(`egress refused: ${reason}`);
    this.name = 'EgressRefusedError';
  }
}

export interface EgressRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Whole exchange, every hop included. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Response bytes kept (the rest is read and dropped). */
  maxBodyBytes: number;
  /** Redirects followed, each hop checked again (0: a 3xx is the answer). */
  maxRedirects?: number;
  /** Headers dropped when a redirect leaves the origin (credentials). */
  originBoundHeaders?: readonly string[];
  onRedirect?: (status: number, to: URL) => void;
  /** HTTPS only: a PEM CA bundle to trust instead of the system's, or `rejectUnauthorized: false` (verify TLS off). */
  tls?: { ca?: string | undefined; rejectUnauthorized?: boolean | undefined } | undefined;
}

export interface EgressResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: URL;
}

const REDIRECTS = [301, 302, 303, 307, 308];
const ALWAYS_ORIGIN_BOUND = ['authorization', 'proxy-authorization', 'cookie'];

function once(url: URL, addresses: readonly ResolvedAddress[], req: EgressRequest, signal: AbortSignal): Promise<EgressResponse> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const headers =
      req.body !== undefined && !Object.keys(req.headers).some((h) => h.toLowerCase() === 'content-length')
        ? { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) }
        : req.headers;
    const tls =
      url.protocol === 'https:' && req.tls
        ? { ...(req.tls.ca ? { ca: req.tls.ca } : {}), ...(req.tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) }
        : {};
    const r = lib.request(url, { method: req.method, headers, signal, lookup: pinnedLookup(addresses), agent: false, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < req.maxBodyBytes) chunks.push(c.subarray(0, req.maxBodyBytes - size));
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * One outbound HTTP exchange through the policy: every hop's host is checked and connected to
 * at the checked addresses only; redirects (up to `maxRedirects`) are followed like a browser
 * (303, and 301/302 after a POST, become a GET without body), dropping credential headers when
 * the origin changes. Throws `EgressRefusedError` when a hop is refused.
 */
export async function egressRequest(policy: EgressPolicy, start: URL, req: EgressRequest): Promise<EgressResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  let url = start;
  let current = req;
  for (let hop = 0; ; hop += 1) {
    const verdict = await policy.check(url);
    if (!verdict.ok) throw new EgressRefusedError(verdict.reason, verdict.retryable === true);
    let res: EgressResponse;
    try {
      res = await once(url, verdict.addresses, current, signal);
    } catch (err) {
      if (timeout.aborted) throw new Error(`no response within ${req.timeoutMs} ms`, { cause: err });
      throw err;
    }
    const location = res.headers.location;
    if (!REDIRECTS.includes(res.status) || !location || hop >= (req.maxRedirects ?? 0)) return res;
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return res;
    req.onRedirect?.(res.status, next);
    const headers = { ...current.headers };
    const bound = [...ALWAYS_ORIGIN_BOUND, ...(req.originBoundHeaders ?? [])].map((h) => h.toLowerCase());
    const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && current.method === 'POST');
    for (const h of Object.keys(headers)) {
      const name = h.toLowerCase();
      if ((next.origin !== url.origin && bound.includes(name)) || (toGet && (name === 'content-type' || name === 'content-length'))) delete headers[h];
    }
    current = { ...current, headers, ...(toGet ? { method: current.method === 'HEAD' ? 'HEAD' : 'GET', body: undefined } : {}) };
    url = next;
  }
}
