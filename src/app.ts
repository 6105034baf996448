import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import ajvFormats from 'ajv-formats';
import cors from '@fastify/cors';
import helmet from 'helmet';
import compress from '@fastify/compress';
import etag from '@fastify/etag';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { constants as zlib } from 'node:zlib';
import type { Config } from './config.js';
import type { Logger } from './platform/observability/logger.js';
import type { Metrics } from './platform/observability/metrics.js';
import { Problem } from './platform/http/schemas.js';
import { registerProblemHandlers } from './platform/http/problem.js';
import { registerInputGuard } from './platform/http/input-guard.js';
import { finishOpenApi } from './platform/http/openapi.js';
import { FILTER_MARKER } from './platform/http/filters.js';
import { registerAuth, type Authenticator, type RouteRecord } from './platform/http/auth.js';
import { registerPrincipalRateLimit, type RateLimitStore } from './platform/http/rate-limit.js';
import { registerAdmission, type AdmissionState } from './platform/http/admission.js';
import { buildSerializer, securityHeaders } from './platform/http/fast-path.js';
import { canonicalId, newId } from './platform/ids.js';

export interface RoutePlugin {
  /** e.g. `/api/v1` for module APIs, `` for /health and /metrics */
  prefix: string;
  plugin: FastifyPluginAsync;
}

export interface AppDeps {
  config: Pick<Config, 'corsOrigins' | 'bodyLimitBytes' | 'trustProxy' | 'httpMaxConcurrent' | 'httpQueueSize' | 'httpQueueTimeoutMs'>;
  logger: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  plugins: RoutePlugin[];
  version: string;
  /** Per-principal limit of authenticated requests; absent: unlimited (bare test apps). */
  rateLimit?: { max: number; store: RateLimitStore };
  /** The AsyncAPI document of the WebSocket, served at `asyncApi.url` and linked from the OpenAPI document. */
  asyncApi?: { url: string; document: Record<string, unknown> };
  /** The level of the one line per request, read at each response (the live `general.request_log` setting); absent or `off`: none. */
  requestLog?: () => 'off' | 'debug' | 'info';
}

/** `admission`: the requests in flight and queued now (admission control, `platform/http/admission.ts`). */
export type App = FastifyInstance & { routeRegistry: RouteRecord[]; admission: AdmissionState };

