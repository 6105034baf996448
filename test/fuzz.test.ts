import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './helpers/db.js';
import { createTestServer, type TestServer } from './helpers/server.js';
import { adminToken, bearer } from './helpers/auth.js';
import { filterKeys } from './helpers/openapi.js';
import { FILTERS_PARAMETER } from '../src/platform/http/openapi.js';

/**
 * Schema-driven fuzzing of every OpenAPI operation: each parameter and body field in turn gets
 * a hostile value (a NUL character, an unpaired surrogate, numbers past every bound, deep
 * nesting) while the rest of the request is valid, so the hostile value reaches as far into the
 * handler as the schema lets it. Bad input must be a 4xx: any answer of 500 or more is a bug.
 * The budget is bounded (a fixed set of values per field), so the run's length is too.
 */
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  format?: string;
  minimum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  patternProperties?: Record<string, Schema>;
  $ref?: string;
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Schema };
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses?: Record<string, unknown>;
};
type Spec = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

const HOSTILE_STRINGS = ['a\u0000b', '\ud800x', 'x\udc00', '\u0000', '%', '%FF'];
const HOSTILE_NUMBERS = ['2147483648', '-2147483649', '9223372036854775808', '1e400', '-1e400', '1e-400', '99999999999999999999999', 'NaN', '-0', '0.5'];
const HOSTILE_JSON_NUMBERS = [2147483648, -2147483649, 2 ** 63, 1e308, -1e308, 0.5, -1];

function resolve(spec: Spec, schema: Schema | undefined): Schema {
  if (!schema) return {};
  if (schema.$ref) return resolve(spec, spec.components?.schemas?.[schema.$ref.split('/').pop()!]);
  return schema;
}

function firstType(schema: Schema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  return schema.type;
}

/** A value the schema accepts, as plain as possible (depth-bounded). */
function valid(spec: Spec, raw: Schema | undefined, depth = 0): unknown {
  const schema = resolve(spec, raw);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const alt = schema.anyOf ?? schema.oneOf;
  if (alt) return valid(spec, alt.find((s) => resolve(spec, s).type !== 'null') ?? alt[0], depth);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => valid(spec, s, depth)));
  switch (firstType(schema)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth > 6) return out;
      for (const key of schema.required ?? []) out[key] = valid(spec, schema.properties?.[key], depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => valid(spec, schema.items, depth + 1));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return validString(schema);
  }
}

function validString(schema: Schema): string {
  switch (schema.format) {
    case 'uuid':
      return '0192f0a0-1111-7000-8000-00000000f022';
    case 'date-time':
      return new Date().toISOString();
    case 'email':
      return 'fuzz@example.com';
    case 'ipv4':
      return '192.0.2.10';
    case 'uri':
      // Loopback, never a name: a URL the server checks (webhooks) must not make it ask the machine's DNS.
      return 'http://127.0.0.1:9/fuzz';
    default:
      return 'fuzz'.padEnd(schema.minLength ?? 4, 'z');
  }
}

