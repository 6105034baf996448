import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  AccessLogEntry,
  AccessLogQuery,
  CreateCredentialBody,
  Credential,
  ListCredentialsQuery,
  RevealBody,
  Revealed,
  TestBody,
  TestResult,
  UpdateCredentialBody,
} from './credentials.schemas.js';
import type { CredentialsService } from './credentials.service.js';
import { STEP_UP_HEADER } from '../identity/index.js';

const tags = ['credentials'];

/** /api/v1/credentials: metadata CRUD, reveal, test, access log. */
export function credentialsRoutes(service: CredentialsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/credentials',
      {
        config: { permission: 'credentials:read' },
        schema: {
          operationId: 'listCredentials',
          tags,
          summary: 'List credentials (metadata only)',
          querystring: ListCredentialsQuery,
          response: { 200: Page(Credential), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/credentials',
      {
        config: { permission: 'credentials:write' },
        schema: {
          operationId: 'createCredential',
          tags,
          summary: 'Create a credential',
          body: CreateCredentialBody,
          response: { 201: Credential, ...errorResponses(409) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.get(
      '/credentials/:id',
      {
        config: { permission: 'credentials:read', scope: 'team', resource: 'credential' },
        schema: {
          operationId: 'getCredential',
          tags,
          summary: 'Get a credential (metadata only)',
          params: IdParams,
          response: { 200: Credential, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/credentials/:id',
      {
        config: { permission: 'credentials:write', scope: 'team', resource: 'credential' },
        schema: {
          operationId: 'updateCredential',
          tags,
          summary: 'Update a credential; omitted secret fields stay as they are, null removes an optional one',
          params: IdParams,
          body: UpdateCredentialBody,
          response: { 200: Credential, ...errorResponses(404, 409) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/credentials/:id',
      {
        config: { permission: 'credentials:write', scope: 'team', resource: 'credential' },
        schema: {
          operationId: 'deleteCredential',
          tags,
          summary: 'Delete a credential',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/credentials/:id/reveal',
      {
        config: { permission: 'credentials:reveal', scope: 'team', resource: 'credential' },
        schema: {
          operationId: 'revealCredential',
          tags,
          summary: 'Show the plaintext: needs a reason and, for users with 2FA, a fresh TOTP code (body `totp` or the x-totp-code header); audited',
          params: IdParams,
          body: RevealBody,
          response: { 200: Revealed, ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        // Identity's step-up convention is the x-totp-code header; the body field is the documented shape.
        const header = req.headers[STEP_UP_HEADER];
        const totp = req.body.totp ?? (typeof header === 'string' ? header : undefined);
        return reply.header('cache-control', 'no-store').send(await service.reveal(req.actor, req.params.id, { ...req.body, ...(totp ? { totp } : {}) }));
      },
    );
    app.post(
      '/credentials/:id/test',
      {
        config: { permission: 'credentials:use', scope: 'team', resource: 'credential' },
        schema: {
          operationId: 'testCredential',
          tags,
          summary: 'Try the credential against a host (SSH login, SNMP get of sysName.0)',
          params: IdParams,
          body: TestBody,
          response: { 200: TestResult, ...errorResponses(404, 422) },
        },
      },
      async (req) => service.test(req.actor, req.params.id, req.body),
    );
    app.get(
      '/credentials/:id/access-log',
      {
        config: { permission: 'credentials:read', scope: 'team', resource: 'credential' },
        schema: {
          operationId: 'listCredentialAccess',
          tags,
          summary: 'Every resolve, reveal and test of the credential, newest first',
          params: IdParams,
          querystring: AccessLogQuery,
          response: { 200: Page(AccessLogEntry), ...errorResponses(404) },
        },
      },
      async (req) => service.accessLog(req.actor, req.params.id, req.query),
    );
  };
}
