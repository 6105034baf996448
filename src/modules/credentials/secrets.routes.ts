import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, Page } from '../../platform/http/schemas.js';
import { CreateSecretBody, ListSecretsQuery, Secret, SecretKeyParams, UpdateSecretBody } from './secrets.schemas.js';
import type { SecretsService } from './secrets.service.js';

const tags = ['secrets'];

/** /api/v1/secrets: key → value for jobs and workflows; values are always served masked. */
export function secretsRoutes(service: SecretsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/secrets',
      {
        config: { permission: 'secrets:read' },
        schema: {
          operationId: 'listSecrets',
          tags,
          summary: 'List secrets (values masked)',
          querystring: ListSecretsQuery,
          response: { 200: Page(Secret), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/secrets',
      {
        config: { permission: 'secrets:write' },
        schema: { operationId: 'createSecret', tags, summary: 'Create a secret', body: CreateSecretBody, response: { 201: Secret, ...errorResponses(409) } },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.get(
      '/secrets/:key',
      {
        config: { permission: 'secrets:read', scope: 'global', resource: 'secret' },
        schema: {
          operationId: 'getSecret',
          tags,
          summary: 'Get a secret (value masked)',
          params: SecretKeyParams,
          response: { 200: Secret, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.key),
    );
    app.patch(
      '/secrets/:key',
      {
        config: { permission: 'secrets:write', scope: 'global', resource: 'secret' },
        schema: {
          operationId: 'updateSecret',
          tags,
          summary: 'Replace a secret value or its description',
          params: SecretKeyParams,
          body: UpdateSecretBody,
          response: { 200: Secret, ...errorResponses(404) },
        },
      },
      async (req) => service.update(req.actor, req.params.key, req.body),
    );
    app.delete(
      '/secrets/:key',
      {
        config: { permission: 'secrets:write', scope: 'global', resource: 'secret' },
        schema: {
          operationId: 'deleteSecret',
          tags,
          summary: 'Delete a secret',
          params: SecretKeyParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.key);
        return reply.code(204).send(null);
      },
    );
  };
}
