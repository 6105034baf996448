import { Type, type Static } from 'typebox';
import { checkOutboundUrlNow, egressRequest, EgressRefusedError } from '../../../platform/egress/index.js';
import type { Executor } from './executor.js';
import { classifyHttpStatus, PermanentError } from './failure.fns.js';
import { truncate } from './text.fns.js';

const SENSITIVE_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];

const Params = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 4096, description: 'http(s) URL; `{{target}}` is replaced by each target' }),
    method: Type.Optional(Type.Union(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => Type.Literal(m)))),
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 200, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Type.String({ maxLength: 8192 }))),
    body: Type.Optional(Type.String({ maxLength: 1_048_576 })),
    expected_status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, maxItems: 50, description: 'Default: any 2xx' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000, description: '(10000)' })),
    max_redirects: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10,
        description: 'Redirects followed, each hop checked by the egress policy again (0: a 3xx is the answer; credentials are not sent to another origin)',
      }),
    ),
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
  check(p, settings) {
    const errors = [];
    // `{{target}}` is only known at run time; then every hop's resolved address is checked.
    const problem = checkOutboundUrlNow(settings.egress, p.url.replace(/\{\{\s*target\s*\}\}/g, 'target.invalid'));
    if (problem) errors.push({ path: 'body.params.url', message: problem.kind === 'denied' ? `egress refused: ${problem.message}` : problem.message });
    for (const name of Object.keys(p.headers ?? {})) {
      if (SENSITIVE_HEADERS.includes(name.toLowerCase())) {
        errors.push({ path: `body.params.headers.${name}`, message: 'secret headers come from credential_id, not parameters' });
      }
    }
    return errors;
  },
  async run(ctx, p, settings) {
    const url = new URL(p.url.replace(/\{\{\s*target\s*\}\}/g, ctx.host));
    const headers: Record<string, string> = { ...(p.headers ?? {}) };
    const credentialHeader = ctx.credential?.token && ctx.credential.headerName ? ctx.credential.headerName.toLowerCase() : null;
    if (credentialHeader) headers[credentialHeader] = ctx.credential!.token!;
    else {
      const auth = authHeader(ctx);
      if (auth) headers.authorization = auth;
    }
    const method = p.method ?? 'GET';
    const timeoutMs = p.timeout_ms ?? 10_000;
    ctx.log('info', `${method} ${url.origin}${url.pathname}`);
    let res;
    try {
      res = await egressRequest(settings.egress, url, {
        method,
        headers,
        body: p.body,
        timeoutMs,
        signal: ctx.signal,
        maxBodyBytes: p.max_body_bytes ?? 1_048_576,
        maxRedirects: p.max_redirects ?? 0,
        originBoundHeaders: credentialHeader ? [credentialHeader] : [],
        onRedirect: (status, to) => ctx.log('info', `HTTP ${status} → ${to.origin}${to.pathname}`),
      });
    } catch (err) {
      if (!(err instanceof EgressRefusedError)) throw err;
      throw err.retryable ? err : new PermanentError(err.reason.startsWith('cannot resolve') ? 'dns' : 'policy', err.message);
    }
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== 'set-cookie') h[k] = Array.isArray(v) ? v.join(', ') : v;
    const parsed = { status: res.status, headers: h, body: res.body.toString('utf8') };
    const ok = p.expected_status ? p.expected_status.includes(res.status) : res.status >= 200 && res.status < 300;
    ctx.log(ok ? 'info' : 'warn', `HTTP ${res.status}`);
    return {
      ok,
      output: truncate(parsed.body, settings.maxOutputChars),
      parsed,
      ...(ok ? {} : { error: `unexpected status ${res.status}`, retryable: classifyHttpStatus(res.status).retryable }),
    };
  },
};