/** Body variants: each top-level field (and one level down) replaced by each hostile value. */
function bodyVariants(spec: Spec, raw: Schema): { label: string; body: unknown }[] {
  const schema = resolve(spec, raw);
  const base = valid(spec, schema);
  const out: { label: string; body: unknown }[] = [];
  out.push({ label: 'nested 10,000 deep', body: new RawJson(`${'['.repeat(10_000)}1${']'.repeat(10_000)}`) });
  out.push({ label: 'objects nested 10,000 deep', body: new RawJson(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`) });
  if (firstType(schema) !== 'object' || !schema.properties) return out;
  for (const [key, propRaw] of Object.entries(schema.properties)) {
    const prop = resolve(spec, propRaw);
    const hostile: unknown[] = [...HOSTILE_STRINGS, ...HOSTILE_JSON_NUMBERS];
    if (firstType(prop) === 'array') hostile.push(...HOSTILE_STRINGS.map((s) => [s]), HOSTILE_JSON_NUMBERS);
    if (firstType(prop) === 'object') {
      hostile.push(Object.fromEntries(HOSTILE_STRINGS.map((s, i) => [`k${i}`, s])), { 'a\u0000': 1 });
      for (const [inner, innerRaw] of Object.entries(prop.properties ?? {})) {
        for (const v of [...HOSTILE_STRINGS.slice(0, 2), ...HOSTILE_JSON_NUMBERS.slice(0, 4)]) {
          const nested = { ...(valid(spec, prop) as object), [inner]: v };
          out.push({ label: `${key}.${inner}=${JSON.stringify(v)}`, body: { ...(base as object), [key]: nested } });
        }
        void innerRaw;
      }
    }
    for (const v of hostile) out.push({ label: `${key}=${JSON.stringify(v)}`, body: { ...(base as object), [key]: v } });
  }
  return out;
}

/** Percent-encoding that also encodes a lone surrogate (as its WTF-8 bytes), which encodeURIComponent refuses. */
function enc(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** JSON text sent as it is (a value too deep for JSON.stringify). */
class RawJson {
  constructor(readonly text: string) {}
}

function fillPath(path: string, params: Parameter[], override?: { name: string; value: string }): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (override?.name === name) return enc(override.value);
    const p = params.find((x) => x.name === name);
    return encodeURIComponent(p?.schema.format === 'uuid' || /id$/.test(name) ? '0192f0a0-1111-7000-8000-00000000f023' : 'fuzz');
  });
}

describe.each(DIALECTS)('fuzzing every operation on %s', (dialect) => {
  let server: TestServer;
  let headers: Record<string, string>;
  let spec: Spec;
  beforeAll(async () => {
    // Operations that test a connection (SMTP, egress, Git, integrations) get hostile hosts such as
    // '2147483648' (128.0.0.0): the server resolves no name and may reach nothing outside.
    server = await createTestServer(dialect, {
      env: { OPSDECK_EGRESS_ALLOW: 'fuzz.invalid' },
      resolve: async (host) => {
        throw new Error(`the fuzz server resolves no names (${host})`);
      },
    });
    const admin = bearer(await adminToken(server));
    // An API key, so an operation that ends sessions (logout, password) does not end the fuzzing.
    const key = await server.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'fuzz', role: 'admin' } });
    headers = { 'x-api-key': key.json().key };
    spec = (await server.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  });
  afterAll(async () => server?.close());

  it('names the field: NUL, a lone surrogate, a number past the double range, nesting past the limit', async () => {
    const post = (payload: string, url = '/api/v1/tags') =>
      server.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload });
    const cases: [string, string, string][] = [
      ['{"name":"a\\u0000b","slug":"ab"}', '/api/v1/tags', 'body.name'],
      ['{"name":"ok","slug":"ok","description":"\\ud800"}', '/api/v1/tags', 'body.description'],
      [`{"name":"deep","slug":"deep","x":${'['.repeat(65)}${']'.repeat(65)}}`, '/api/v1/tags', 'body'],
    ];
    for (const [payload, url, path] of cases) {
      const res = await post(payload, url);
      expect(res.statusCode, payload.slice(0, 60)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const limit = await server.app.inject({ method: 'GET', url: '/api/v1/tags?limit=1e400', headers });
    expect(limit.statusCode).toBe(400);
    expect(limit.json().errors[0].path).toBe('query.limit');
    const mtu = await server.app.inject({ method: 'GET', url: '/api/v1/interfaces?mtu__gte=2147483648', headers });
    expect(mtu.statusCode).toBe(400);
    expect(mtu.json().errors[0].path).toBe('query.mtu__gte');
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/tags?q=a%00b', headers })).statusCode).toBe(400);
  });

  it('answers every hostile request below 500', async () => {
    const failures: string[] = [];
    let sent = 0;
    let streaming = false;
    const send = async (method: string, url: string, label: string, payload?: unknown) => {
      sent++;
      const answer = server.app.inject({
        method: method.toUpperCase() as 'GET',
        url,
        headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(payload !== undefined ? { payload: payload instanceof RawJson ? payload.text : JSON.stringify(payload) } : {}),
        // A Server-Sent Events route that accepts streams until the client leaves: its answer is
        // the status line, read as soon as the headers are out; the stream is then closed.
        ...(streaming ? { payloadAsStream: true } : {}),
      });
      const res = await Promise.race([answer, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000).unref())]);
      if (res === null) {
        failures.push(`no answer within 5 s: ${method.toUpperCase()} ${url} [${label}]`);
        return;
      }
      const text = streaming ? '' : res.body;
      if (streaming) res.raw.res.destroy();
      if (res.statusCode >= 500) failures.push(`${res.statusCode} ${method.toUpperCase()} ${url} [${label}] ${text.slice(0, 200)}`);
    };
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        // Ending the server's own process or the caller's key is out of scope.
        if (path.includes('/api-keys/{') && method === 'delete') continue;
        const params = op.parameters ?? [];
        streaming = JSON.stringify(op.responses?.['200'] ?? {}).includes('text/event-stream');
        const url = `${fillPath(path, params)}`;
        for (const p of params.filter((x) => x.in === 'path')) {
          for (const v of HOSTILE_STRINGS) await send(method, fillPath(path, params, { name: p.name, value: v }), `path ${p.name}`);
        }
        // The `filters` object parameter stands for one query key per field and lookup: each gets the hostile values.
        const queryKeys = params.filter((x) => x.in === 'query').flatMap((x) => (x.name === FILTERS_PARAMETER ? filterKeys(x.schema) : [x.name]));
        for (const key of queryKeys) {
          for (const v of [...HOSTILE_STRINGS, ...HOSTILE_NUMBERS]) await send(method, `${url}?${enc(key)}=${enc(v)}`, `query ${key}`);
        }
        const body = op.requestBody?.content['application/json']?.schema;
        if (body) for (const v of bodyVariants(spec, body)) await send(method, url, `body ${v.label}`, v.body);
      }
    }
    expect(sent).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 600_000);
});
