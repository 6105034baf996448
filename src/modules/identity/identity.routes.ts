import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import { filterQuerySchema } from '../../platform/http/filters.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import type { ApiKeysService } from './api-keys.service.js';
import { AUDIT_FILTERS, AUDIT_SORT, type AuditService } from './audit.service.js';
import * as S from './identity.schemas.js';
import type { RolesService } from './roles.service.js';
import type { TwoFactorService } from './two-factor.service.js';
import { USER_FILTERS, type UsersService } from './users.service.js';
import { USER_SORT } from './users.repository.js';

export interface IdentityRoutesDeps {
  users: UsersService;
  roles: RolesService;
  apiKeys: ApiKeysService;
  audit: AuditService;
  twoFactor: TwoFactorService;
}

const NoContent = { 204: Type.Null() };
const UserQuery = Type.Object(
  { ...PageQuery, sort: sortQuery(['id', ...Object.keys(USER_SORT)]), ...filterQuerySchema(USER_FILTERS) },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  { ...PageQuery, sort: sortQuery(['id', ...Object.keys(AUDIT_SORT)]), ...filterQuerySchema(AUDIT_FILTERS) },
  { additionalProperties: false },
);

/** Users, roles, permissions, teams, API keys and the audit log. */
export function identityRoutes(d: IdentityRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['users'];
    app.get(
      '/users',
      {
        config: { permission: 'users:read' },
        schema: { operationId: 'listUsers', tags, summary: 'List users', querystring: UserQuery, response: { 200: Page(S.User), ...errorResponses() } },
      },
      async (req) => d.users.list(req.actor, req.query),
    );
    app.post(
      '/users',
      {
        config: { permission: 'users:admin' },
        schema: { operationId: 'createUser', tags, summary: 'Create a user', body: S.CreateUserBody, response: { 201: S.User, ...errorResponses(409, 422) } },
      },
      async (req, reply) => reply.code(201).send(await d.users.create(req.actor, req.body)),
    );
    app.get(
      '/users/:id',
      {
        config: { permission: 'users:read', scope: 'global', resource: 'user' },
        schema: { operationId: 'getUser', tags, summary: 'Get a user', params: IdParams, response: { 200: S.User, ...errorResponses(404) } },
      },
      async (req) => d.users.get(req.actor, req.params.id),
    );
    app.patch(
      '/users/:id',
      {
        config: { permission: 'users:admin', scope: 'global', resource: 'user' },
        schema: {
          operationId: 'updateUser',
          tags,
          summary: 'Update, disable, re-enable or unlock a user',
          params: IdParams,
          body: S.UpdateUserBody,
          response: { 200: S.User, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => d.users.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/users/:id',
      {
        config: { permission: 'users:admin', scope: 'global', resource: 'user' },
        schema: { operationId: 'deleteUser', tags, summary: 'Delete a user', params: IdParams, response: { ...NoContent, ...errorResponses(404, 409, 422) } },
      },
      async (req, reply) => {
        await d.users.delete(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/users/:id/password-reset',
      {
        config: { permission: 'users:admin', scope: 'global', resource: 'user' },
        schema: {
          operationId: 'resetUserPassword',
          tags,
          summary: 'Set a password the user must change at next login',
          params: IdParams,
          body: S.ResetPasswordBody,
          response: { ...NoContent, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => {
        await d.users.resetPassword(req.actor, req.params.id, req.body.password);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/users/:id/two-factor',
      {
        config: { permission: 'users:admin', scope: 'global', resource: 'user' },
        schema: {
          operationId: 'disableUserTotp',
          tags,
          summary: "Turn a user's 2FA off (lost device)",
          params: IdParams,
          response: { ...NoContent, ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        await d.twoFactor.disable(req.actor, req.params.id, undefined);
        return reply.code(204).send(null);
      },
    );

    const rtags = ['roles'];
    app.get(
      '/permissions',
      {
        config: { permission: 'roles:read' },
        schema: {
          operationId: 'listPermissions',
          tags: rtags,
          summary: 'Every registered permission',
          response: { 200: S.PermissionList, ...errorResponses() },
        },
      },
      async (req) => d.roles.permissions(req.actor),
    );
    app.get(
      '/roles',
      {
        config: { permission: 'roles:read' },
        schema: {
          operationId: 'listRoles',
          tags: rtags,
          summary: 'List roles',
          response: { 200: Type.Object({ items: Type.Array(S.Role) }), ...errorResponses() },
        },
      },
      async (req) => d.roles.list(req.actor),
    );
    app.post(
      '/roles',
      {
        config: { permission: 'roles:admin' },
        schema: {
          operationId: 'createRole',
          tags: rtags,
          summary: 'Create a custom role',
          body: S.RoleBody,
          response: { 201: S.Role, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await d.roles.create(req.actor, req.body)),
    );
    app.get(
      '/roles/:id',
      {
        config: { permission: 'roles:read', scope: 'global', resource: 'role' },
        schema: { operationId: 'getRole', tags: rtags, summary: 'Get a role', params: IdParams, response: { 200: S.Role, ...errorResponses(404) } },
      },
      async (req) => d.roles.get(req.actor, req.params.id),
    );
    app.patch(
      '/roles/:id',
      {
        config: { permission: 'roles:admin', scope: 'global', resource: 'role' },
        schema: {
          operationId: 'updateRole',
          tags: rtags,
          summary: 'Update a custom role',
          params: IdParams,
          body: S.UpdateRoleBody,
          response: { 200: S.Role, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => d.roles.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/roles/:id',
      {
        config: { permission: 'roles:admin', scope: 'global', resource: 'role' },
        schema: {
          operationId: 'deleteRole',
          tags: rtags,
          summary: 'Delete a custom role',
          params: IdParams,
          response: { ...NoContent, ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        await d.roles.delete(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );

    const ttags = ['teams'];
    app.get(
      '/teams',
      {
        config: { permission: 'teams:read' },
        schema: {
          operationId: 'listTeams',
          tags: ttags,
          summary: 'List teams',
          response: { 200: Type.Object({ items: Type.Array(S.Team) }), ...errorResponses() },
        },
      },
      async (req) => d.roles.listTeams(req.actor),
    );
    app.post(
      '/teams',
      {
        config: { permission: 'teams:admin' },
        schema: { operationId: 'createTeam', tags: ttags, summary: 'Create a team', body: S.TeamBody, response: { 201: S.Team, ...errorResponses(409) } },
      },
      async (req, reply) => reply.code(201).send(await d.roles.createTeam(req.actor, req.body)),
    );
    app.get(
      '/teams/:id',
      {
        config: { permission: 'teams:read', scope: 'global', resource: 'team' },
        schema: {
          operationId: 'getTeam',
          tags: ttags,
          summary: 'Get a team with its members',
          params: IdParams,
          response: { 200: S.Team, ...errorResponses(404) },
        },
      },
      async (req) => d.roles.getTeam(req.actor, req.params.id),
    );
    app.patch(
      '/teams/:id',
      {
        config: { permission: 'teams:admin', scope: 'global', resource: 'team' },
        schema: {
          operationId: 'updateTeam',
          tags: ttags,
          summary: 'Rename or describe a team',
          params: IdParams,
          body: S.UpdateTeamBody,
          response: { 200: S.Team, ...errorResponses(404, 409) },
        },
      },
      async (req) => d.roles.updateTeam(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/teams/:id',
      {
        config: { permission: 'teams:admin', scope: 'global', resource: 'team' },
        schema: { operationId: 'deleteTeam', tags: ttags, summary: 'Delete a team', params: IdParams, response: { ...NoContent, ...errorResponses(404) } },
      },
      async (req, reply) => {
        await d.roles.deleteTeam(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.put(
      '/teams/:id/members/:userId',
      {
        config: { permission: 'teams:admin', scope: 'global', resource: 'team' },
        schema: {
          operationId: 'addTeamMember',
          tags: ttags,
          summary: 'Add a user to a team',
          params: S.TeamMemberParams,
          response: { ...NoContent, ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await d.roles.setMember(req.actor, req.params.id, req.params.userId, true);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/teams/:id/members/:userId',
      {
        config: { permission: 'teams:admin', scope: 'global', resource: 'team' },
        schema: {
          operationId: 'removeTeamMember',
          tags: ttags,
          summary: 'Remove a user from a team',
          params: S.TeamMemberParams,
          response: { ...NoContent, ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await d.roles.setMember(req.actor, req.params.id, req.params.userId, false);
        return reply.code(204).send(null);
      },
    );

    const ktags = ['api-keys'];
    app.get(
      '/api-keys',
      {
        config: { permission: 'api-keys:read' },
        schema: {
          operationId: 'listApiKeys',
          tags: ktags,
          summary: 'My API keys (everyone’s with api-keys:admin)',
          response: { 200: Type.Object({ items: Type.Array(S.ApiKey) }), ...errorResponses() },
        },
      },
      async (req) => d.apiKeys.list(req.actor),
    );
    app.post(
      '/api-keys',
      {
        config: { permission: 'api-keys:write' },
        schema: {
          operationId: 'createApiKey',
          tags: ktags,
          summary: 'Create an API key (the key is shown once)',
          body: S.CreateApiKeyBody,
          response: { 201: S.CreatedApiKey, ...errorResponses(422) },
        },
      },
      async (req, reply) => reply.code(201).send(await d.apiKeys.create(req.actor, req.body)),
    );
    app.get(
      '/api-keys/:id',
      {
        config: { permission: 'api-keys:read', scope: 'self', resource: 'api_key' },
        schema: { operationId: 'getApiKey', tags: ktags, summary: 'Get an API key', params: IdParams, response: { 200: S.ApiKey, ...errorResponses(404) } },
      },
      async (req) => d.apiKeys.get(req.actor, req.params.id),
    );
    app.delete(
      '/api-keys/:id',
      {
        config: { permission: 'api-keys:write', scope: 'self', resource: 'api_key' },
        schema: {
          operationId: 'revokeApiKey',
          tags: ktags,
          summary: 'Revoke an API key',
          params: IdParams,
          response: { ...NoContent, ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await d.apiKeys.revoke(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/api-keys/:id/rotate',
      {
        config: { permission: 'api-keys:write', scope: 'self', resource: 'api_key' },
        schema: {
          operationId: 'rotateApiKey',
          tags: ktags,
          summary: 'Replace the secret; the old key stops working',
          params: IdParams,
          response: { 201: S.CreatedApiKey, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await d.apiKeys.rotate(req.actor, req.params.id)),
    );

    app.get(
      '/audit',
      {
        config: { permission: 'audit:read' },
        schema: {
          operationId: 'listAudit',
          tags: ['audit'],
          summary: 'The audit log, newest first',
          querystring: AuditQuery,
          response: { 200: Page(S.AuditItem), ...errorResponses() },
        },
      },
      async (req) => d.audit.list(req.actor, req.query),
    );
  };
}
