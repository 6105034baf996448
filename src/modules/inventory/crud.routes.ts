import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { IdParams, Page, errorResponses } from '../../platform/http/schemas.js';
import type { CrudService } from './crud.service.js';
import { BulkDelete, IncludeOnly, listQuerySchema } from './inventory.schemas.js';

const pascal = (s: string) => s.replace(/(^|[-_/])([a-z])/g, (_m, _sep, c: string) => c.toUpperCase());

export interface CrudRouteOptions {
  extraQuery?: Record<string, TSchema>;
  patternQuery?: Record<string, TSchema>;
}

/**
 * The eight routes every inventory object has: list, get, create, update, delete and the bulk
 * create/update/delete (one transaction, all-or-nothing, per-row errors).
 */
export function crudRoutes(service: CrudService<any>, options: CrudRouteOptions = {}): FastifyPluginAsyncTypebox {
  const def = service.def;
  const one = pascal(def.kind);
  const many = pascal(def.plural);
  const base = `/${def.plural}`;
  const read = { permission: `${def.permission}:read` };
  const write = { permission: `${def.permission}:write` };
  // Inventory is global (docs/architecture.md "Team scoping"): one policy for every by-id route.
  const byId = { scope: 'global', resource: def.kind } as const;
  const includes = Object.keys(def.includes ?? {});
  const tags = [def.tag];
  const item = def.schemas.item;
  const query = listQuerySchema(def.filters, def.sortFields, includes, options.extraQuery, options.patternQuery);
  const Items = Type.Object({ items: Type.Array(item) }, { additionalProperties: false });

  return async (app) => {
    app.get(
      base,
      {
        config: read,
        schema: {
          operationId: `list${many}`,
          tags,
          summary: `List ${def.plural}`,
          querystring: query,
          response: { 200: Page(Type.Partial(item)), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query as Record<string, unknown>),
    );
    app.get(
      `${base}/:id`,
      {
        config: { ...read, ...byId },
        schema: {
          operationId: `get${one}`,
          tags,
          summary: `Get a ${def.title.toLowerCase()}`,
          params: IdParams,
          querystring: IncludeOnly(includes),
          response: { 200: item, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.id, req.query as { include?: string }),
    );
    app.post(
      base,
      {
        config: write,
        schema: {
          operationId: `create${one}`,
          tags,
          summary: `Create a ${def.title.toLowerCase()}`,
          body: def.schemas.create,
          response: { 201: item, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body as Record<string, unknown>)),
    );
    app.patch(
      `${base}/:id`,
      {
        config: { ...write, ...byId },
        schema: {
          operationId: `update${one}`,
          tags,
          summary: `Update a ${def.title.toLowerCase()}`,
          params: IdParams,
          body: def.schemas.update,
          response: { 200: item, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body as Record<string, unknown>),
    );
    app.delete(
      `${base}/:id`,
      {
        config: { ...write, ...byId },
        schema: {
          operationId: `delete${one}`,
          tags,
          summary: `Delete a ${def.title.toLowerCase()}`,
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
      `${base}/bulk`,
      {
        config: write,
        schema: {
          operationId: `bulkCreate${many}`,
          tags,
          summary: `Create many ${def.plural} (all or nothing)`,
          body: def.schemas.bulkCreate,
          response: { 201: Items, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.bulkCreate(req.actor, (req.body as { items: Record<string, unknown>[] }).items)),
    );
    app.patch(
      `${base}/bulk`,
      {
        config: write,
        schema: {
          operationId: `bulkUpdate${many}`,
          tags,
          summary: `Update many ${def.plural} (all or nothing)`,
          body: def.schemas.bulkUpdate,
          response: { 200: Items, ...errorResponses(409, 422) },
        },
      },
      async (req) => service.bulkUpdate(req.actor, (req.body as { items: ({ id: string } & Record<string, unknown>)[] }).items),
    );
    app.delete(
      `${base}/bulk`,
      {
        config: write,
        schema: {
          operationId: `bulkDelete${many}`,
          tags,
          summary: `Delete many ${def.plural} (all or nothing)`,
          body: BulkDelete,
          response: { 204: Type.Null(), ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => {
        await service.bulkDelete(req.actor, req.body.ids);
        return reply.code(204).send(null);
      },
    );
  };
}