/** swagger-ui's static CSP minus `upgrade-insecure-requests` (see the helmet note below). */
const withoutUpgrade = (header: string): string =>
  header
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d.length > 0 && d !== 'upgrade-insecure-requests')
    .join('; ');

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the Fastify app with every module's routes. Never listens, never exits. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newId();
    },
    // Per-request lines would dominate the log; request durations go to metrics, failures are logged.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    return503OnClosing: true,
    schemaController: { compilersFactory: { buildSerializer } },
    ajv: {
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true, keywords: [FILTER_MARKER] },
      plugins: [ajvFormats.default as never],
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routeRegistry: RouteRecord[] = [];
  registerProblemHandlers(app);
  // First of the onRequest hooks: a refused request costs no authentication or rate-limit hit.
  const admission = registerAdmission(app, {
    maxConcurrent: deps.config.httpMaxConcurrent,
    maxQueue: deps.config.httpQueueSize,
    queueTimeoutMs: deps.config.httpQueueTimeoutMs,
    onRefused: (reason) => deps.metrics.httpRefused.inc({ reason }),
  });
  deps.metrics.watchAdmission(admission);
  registerInputGuard(app);
  registerAuth(app, deps.authenticator, routeRegistry, { allowedOrigins: deps.config.corsOrigins });
  // After registerAuth: its onRequest hook sets request.actor, which this one counts.
  if (deps.rateLimit) {
    // While the store is down every request would log: once a minute is enough.
    let lastWarning = 0;
    const onError = (err: unknown) => {
      if (Date.now() - lastWarning < 60_000) return;
      lastWarning = Date.now();
      deps.logger.warn({ err }, 'rate-limit store failed; requests are let through');
    };
    registerPrincipalRateLimit(app, { ...deps.rateLimit, onError });
  }
  app.addSchema(Problem);

  // Helmet's headers are the same for every response: computed once here, not per request.
  const headers = securityHeaders(helmet, {
    // The API serves JSON; only /docs needs scripts and styles, which swagger-ui declares itself.
    // NOTE: no `upgrade-insecure-requests` (a helmet default): Opsdeck serves plain HTTP unless a
    // TLS proxy sits in front, and the directive made browsers fetch /docs assets over https (blank page).
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], upgradeInsecureRequests: null } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(headers);
    void reply.header('x-request-id', request.id);
    done();
  });
  // Ids are stored lower-case and SQLite compares text: /users/0192F0A0-… must find the user
  // PostgreSQL's uuid type would. Every UUID route parameter is canonicalised before validation.
  app.addHook('preValidation', (request, _reply, done) => {
    const params = request.params as Record<string, unknown> | null;
    if (params) for (const key in params) if (typeof params[key] === 'string') params[key] = canonicalId(params[key]);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    deps.metrics.observeHttp(request.method, route, status, reply.elapsedTime / 1000);
    // 503s are logged where they are raised (problem.ts), or counted (OVERLOADED).
    if (status >= 500 && status !== 503) request.log.warn({ method: request.method, route, status }, 'request failed');
    const level = deps.requestLog?.() ?? 'off';
    if (level !== 'off') {
      const actor = (request as { actor?: { kind: string; id: string } }).actor;
      request.log[level](
        {
          method: request.method,
          route,
          status,
          duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
          principal: actor ? `${actor.kind}:${actor.id}` : null,
        },
        'request',
      );
    }
    done();
  });

  await app.register(cors, {
    // `*` is the literal wildcard (never reflected, never with credentials); a list is matched
    // exactly and answered with credentials. `null` is never an allowed origin (config refuses it).
    origin: deps.config.corsOrigins.includes('*') ? '*' : [...deps.config.corsOrigins],
    credentials: !deps.config.corsOrigins.includes('*'),
    exposedHeaders: ['x-request-id', 'etag', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
  });
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip', 'deflate'],
    // Brotli's default quality (11) costs far more CPU than it saves on JSON.
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } },
  });
  await app.register(etag);
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Opsdeck API',
        version: deps.version,
        description: 'Operations console backend for network and infrastructure teams. Errors are RFC 9457 problem+json.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: '/', description: 'The server this document is served from' }],
      ...(deps.asyncApi
        ? { externalDocs: { description: 'The WebSocket protocol at /api/v1/ws (channels, messages, close codes): AsyncAPI 3', url: deps.asyncApi.url } }
        : {}),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    transformObject: (doc) => finishOpenApi('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), public: true };
    });
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      transformStaticCSP: withoutUpgrade,
      uiConfig: { deepLinking: true, docExpansion: 'list' },
    });
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  const asyncApi = deps.asyncApi;
  if (asyncApi) app.get(asyncApi.url, { schema: { hide: true }, config: { public: true } }, async () => asyncApi.document);

  for (const { prefix, plugin } of deps.plugins) await app.register(plugin, { prefix });

  await app.ready();
  return Object.assign(app, { routeRegistry, admission }) as unknown as App;
}

/**
 * The health listener of a process without the API (`opsdeck worker`): only the given plugins
 * (`/health`, `/health/ready`, `/metrics`), public, errors as problem+json. Never listens itself.
 */
export async function buildHealthApp(deps: { logger: Logger; plugins: RoutePlugin[] }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    return503OnClosing: true,
  });
  // The routes' error responses reference the shared Problem schema, as on the API.
  app.addSchema(Problem);
  registerProblemHandlers(app);
  for (const { prefix, plugin } of deps.plugins) await app.register(plugin, { prefix });
  await app.ready();
  return app;
}
