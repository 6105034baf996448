import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Uuid } from '../../platform/http/schemas.js';
import type { SshHostKeysService } from './ssh-host-keys.service.js';

const SshHostKey = Type.Object(
  {
    id: Uuid,
    device_id: Type.Union([Uuid, Type.Null()]),
    host: Type.String({ maxLength: 255 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    fingerprint: Type.String({ maxLength: 100, description: 'SHA256:<base64>, as `ssh-keygen -l -E sha256` prints it' }),
    first_seen_at: Type.String({ format: 'date-time' }),
    last_seen_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'SshHostKey', additionalProperties: false },
);
const ListQuery = Type.Object(
  { host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);
const tags = ['jobs'];

/** Pinned SSH host keys (trust on first use): read a device's pin, forget it to accept a new key. */
export function sshHostKeysRoutes(service: SshHostKeysService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/devices/:id/ssh-host-key',
      {
        config: { permission: 'devices:read', scope: 'global', resource: 'device' },
        schema: {
          operationId: 'getDeviceSshHostKey',
          tags,
          summary: "The device's SSH host key pinned at the first connection",
          params: IdParams,
          response: { 200: SshHostKey, ...errorResponses(404) },
        },
      },
      async (req) => service.getForDevice(req.actor, req.params.id),
    );
    app.delete(
      '/devices/:id/ssh-host-key',
      {
        config: { permission: 'devices:write', scope: 'global', resource: 'device' },
        schema: {
          operationId: 'forgetDeviceSshHostKey',
          tags,
          summary: "Forget the device's pinned SSH host key: the next connection pins the key it presents",
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.forgetForDevice(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/jobs/ssh-host-keys',
      {
        config: { permission: 'jobs:read' },
        schema: {
          operationId: 'listSshHostKeys',
          tags,
          summary: 'SSH host keys pinned for ad-hoc host:port targets (not devices)',
          querystring: ListQuery,
          response: { 200: Type.Object({ items: Type.Array(SshHostKey) }), ...errorResponses() },
        },
      },
      async (req) => service.listAdHoc(req.actor, req.query.host, req.query.limit ?? 100),
    );
    app.delete(
      '/jobs/ssh-host-keys/:id',
      {
        config: { permission: 'jobs:admin', scope: 'global', resource: 'ssh_host_key' },
        schema: {
          operationId: 'forgetSshHostKey',
          tags,
          summary: "Forget an ad-hoc target's pinned SSH host key: the next connection pins the key it presents",
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.forgetAdHoc(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
