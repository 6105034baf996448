import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { AppError } from '../errors.js';
import { BadRequestError, ForbiddenError, UnauthorizedError } from '../errors.js';

/** Who is acting: the subject of every service call, from HTTP, jobs, the scheduler or the CLI. */
export interface Actor {
  kind: 'user' | 'api_key' | 'system';
  id: string;
  name: string;
  /** Granted permissions; `'*'` grants everything (admin, system). */
  permissions: ReadonlySet<string> | '*';
  teamIds: readonly string[];
  /** The user behind an API key or a session (for audit and step-up). */
  userId?: string;
  /** Access-token id or API-key id, for revocation and audit. */
  credentialId?: string;
  /** Request context for audit records (set by the authenticator from HTTP; absent for jobs/CLI). */
  ip?: string;
  requestId?: string;
  /** The request's User-Agent header, truncated (for audit records). */
  userAgent?: string;
  /** Session (refresh-token family) of a user's access token. */
  sessionId?: string;
  /** When the user last proved a second factor (epoch seconds), if the token carries it. */
  mfaAt?: number;
  /** When the user last signed in with a password (epoch seconds): login or re-authentication. */
  authAt?: number;
  /** A TOTP code sent with the request for step-up (the x-totp-code header). */
  stepUpCode?: string;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ kind: 'system', id: '00000000-0000-0000-0000-000000000000', name: 'system', permissions: '*', teamIds: [] });

export function hasPermission(actor: Actor, permission: string): boolean {
  if (actor.permissions === '*') return true;
  if (actor.permissions.has(permission)) return true;
  const resource = permission.slice(0, permission.indexOf(':'));
  return actor.permissions.has(`${resource}:*`);
}

/** Throws 403 unless the actor holds the permission: services call this, not only routes. */
export function requirePermission(actor: Actor, permission: string): void {
  if (!hasPermission(actor, permission)) throw new ForbiddenError('PERMISSION_DENIED', `This requires the '${permission}' permission`);
}

/** Identity implements this; the platform only asks it who is calling. */
export interface Authenticator {
  /** The actor for the request's credentials, null when none were given; throws 401 for bad ones. */
  authenticate(request: FastifyRequest): Promise<Actor | null>;
  /** Called when a route's permission is refused (identity audits it). */
  onDenied?(request: FastifyRequest, actor: Actor, permission: string): Promise<void> | void;
  /** Redeems a single-use stream ticket (`?ticket=` on `config.stream` routes); throws 401 when unknown, used or expired. */
  redeemTicket?(ticket: string, request: FastifyRequest): Promise<Actor>;
  /**
   * Open streams' principals as they are now, one answer per actor in order: the refreshed
   * actor, or the AppError that refuses it now (401: its session, token or key is gone, or the
   * user is disabled). Answers from shared state (database, cluster cache), so a change made on
   * any node is seen.
   */
  revalidate?(actors: readonly Actor[]): Promise<(Actor | AppError)[]>;
}

/** Until identity is wired every caller is the system actor: the registry is real, the check a pass. */
export const allowAllAuthenticator: Authenticator = { authenticate: async () => SYSTEM_ACTOR };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a route needs, e.g. `devices:read`. */
    permission?: string;
    /** The route needs no authentication. */
    public?: boolean;
    /** Any authenticated principal: the handler authorises each action itself (the WebSocket's channels). */
    authenticated?: boolean;
    /** A live stream: also accepts a single-use `?ticket=`; a token in the URL is refused. */
    stream?: boolean;
    /**
     * Whose objects a route with a path parameter reaches (docs/architecture.md "Team scoping"):
     * `team` (404 outside the reader's teams), `global` (one deployment-wide set) or `self`
     * (the caller's own). Required on every route whose URL has a parameter.
     */
    scope?: RouteScope;
    /** The kind of object the path parameter names, e.g. `credential`, `job_run`. */
    resource?: string;
  }
  interface FastifyRequest {
    /** Set for every non-public route before its handler runs. */
    actor: Actor;
  }
}

export type RouteScope = 'team' | 'global' | 'self';

export interface RouteRecord {
  method: string;
  url: string;
  readonly permission: string | undefined;
  readonly public: boolean;
  /** Authentication only; the handler authorises (`config.authenticated`). */
  readonly authenticated: boolean;
  /** The route's object policy (`config.scope` + `config.resource`); undefined when undeclared. */
  readonly scope: RouteScope | undefined;
  readonly resource: string | undefined;
}

const SCOPES: readonly RouteScope[] = ['team', 'global', 'self'];

/**
 * The route-policy table's check: every non-public route whose URL names an object (a path
 * parameter) declares `config.scope` and `config.resource`. test/route-permissions.test.ts
 * fails on any route this returns.
 */
export function routesWithoutPolicy(registry: readonly RouteRecord[]): string[] {
  return registry
    .filter((r) => !r.public && /[:*]/.test(r.url) && !(r.scope !== undefined && SCOPES.includes(r.scope) && r.resource))
    .map((r) => `${r.method} ${r.url}`);
}

function methods(route: RouteOptions): string[] {
  return Array.isArray(route.method) ? route.method : [route.method];
}

