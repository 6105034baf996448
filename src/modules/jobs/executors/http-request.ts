import http from 'node:http';
import https from 'node:https';
import { Type, type Static } from 'typebox';
import { createEgressPolicy } from '../egress.js';
import type { Executor } from './executor.js';
import { classifyHttpStatus, PermanentError } from './failure.fns.js';
import { truncate } from './text.fns.js';

const SENSITIVE_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];

const Params = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 4096, description: 'http(s) URL; `{{target}}` is replaced by each target' }),
    method: Type.Optional(Type.Union(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => Type.Literal(m)))),
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String({ maxLength: 8192 }))),
    body: Type.Optional(Type.String({ maxLength: 1_048_576 })),
    expected_status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, maxItems: 50, description: 'Default: any 2xx' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000, description: '(10000)' })),
    max_body_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_485_760, description: 'Response bytes kept (1048576)' })),
    changes_devices: Type.Optional(Type.Boolean({ description: 'Declare the request as changing the target (never re-run after a lost worker)' })),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

function authHeader(ctx: { credential: { token?: string; username?: string; password?: string } | null }): string | undefined {
  const c = ctx.credential;
  if (c?.token) return `Bearer ${c.token}`;
  if (c?.username !== undefined && c.password !== undefined) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  return undefined;
}

/** One HTTP request per target (or one without targets) through the egress policy. */
export const httpRequestExecutor: Executor<Params> = {
  type: 'http_request',
  description: 'An HTTP request (method, URL, headers, body, expected status) through the egress policy; credentials become Bearer or Basic auth.',
  params: Params,
  output: Type.Object({ status: Type.Integer(), headers: Type.Record(Type.String(), Type.String()), body: Type.String() }),
  credential: 'optional',
  targets: 'optional',
  changesDevices: (p) => p.changes_devices === true || !['GET', 'HEAD', 'OPTIONS', undefined].includes(p.method),
  check(p) {
    const errors = [];
    try {
      const u = new URL(p.url.replace(/\{\{\s*target\s*\}\}/g, 'target.invalid'));
      if (u.protocol !== 'http:' && u.protocol !== 'https:') errors.push({ path: 'body.params.url', message: 'only http:// and https:// URLs are allowed' });
      if (u.username || u.password) errors.push({ path: 'body.params.url', message: 'put credentials in a credential, not the URL' });
    } catch {
      errors.push({ path: 'body.params.url', message: 'not a valid URL' });
    }
    for (const name of Object.keys(p.headers ?? {})) {
      if (SENSITIVE_HEADERS.includes(name.toLowerCase())) errors.push({ path: `body.params.headers.${name}`, message: 'secret headers come from credential_id, not parameters' });
    }
    return errors;
  },
  async run(ctx, p, settings) {
    const url = new URL(p.url.replace(/\{\{\s*target\s*\}\}/g, ctx.host));
    const egress = createEgressPolicy(settings.egress);
    const verdict = await egress.check(url.hostname);
    if (!verdict.ok) {
      const message = `egress refused: ${verdict.reason}`;
      throw verdict.retryable ? new Error(message) : new PermanentError(verdict.reason.startsWith('cannot resolve') ? 'dns' : 'policy', message);
    }
    const headers: Record<string, string> = { ...(p.headers ?? {}) };
    if (ctx.credential?.token && ctx.credential.headerName) headers[ctx.credential.headerName.toLowerCase()] = ctx.credential.token;
    else {
      const auth = authHeader(ctx);
      if (auth) headers.authorization = auth;
    }
    const max = p.max_body_bytes ?? 1_048_576;
    const method = p.method ?? 'GET';
    ctx.log('info', `${method} ${url.origin}${url.pathname}`);
    const res = await new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        {
          method,
          headers,
          signal: ctx.signal,
          timeout: p.timeout_ms ?? 10_000,
          // Connect to the address the policy approved, not a second DNS answer.
          lookup: (_h, _o, cb) => (cb as (e: null, a: string, f: number) => void)(null, verdict.address, verdict.family),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (c: Buffer) => {
            if (size < max) chunks.push(c.subarray(0, max - size));
            size += c.length;
          });
          response.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(response.headers)) if (v !== undefined && !['set-cookie'].includes(k)) h[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: response.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString('utf8') });
          });
          response.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no response within ${p.timeout_ms ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(p.body);
    });
    const ok = p.expected_status ? p.expected_status.includes(res.status) : res.status >= 200 && res.status < 300;
    ctx.log(ok ? 'info' : 'warn', `HTTP ${res.status}`);
    return { ok, output: truncate(res.body, settings.maxOutputChars), parsed: res, ...(ok ? {} : { error: `unexpected status ${res.status}`, retryable: classifyHttpStatus(res.status).retryable }) };
  },
};
