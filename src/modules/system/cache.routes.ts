import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import type { CacheAdmin } from './cache-admin.service.js';

const tags = ['cache'];
const NoContent = { 204: Type.Null() };

const NamespaceStats = Type.Object(
  {
    namespace: Type.String({ maxLength: 32 }),
    hits: Type.Integer({ minimum: 0 }),
    misses: Type.Integer({ minimum: 0 }),
    size: Type.Integer({ minimum: 0, description: 'entries held in this node’s memory tier now' }),
    evictions: Type.Integer({ minimum: 0, description: 'entries this node’s memory tier dropped to stay within its bound' }),
  },
  { additionalProperties: false },
);
const CacheStatsView = Type.Object(
  {
    node: Type.String({ maxLength: 200, description: 'the node that answered: figures are this node’s since it started' }),
    namespaces: Type.Array(NamespaceStats),
    prefetchable: Type.Array(Type.String({ maxLength: 63 }), { description: 'namespaces the `cache` settings section may list under `prefetch`' }),
  },
  { additionalProperties: false },
);
const NamespaceParams = Type.Object(
  {
    namespace: Type.String({
      pattern: '^[a-z][a-z0-9_-]{0,31}$',
      maxLength: 32,
      description: 'a key’s text up to its first colon (`other` for keys without one)',
    }),
  },
  { additionalProperties: false },
);
const TagParams = Type.Object({ tag: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

/** /api/v1/cache: statistics per namespace; clearing a namespace or a tag takes effect on every node. */
export function cacheRoutes(admin: CacheAdmin): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/cache',
      {
        config: { permission: 'cache:read' },
        schema: {
          operationId: 'getCacheStats',
          tags,
          summary: 'Cache hits, misses, entries and evictions per namespace, as this node sees them',
          response: { 200: CacheStatsView, ...errorResponses() },
        },
      },
      async (req) => admin.stats(req.actor),
    );
    app.delete(
      '/cache/namespaces/:namespace',
      {
        config: { permission: 'cache:write', scope: 'global', resource: 'cache_namespace' },
        schema: {
          operationId: 'clearCacheNamespace',
          tags,
          summary: 'Drop every cached entry of a namespace, on every node (audited)',
          params: NamespaceParams,
          response: { ...NoContent, ...errorResponses(400) },
        },
      },
      async (req, reply) => {
        await admin.clearNamespace(req.actor, req.params.namespace);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/cache/tags/:tag',
      {
        config: { permission: 'cache:write', scope: 'global', resource: 'cache_tag' },
        schema: {
          operationId: 'clearCacheTag',
          tags,
          summary: 'Drop every cached entry carrying a tag, on every node (audited)',
          params: TagParams,
          response: { ...NoContent, ...errorResponses(400) },
        },
      },
      async (req, reply) => {
        await admin.clearTag(req.actor, req.params.tag);
        return reply.code(204).send(null);
      },
    );
  };
}
