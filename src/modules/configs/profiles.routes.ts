import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import { CreateProfileBody, Profile, ProfileBody, ProfileParams } from './profiles.schemas.js';
import type { ProfilesService } from './profiles.service.js';

const tags = ['configs'];
const read = { permission: 'configs:read' };
const write = { permission: 'configs:write' };
/** Profiles are global objects (no team owns one). */
const profile = { scope: 'global', resource: 'config_profile' } as const;

/** Platform profiles of configuration backups: /configs/profiles. */
export function profilesRoutes(service: ProfilesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/configs/profiles',
      {
        config: read,
        schema: {
          operationId: 'listConfigProfiles',
          tags,
          summary: 'Platform profiles: built-in and user-defined',
          response: { 200: Type.Object({ items: Type.Array(Profile) }), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor),
    );
    app.post(
      '/configs/profiles',
      {
        config: write,
        schema: {
          operationId: 'createConfigProfile',
          tags,
          summary: 'Define a platform profile (RE2 patterns are checked)',
          body: CreateProfileBody,
          response: { 201: Profile, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.get(
      '/configs/profiles/:id',
      {
        config: { ...read, ...profile },
        schema: {
          operationId: 'getConfigProfile',
          tags,
          summary: 'One platform profile',
          params: ProfileParams,
          response: { 200: Profile, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.put(
      '/configs/profiles/:id',
      {
        config: { ...write, ...profile },
        schema: {
          operationId: 'replaceConfigProfile',
          tags,
          summary: 'Replace a user-defined platform profile',
          params: ProfileParams,
          body: ProfileBody,
          response: { 200: Profile, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/configs/profiles/:id',
      {
        config: { ...write, ...profile },
        schema: {
          operationId: 'deleteConfigProfile',
          tags,
          summary: 'Remove a user-defined platform profile (a built-in it replaced applies again)',
          params: ProfileParams,
          response: { 204: Type.Null(), ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
