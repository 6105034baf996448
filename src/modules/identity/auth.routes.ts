import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import { TooManyRequestsError, UnauthorizedError } from '../../platform/errors.js';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import type { Authenticator } from '../../platform/http/auth.js';
import type { AuthService, ClientContext } from './auth.service.js';
import type { Jwt } from './jwt.js';
import type { StreamTickets } from './stream-tickets.js';
import * as S from './identity.schemas.js';
import type { TwoFactorService } from './two-factor.service.js';
import type { UsersService } from './users.service.js';
import type { AuditService } from './audit.service.js';
import { PageQuery } from '../../platform/http/pagination.js';

export interface AuthRoutesDeps {
  auth: AuthService;
  users: UsersService;
  twoFactor: TwoFactorService;
  audit: AuditService;
  jwt: Jwt;
  streamTickets: Pick<StreamTickets, 'issue'>;
  authenticator: Authenticator & { authenticate(request: FastifyRequest): ReturnType<Authenticator['authenticate']> };
  rateLimit: { max: number; redis: Redis | null; prefix: string };
}

const client = (req: FastifyRequest): ClientContext => ({
  ip: req.ip,
  userAgent: String(req.headers['user-agent'] ?? '').slice(0, 500),
  requestId: String(req.id),
});
const tags = ['auth'];
const SecurityEventsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
const NoContent = { 204: Type.Null() };

