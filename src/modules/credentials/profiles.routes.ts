import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import { CreateProfileBody, ListProfilesQuery, Profile, UpdateProfileBody } from './profiles.schemas.js';
import type { ProfilesService } from './profiles.service.js';

const tags = ['credentials'];

/** /api/v1/credential-profiles: ordered fallback lists of credentials. */
export function profilesRoutes(service: ProfilesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/credential-profiles',
      {
        config: { permission: 'credentials:read' },
        schema: {
          operationId: 'listCredentialProfiles',
          tags,
          summary: 'List credential profiles',
          querystring: ListProfilesQuery,
          response: { 200: Page(Profile), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/credential-profiles',
      {
        config: { permission: 'credentials:write' },
        schema: {
          operationId: 'createCredentialProfile',
          tags,
          summary: 'Create a credential profile',
          body: CreateProfileBody,
          response: { 201: Profile, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.get(
      '/credential-profiles/:id',
      {
        config: { permission: 'credentials:read', scope: 'team', resource: 'credential_profile' },
        schema: {
          operationId: 'getCredentialProfile',
          tags,
          summary: 'Get a credential profile',
          params: IdParams,
          response: { 200: Profile, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/credential-profiles/:id',
      {
        config: { permission: 'credentials:write', scope: 'team', resource: 'credential_profile' },
        schema: {
          operationId: 'updateCredentialProfile',
          tags,
          summary: 'Update a credential profile (credential_ids replaces the order)',
          params: IdParams,
          body: UpdateProfileBody,
          response: { 200: Profile, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/credential-profiles/:id',
      {
        config: { permission: 'credentials:write', scope: 'team', resource: 'credential_profile' },
        schema: {
          operationId: 'deleteCredentialProfile',
          tags,
          summary: 'Delete a credential profile',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
