import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { buildPlainApp } from '../../../test/helpers/http-app.js';
import type { App } from '../../app.js';
import { ConflictError } from '../errors.js';
import { errorResponses } from './schemas.js';
import { UnauthorizedError } from '../errors.js';

const Widget = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 20 }),
    size: Type.Integer({ minimum: 1, maximum: 10 }),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 10 }))),
  },
  { additionalProperties: false },
);

const widgets: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/widgets',
    { config: { permission: 'widgets:write' }, schema: { operationId: 'createWidget', body: Widget, response: { 201: Widget, ...errorResponses(409) } } },
    async (req, reply) => {
      if (req.body.name === 'taken') {
        throw new ConflictError('WIDGET_NAME_TAKEN', 'A widget with this name exists', [{ path: 'body.name', message: 'already exists' }]);
      }
      return reply.code(201).send(req.body);
    },
  );
  app.get(
    '/widgets/big',
    { config: { permission: 'widgets:read' }, schema: { operationId: 'bigWidgets', response: { 200: Type.Object({ items: Type.Array(Widget) }) } } },
    async () => ({ items: Array.from({ length: 200 }, (_, i) => ({ name: `widget-${i}`, size: (i % 10) + 1 })) }),
  );
  app.get('/widgets/boom', { config: { permission: 'widgets:read' }, schema: { operationId: 'boom' } }, async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/widgets/undeclared', { schema: { operationId: 'undeclared' } }, async () => ({ ok: true }));
};

describe('HTTP conventions', () => {
  let app: App;
  let logs: { text(): string };
  beforeAll(async () => {
    ({ app, logs } = await buildPlainApp([{ prefix: '/api/v1', plugin: widgets }], {
      env: { OPSDECK_BODY_LIMIT_BYTES: '2048', OPSDECK_CORS_ORIGINS: 'https://ops.example.com' },
    }));
  });
  afterAll(() => app.close());

  it('answers unknown routes with 404 problem+json', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND', title: 'Not Found', instance: '/api/v1/nothing-here' });
  });

  it('lists every failing field of an invalid body with 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/widgets', payload: { size: 99, colour: 'red' } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    const paths = body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.name', 'body.size', 'body.colour']));
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { 'content-type': 'application/json' }, payload: '{"name": "a",' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON', status: 400 });
  });

  it('answers an oversized body with 413', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/widgets', payload: { name: 'x', size: 1, tags: Array(500).fill('abcdefghi') } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it('maps AppError to its status, code and field errors', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/widgets', payload: { name: 'taken', size: 1 } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'WIDGET_NAME_TAKEN', errors: [{ path: 'body.name', message: 'already exists' }] });
  });

  it('hides unexpected errors behind a generic 500 with no stack and no detail', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/widgets/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
    expect(res.json()).toMatchObject({ code: 'INTERNAL' });
    expect(logs.text()).toContain('unhandled error');
  });

  it('denies a route that declares no permission', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/widgets/undeclared' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ROUTE_PERMISSION_UNDECLARED');
    expect(app.routeRegistry.find((r) => r.url === '/api/v1/widgets/undeclared')).toMatchObject({ permission: undefined, public: false });
  });

  it('echoes a valid X-Request-Id and generates one otherwise', async () => {
    const given = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'x-request-id': 'req-42.abc' } });
    expect(given.headers['x-request-id']).toBe('req-42.abc');
    expect(given.json().request_id).toBe('req-42.abc');
    const bad = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('compresses large responses with brotli or gzip', async () => {
    const br = await app.inject({ method: 'GET', url: '/api/v1/widgets/big', headers: { 'accept-encoding': 'br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(JSON.parse(brotliDecompressSync(br.rawPayload).toString()).items).toHaveLength(200);
    const gz = await app.inject({ method: 'GET', url: '/api/v1/widgets/big', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString()).items).toHaveLength(200);
  });

  it('sends an ETag and answers 304 when it matches', async () => {
    const first = await app.inject({ method: 'GET', url: '/api/v1/widgets/big' });
    const tag = first.headers.etag;
    expect(tag).toBeTruthy();
    const again = await app.inject({ method: 'GET', url: '/api/v1/widgets/big', headers: { 'if-none-match': String(tag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('allows only configured CORS origins', async () => {
    const ok = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/widgets',
      headers: { origin: 'https://ops.example.com', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://ops.example.com');
    const no = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/widgets',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sets security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/widgets/big' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-frame-options']).toBeDefined();
  });

  it('answers 401 problem+json when the authenticator refuses credentials', async () => {
    const { app: locked } = await buildPlainApp([{ prefix: '/api/v1', plugin: widgets }], {
      authenticator: {
        authenticate: async (req) => {
          if (req.headers.authorization) throw new UnauthorizedError('AUTH_INVALID_TOKEN', 'The token is invalid');
          return null;
        },
      },
    });
    const none = await locked.inject({ method: 'GET', url: '/api/v1/widgets/big' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json().code).toBe('AUTH_REQUIRED');
    const bad = await locked.inject({ method: 'GET', url: '/api/v1/widgets/big', headers: { authorization: 'Bearer nope' } });
    expect(bad.json().code).toBe('AUTH_INVALID_TOKEN');
    await locked.close();
  });
});
