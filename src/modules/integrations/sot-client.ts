import { egressRequest, EgressRefusedError, type EgressPolicy } from '../../platform/egress/index.js';
import { NotFoundError, UpstreamError, ValidationError } from '../../platform/errors.js';
import type { Cache } from '../../platform/cache/index.js';

export const SYSTEMS = ['nautobot', 'netbox'] as const;
export type System = (typeof SYSTEMS)[number];

/** The `{count, next, previous, results}` envelope both NetBox and Nautobot page lists with. */
export interface PageEnvelope<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface SotClientOptions {
  system: System;
  baseUrl: string;
  token: string;
  timeoutMs: number;
  verifyTls: boolean;
  caCert: string | null;
  egress: EgressPolicy;
  /** Attempts after the first on 429 / 5xx / a dropped connection (default 4). */
  retries?: number;
  /** First back-off; doubles per attempt, capped at `maxBackoffMs`, `Retry-After` wins when sent (default 500 ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Page size asked for when listing (default 1000, the NetBox MAX_PAGE_SIZE default). */
  pageSize?: number;
  /** Reference objects (platforms, roles, statuses, locations, namespaces) are read through it, per object kind, and dropped on writes to that kind. */
  cache?: Pick<Cache, 'wrap' | 'invalidateTag'>;
  cacheTtlMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | readonly (string | number)[] | undefined>;
interface Call {
  query?: Query | undefined;
  body?: unknown;
}

const MAX_BODY = 64 * 1024 * 1024;
/** The method may be repeated after a 5xx: the server may have done a POST already, so a POST is retried only where it did not (429, 503). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);
const RETRY_ANY = new Set([429, 503]);

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
  });

function retryAfterMs(header: string | string[] | undefined): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return null;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** An upstream error body (`{"detail": …}` or DRF's `{"field": ["message"]}`) as short text, never echoing headers or the token. */
export function describeErrorBody(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const o = parsed as Record<string, unknown>;
      if (typeof o.detail === 'string') return o.detail.slice(0, 500);
      return Object.entries(o)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map(String).join(' ') : JSON.stringify(v)}`)
        .join('; ')
        .slice(0, 500);
    }
    return JSON.stringify(parsed).slice(0, 500);
  } catch {
    return body.toString('utf8').slice(0, 200);
  }
}

const KIND_OF_PATH = /^\/api\/([a-z-]+)\/([a-z0-9-]+)\//;
const kindTag = (system: System, path: string) => {
  const m = KIND_OF_PATH.exec(path);
  return `integrations:${system}:${m ? `${m[1]}/${m[2]}` : path}`;
};

/**
 * A typed REST (and Nautobot GraphQL) client for NetBox 4.x and Nautobot 2.x/3.x: every
 * exchange goes through the egress policy, with the connection's timeout and TLS settings;
 * 429 and 5xx are retried with exponential back-off (honouring `Retry-After`); lists follow
 * the `next` links of the page envelope. Errors are `AppError`s whose messages never carry the token.
 */
export function createSotClient(o: SotClientOptions) {
  const base = new URL(o.baseUrl.endsWith('/') ? o.baseUrl : `${o.baseUrl}/`);
  const retries = o.retries ?? 4;
  const backoff = o.backoffMs ?? 500;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  const sleep = o.sleep ?? defaultSleep;
  const pageSize = o.pageSize ?? 1000;
  const headers = { authorization: `Token ${o.token}`, accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'opsdeck-integrations' };
  const tls = { ca: o.caCert ?? undefined, rejectUnauthorized: o.verifyTls };

  function urlOf(path: string, query?: Query): URL {
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
    }
    return url;
  }

  async function exchange(method: string, url: URL, body: unknown): Promise<{ status: number; body: Buffer }> {
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await egressRequest(o.egress, url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          timeoutMs: o.timeoutMs,
          signal: o.signal,
          maxBodyBytes: MAX_BODY,
          tls,
        });
      } catch (err) {
        if (err instanceof EgressRefusedError && !err.retryable) throw new UpstreamError('INTEGRATION_EGRESS_REFUSED', `${o.system}: ${err.message}`);
        if (o.signal?.aborted || attempt >= retries || !IDEMPOTENT.has(method)) {
          throw new UpstreamError('INTEGRATION_UNREACHABLE', `${o.system} did not answer: ${(err as Error).message}`);
        }
        await sleep(Math.min(maxBackoff, backoff * 2 ** attempt), o.signal);
        continue;
      }
      const again = res.status === 429 || (res.status >= 500 && (IDEMPOTENT.has(method) || RETRY_ANY.has(res.status)));
      if (!again || attempt >= retries) return res;
      await sleep(Math.min(maxBackoff, retryAfterMs(res.headers['retry-after']) ?? backoff * 2 ** attempt), o.signal);
    }
  }

  async function call<T>(method: string, path: string, c: Call = {}): Promise<T> {
    const url = urlOf(path, c.query);
    const res = await exchange(method, url, c.body);
    if (res.status >= 200 && res.status < 300) return (res.status === 204 || res.body.length === 0 ? null : JSON.parse(res.body.toString('utf8'))) as T;
    const detail = describeErrorBody(res.body);
    if (res.status === 401 || res.status === 403) {
      throw new UpstreamError('INTEGRATION_AUTH_FAILED', `${o.system} refused the token (${res.status}): ${detail}`);
    }
    if (res.status === 404) throw new NotFoundError('INTEGRATION_OBJECT_NOT_FOUND', `${o.system} has no ${path}`);
    if (res.status === 400) throw new ValidationError('INTEGRATION_REJECTED', `${o.system} rejected ${method} ${path}: ${detail}`);
    if (res.status === 429) throw new UpstreamError('INTEGRATION_THROTTLED', `${o.system} kept answering 429 after ${retries + 1} attempts`);
    throw new UpstreamError('INTEGRATION_UPSTREAM_ERROR', `${o.system} answered ${res.status} to ${method} ${path}: ${detail}`);
  }

  /** Pages of a list, following `next` while it stays on the configured origin. */
  async function* pages<T>(path: string, query: Query = {}): AsyncGenerator<PageEnvelope<T>> {
    let next: string | null = urlOf(path, { limit: pageSize, ...query }).toString();
    while (next) {
      const url: URL = new URL(next);
      if (url.origin !== base.origin) throw new UpstreamError('INTEGRATION_BAD_PAGE', `${o.system} pointed the next page to another origin`);
      const page: PageEnvelope<T> = await call<PageEnvelope<T>>('GET', url.pathname + url.search);
      yield page;
      next = page.next;
    }
  }

  async function all<T>(path: string, query: Query = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const page of pages<T>(path, query)) out.push(...page.results);
    return out;
  }

  async function write<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    try {
      return await call<T>(method, path, { body });
    } finally {
      await o.cache?.invalidateTag(kindTag(o.system, path));
    }
  }

  return {
    system: o.system,
    get: <T>(path: string, query?: Query) => call<T>('GET', path, { query }),
    pages,
    all,
    /** A full list through the cache (per object kind, `cacheTtlMs`), for reference data. */
    cachedAll: <T>(path: string, query: Query = {}): Promise<T[]> =>
      o.cache
        ? o.cache.wrap(
            `${kindTag(o.system, path)}:${new URLSearchParams(query as Record<string, string>).toString()}`,
            { ttlMs: o.cacheTtlMs ?? 60_000, tags: [kindTag(o.system, path)] },
            () => all<T>(path, query),
          )
        : all<T>(path, query),
    create: <T>(path: string, body: unknown) => write<T>('POST', path, body),
    update: <T>(path: string, body: unknown) => write<T>('PATCH', path, body),
    remove: (path: string) => write<null>('DELETE', path),
    /** Nautobot's GraphQL endpoint: `data`, or the first of `errors` as an UpstreamError. */
    async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const r = await call<{ data?: T; errors?: { message: string }[] }>('POST', '/api/graphql/', { body: { query, variables } });
      if (r.errors?.length) {
        throw new UpstreamError(
          'INTEGRATION_GRAPHQL_ERROR',
          `${o.system} GraphQL: ${r.errors
            .map((e) => e.message)
            .join('; ')
            .slice(0, 500)}`,
        );
      }
      return r.data as T;
    },
  };
}

export type SotClient = ReturnType<typeof createSotClient>;
