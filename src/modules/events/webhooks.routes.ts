import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import { CreateWebhookBody, Delivery, ListDeliveriesQuery, ListWebhooksQuery, UpdateWebhookBody, Webhook } from './webhooks.schemas.js';
import type { WebhooksService } from './webhooks.service.js';

const tags = ['webhooks'];
const read = { permission: 'webhooks:read' };
const write = { permission: 'webhooks:write' };

/** /api/v1/webhooks: thin handlers over the service, which authorises. */
export function webhooksRoutes(service: WebhooksService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/webhooks',
      {
        config: read,
        schema: {
          operationId: 'listWebhooks',
          tags,
          summary: 'List outbound webhooks',
          querystring: ListWebhooksQuery,
          response: { 200: Page(Webhook), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/webhooks',
      {
        config: write,
        schema: {
          operationId: 'createWebhook',
          tags,
          summary:
            'Create a webhook: matching events are POSTed to its URL, signed with X-Opsdeck-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>',
          body: CreateWebhookBody,
          response: { 201: Webhook, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.get(
      '/webhooks/:id',
      {
        config: { ...read, scope: 'global', resource: 'webhook' },
        schema: {
          operationId: 'getWebhook',
          tags,
          summary: 'Get a webhook (never its secret)',
          params: IdParams,
          response: { 200: Webhook, ...errorResponses(404) },
        },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/webhooks/:id',
      {
        config: { ...write, scope: 'global', resource: 'webhook' },
        schema: {
          operationId: 'updateWebhook',
          tags,
          summary: 'Change some fields of a webhook (a new secret replaces the old one)',
          params: IdParams,
          body: UpdateWebhookBody,
          response: { 200: Webhook, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/webhooks/:id',
      {
        config: { ...write, scope: 'global', resource: 'webhook' },
        schema: {
          operationId: 'deleteWebhook',
          tags,
          summary: 'Delete a webhook and its delivery log',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/webhooks/:id/ping',
      {
        config: { ...write, scope: 'global', resource: 'webhook' },
        schema: {
          operationId: 'pingWebhook',
          tags,
          summary: 'Send a signed webhook.ping event now; answers with the delivery (status code, duration, error)',
          params: IdParams,
          response: { 200: Delivery, ...errorResponses(404) },
        },
      },
      async (req) => service.ping(req.actor, req.params.id),
    );
    app.get(
      '/webhooks/:id/deliveries',
      {
        config: { ...read, scope: 'global', resource: 'webhook' },
        schema: {
          operationId: 'listWebhookDeliveries',
          tags,
          summary: 'The delivery log of a webhook, newest first',
          params: IdParams,
          querystring: ListDeliveriesQuery,
          response: { 200: Page(Delivery), ...errorResponses(404) },
        },
      },
      async (req) => service.deliveries(req.actor, req.params.id, req.query),
    );
  };
}