/** /api/v1/auth/*: tokens, sessions, own password and 2FA; login and refresh rate-limited per client IP. */
export function authRoutes(d: AuthRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Only sign-in and refresh (public, password- or token-guessing targets) carry this strict
    // per-IP limit; every authenticated route is limited per principal by the platform (app.ts).
    await app.register(rateLimit, {
      global: false,
      enableDraftSpec: true,
      max: d.rateLimit.max,
      timeWindow: 60_000,
      ...(d.rateLimit.redis ? { redis: d.rateLimit.redis, nameSpace: d.rateLimit.prefix } : {}),
      // With Redis unreachable, sign-in keeps working (fail open); per-account lockout still applies.
      skipOnError: true,
      errorResponseBuilder: (_req, ctx) =>
        new TooManyRequestsError('RATE_LIMITED', 'Too many requests to /auth from this address; slow down', Number(ctx.ttl) / 1000),
    });

    app.post(
      '/auth/login',
      {
        config: { public: true, rateLimit: {} },
        schema: {
          operationId: 'login',
          tags,
          summary: 'Sign in with username or email, password and (with 2FA) a TOTP or recovery code',
          body: S.LoginBody,
          response: { 200: S.TokenResponse, ...errorResponses() },
        },
      },
      async (req) => d.auth.login(req.body, client(req)),
    );
    app.post(
      '/auth/refresh',
      {
        config: { public: true, rateLimit: {} },
        schema: {
          operationId: 'refreshToken',
          tags,
          summary: 'Rotate a refresh token (reusing an old one revokes the session)',
          body: S.RefreshBody,
          response: { 200: S.TokenResponse, ...errorResponses() },
        },
      },
      async (req) => d.auth.refresh(req.body.refresh_token, client(req)),
    );
    app.post(
      '/auth/reauth',
      {
        config: { permission: 'account:read' },
        schema: {
          operationId: 'reauthenticate',
          tags,
          summary: 'Prove the password (and TOTP) again: sensitive operations need an authentication younger than OPSDECK_STEP_UP_WINDOW_SECONDS',
          body: S.ReauthBody,
          response: { 200: S.ReauthResponse, ...errorResponses() },
        },
      },
      async (req) => d.auth.reauthenticate(req.actor, req.body, client(req)),
    );
    app.post(
      '/auth/logout',
      {
        config: { permission: 'account:read' },
        schema: { operationId: 'logout', tags, summary: 'Revoke this session and its access token', response: { ...NoContent, ...errorResponses(422) } },
      },
      async (req, reply) => {
        await d.auth.logout(req.actor);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/auth/verify',
      // Public so any valid credential (token or API key) can be checked, whatever its permissions.
      {
        config: { public: true },
        schema: {
          operationId: 'verifyToken',
          tags,
          summary: 'Check the presented access token or API key',
          response: { 200: S.VerifyResponse, ...errorResponses() },
        },
      },
      async (req) => {
        const actor = await d.authenticator.authenticate(req);
        if (!actor) throw new UnauthorizedError();
        return {
          valid: true as const,
          actor: { kind: actor.kind, id: actor.id, name: actor.name },
          user_id: actor.userId ?? null,
          permissions: actor.permissions === '*' ? ['*'] : [...actor.permissions].sort(),
        };
      },
    );
    app.post(
      '/stream-tickets',
      {
        // Any principal may open a stream; each channel is authorised when subscribed and re-checked.
        config: { authenticated: true },
        schema: {
          operationId: 'createStreamTicket',
          tags,
          summary: 'A single-use ticket (30 s) that opens one WebSocket or EventSource stream as the caller: ?ticket= instead of a token in the URL',
          response: { 201: S.StreamTicket, ...errorResponses(422) },
        },
      },
      async (req, reply) => reply.code(201).send(await d.streamTickets.issue(req.actor)),
    );
    app.get(
      '/auth/me',
      {
        config: { permission: 'account:read' },
        schema: { operationId: 'getMe', tags, summary: 'The signed-in user with effective permissions', response: { 200: S.Me, ...errorResponses(404) } },
      },
      async (req) => d.users.me(req.actor),
    );
    app.get(
      '/auth/jwks.json',
      {
        config: { public: true },
        schema: {
          operationId: 'getJwks',
          tags,
          summary: 'Public keys verifying access tokens (empty with HS256)',
          response: { 200: S.Jwks, ...errorResponses() },
        },
      },
      async () => d.jwt.jwks(),
    );

    app.get(
      '/auth/security-events',
      {
        config: { permission: 'account:read' },
        schema: {
          operationId: 'listMySecurityEvents',
          tags,
          summary: 'My security events, newest first: failed sign-ins, lockouts, recovery-code use, 2FA and password changes, refresh-token reuse, API keys',
          querystring: SecurityEventsQuery,
          response: { 200: Page(S.AuditItem), ...errorResponses() },
        },
      },
      async (req) => d.audit.securityEvents(req.actor, req.query),
    );
    app.get(
      '/auth/sessions',
      {
        config: { permission: 'account:read' },
        schema: { operationId: 'listMySessions', tags, summary: 'My active sessions', response: { 200: S.SessionList, ...errorResponses() } },
      },
      async (req) => d.auth.sessions(req.actor),
    );
    app.delete(
      '/auth/sessions/:id',
      {
        config: { permission: 'account:manage', scope: 'self', resource: 'session' },
        schema: {
          operationId: 'revokeMySession',
          tags,
          summary: 'Revoke one of my sessions',
          params: IdParams,
          response: { ...NoContent, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => {
        await d.auth.revokeMySessions(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/auth/sessions',
      {
        config: { permission: 'account:manage' },
        schema: {
          operationId: 'revokeMySessions',
          tags,
          summary: 'Sign out everywhere: revoke all my sessions (and, with ?revoke_api_keys=true, all my API keys)',
          querystring: S.RevokeSessionsQuery,
          response: { ...NoContent, ...errorResponses(422) },
        },
      },
      async (req, reply) => {
        await d.auth.revokeMySessions(req.actor, null, { revokeApiKeys: req.query.revoke_api_keys === true });
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/auth/password',
      {
        config: { permission: 'account:manage' },
        schema: {
          operationId: 'changeMyPassword',
          tags,
          summary: 'Change my password (signs out my other sessions; revoke_api_keys: true also revokes my API keys)',
          body: S.ChangePasswordBody,
          response: { ...NoContent, ...errorResponses(422) },
        },
      },
      async (req, reply) => {
        await d.auth.changePassword(req.actor, req.body);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/auth/2fa/enrol',
      {
        config: { permission: 'account:manage' },
        schema: {
          operationId: 'enrolTotp',
          tags,
          summary: 'Start TOTP enrolment: secret and otpauth:// URI',
          response: { 200: S.TotpEnrolment, ...errorResponses(409, 422) },
        },
      },
      async (req) => d.twoFactor.enrol(req.actor),
    );
    app.post(
      '/auth/2fa/confirm',
      {
        config: { permission: 'account:manage' },
        schema: {
          operationId: 'confirmTotp',
          tags,
          summary: 'Confirm enrolment with a first code; returns 10 recovery codes once',
          body: S.CodeBody,
          response: { 200: S.RecoveryCodes, ...errorResponses(409, 422) },
        },
      },
      async (req) => d.twoFactor.confirm(req.actor, req.body.code),
    );
    app.post(
      '/auth/2fa/disable',
      {
        config: { permission: 'account:manage' },
        schema: {
          operationId: 'disableTotp',
          tags,
          summary: 'Turn my 2FA off (needs a current code)',
          body: S.OptionalCodeBody,
          response: { ...NoContent, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => {
        await d.twoFactor.disable(req.actor, null, req.body.code);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/auth/2fa/recovery-codes',
      {
        config: { permission: 'account:manage' },
        schema: {
          operationId: 'regenerateRecoveryCodes',
          tags,
          summary: 'Replace my recovery codes (needs a current code)',
          body: S.CodeBody,
          response: { 200: S.RecoveryCodes, ...errorResponses(409, 422) },
        },
      },
      async (req) => d.twoFactor.regenerateRecoveryCodes(req.actor, req.body.code),
    );
  };
}