/**
 * The route-permission registry and its check. Every route declares `config.permission` or
 * `config.public`; one that declares neither is recorded (a test fails on it) and denied at
 * run time: deny by default.
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator, registry: RouteRecord[], options: AuthOptions = { allowedOrigins: [] }): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { permission?: string; public?: boolean; authenticated?: boolean };
    for (const method of methods(route)) {
      // HEAD mirrors GET; OPTIONS is the CORS preflight, unauthenticated by definition.
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      // Read lazily: a plugin scope's own onRoute hook (e.g. /docs marking itself public) runs after this one.
      registry.push({
        method,
        url: route.url,
        get permission() {
          return (route.config as { permission?: string } | undefined)?.permission;
        },
        get public() {
          return (route.config as { public?: boolean } | undefined)?.public === true;
        },
        get authenticated() {
          return (route.config as { authenticated?: boolean } | undefined)?.authenticated === true;
        },
        get scope() {
          return (route.config as { scope?: RouteScope } | undefined)?.scope;
        },
        get resource() {
          return (route.config as { resource?: string } | undefined)?.resource;
        },
      });
    }
    // Public operations say so (`security: []`): without it a reader cannot tell them from undocumented ones.
    if (config.public && route.schema && !route.schema.hide) (route.schema as Record<string, unknown>).security = [];
    if ((config.permission || config.authenticated) && route.schema && !route.schema.hide) {
      const schema = route.schema as Record<string, unknown>;
      schema.security = [{ bearerAuth: [] }, { apiKey: [] }];
      const note = config.permission ? `Requires permission \`${config.permission}\`.` : 'Requires authentication; each action is authorised on its own.';
      schema.description = schema.description ? `${String(schema.description)}\n\n${note}` : note;
    }
  });
  // A refused upgrade is answered over the raw socket, which nobody else closes once this hook
  // threw before the WebSocket plugin's own: end it after the answer.
  // Callback-style hooks: a public route (a health probe) costs no promise and no microtask hop.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.headers.upgrade !== undefined && isUpgrade(request)) request.raw.socket.end();
    done();
  });
  app.addHook('onRequest', (request, _reply, done) => {
    const config = request.routeOptions.config as RouteAuthConfig;
    // Unmatched URLs reach the 404 handler, which has no route config.
    if (config.public || config.url === undefined || request.method === 'OPTIONS') return done();
    authorise(request, config).then(() => done(), done);
  });
  async function authorise(request: FastifyRequest, config: RouteAuthConfig): Promise<void> {
    if (isUpgrade(request)) refuseForeignOrigin(request, options.allowedOrigins);
    const ticket = config.stream ? streamTicket(request) : undefined;
    const actor =
      ticket !== undefined && authenticator.redeemTicket ? await authenticator.redeemTicket(ticket, request) : await authenticator.authenticate(request);
    if (!actor) throw new UnauthorizedError();
    request.actor = actor;
    if (!config.permission) {
      if (config.authenticated) return;
      throw new ForbiddenError('ROUTE_PERMISSION_UNDECLARED', 'This route declares no permission and is denied by default');
    }
    if (!hasPermission(actor, config.permission)) {
      await authenticator.onDenied?.(request, actor, config.permission);
      throw new ForbiddenError('PERMISSION_DENIED', `This requires the '${config.permission}' permission`);
    }
  }
}

type RouteAuthConfig = { permission?: string; public?: boolean; authenticated?: boolean; stream?: boolean; url?: string };

export interface AuthOptions {
  /** Origins a browser may open a WebSocket from besides the server's own (the CORS allow-list; `*` allows any). */
  allowedOrigins: readonly string[];
}

const isUpgrade = (request: FastifyRequest): boolean => String(request.headers.upgrade ?? '').toLowerCase() === 'websocket';

/**
 * Browsers send cookies and run any page's scripts against any WebSocket, and CORS does not
 * apply to the upgrade: a page may open one only from the server's own origin or an allowed one.
 * Clients that send no Origin (CLIs, servers) are not browsers and pass.
 */
function refuseForeignOrigin(request: FastifyRequest, allowed: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin === undefined || allowed.includes('*') || allowed.includes(origin)) return;
  let host: string | null = null;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    // "null" (sandboxed pages, file://) and anything unparsable are foreign.
  }
  if (host !== null && host === request.host.toLowerCase()) return;
  throw new ForbiddenError('ORIGIN_NOT_ALLOWED', "WebSocket connections are accepted from this server's origin and the configured CORS origins only");
}

/** Names under which clients put access tokens or API keys in URLs: refused, never read. */
const TOKEN_PARAMS = ['token', 'access_token', 'api_key', 'apikey', 'key'];

/** The `?ticket=` of a stream request; a credential in the URL (logged by proxies, kept in history) is refused. */
function streamTicket(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const named = TOKEN_PARAMS.find((p) => query[p] !== undefined);
  if (named) {
    throw new BadRequestError(
      'TOKEN_IN_URL',
      'Credentials are not accepted in URLs: send Authorization: Bearer, or get a single-use ticket from POST /api/v1/stream-tickets and pass ?ticket=',
      [{ path: `query.${named}`, message: 'credentials in URLs are refused' }],
    );
  }
  const ticket = query.ticket;
  return typeof ticket === 'string' && ticket.length > 0 ? ticket : undefined;
}
