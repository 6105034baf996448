import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  Channel,
  CreateChannelBody,
  CreateRuleBody,
  ListNotificationsQuery,
  Notification,
  NotificationWithLog,
  Rule,
  UpdateChannelBody,
  UpdateRuleBody,
} from './notifications.schemas.js';
import type { NotificationsService } from './notifications.service.js';

const tags = ['notifications'];
const read = { permission: 'notifications:read' };
const write = { permission: 'notifications:write' };
const scoped = (resource: string) => ({ scope: 'global', resource }) as const;

/** /api/v1/notifications: channels, routing rules and the delivery log. */
export function notificationsRoutes(service: NotificationsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/notifications/channels',
      {
        config: read,
        schema: {
          operationId: 'listNotificationChannels',
          tags,
          summary: 'List channels (secrets never returned)',
          response: { 200: Page(Channel), ...errorResponses() },
        },
      },
      async (req) => service.listChannels(req.actor),
    );
    app.post(
      '/notifications/channels',
      {
        config: write,
        schema: {
          operationId: 'createNotificationChannel',
          tags,
          summary: 'Create a channel (email, webhook, slack, slack_bot, teams, pagerduty, twilio_sms, fcm, apns)',
          description: 'Settings and secret fields per type: docs/notification-channels.md. Secrets are write-only.',
          body: CreateChannelBody,
          response: { 201: Channel, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.createChannel(req.actor, req.body)),
    );
    const channel = { ...scoped('notification_channel') };
    app.get(
      '/notifications/channels/:id',
      {
        config: { ...read, ...channel },
        schema: { operationId: 'getNotificationChannel', tags, summary: 'Get a channel', params: IdParams, response: { 200: Channel, ...errorResponses(404) } },
      },
      async (req) => service.getChannel(req.actor, req.params.id),
    );
    app.patch(
      '/notifications/channels/:id',
      {
        config: { ...write, ...channel },
        schema: {
          operationId: 'updateNotificationChannel',
          tags,
          summary: 'Change a channel',
          params: IdParams,
          body: UpdateChannelBody,
          response: { 200: Channel, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.updateChannel(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/notifications/channels/:id',
      {
        config: { ...write, ...channel },
        schema: {
          operationId: 'deleteNotificationChannel',
          tags,
          summary: 'Delete a channel no rule uses',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        await service.deleteChannel(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/notifications/channels/:id/test',
      {
        config: { ...write, ...channel },
        schema: {
          operationId: 'testNotificationChannel',
          tags,
          summary: 'Send a test notification now and answer with its outcome',
          params: IdParams,
          response: { 200: Notification, ...errorResponses(404) },
        },
      },
      async (req) => service.testChannel(req.actor, req.params.id),
    );

    app.get(
      '/notifications/rules',
      {
        config: read,
        schema: { operationId: 'listNotificationRules', tags, summary: 'List routing rules', response: { 200: Page(Rule), ...errorResponses() } },
      },
      async (req) => service.listRules(req.actor),
    );
    app.post(
      '/notifications/rules',
      {
        config: write,
        schema: {
          operationId: 'createNotificationRule',
          tags,
          summary: 'Create a routing rule',
          body: CreateRuleBody,
          response: { 201: Rule, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.createRule(req.actor, req.body)),
    );
    const rule = { ...scoped('notification_rule') };
    app.get(
      '/notifications/rules/:id',
      {
        config: { ...read, ...rule },
        schema: { operationId: 'getNotificationRule', tags, summary: 'Get a routing rule', params: IdParams, response: { 200: Rule, ...errorResponses(404) } },
      },
      async (req) => service.getRule(req.actor, req.params.id),
    );
    app.patch(
      '/notifications/rules/:id',
      {
        config: { ...write, ...rule },
        schema: {
          operationId: 'updateNotificationRule',
          tags,
          summary: 'Change a routing rule',
          params: IdParams,
          body: UpdateRuleBody,
          response: { 200: Rule, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.updateRule(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/notifications/rules/:id',
      {
        config: { ...write, ...rule },
        schema: {
          operationId: 'deleteNotificationRule',
          tags,
          summary: 'Delete a routing rule',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.deleteRule(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/notifications/deliveries',
      {
        config: read,
        schema: {
          operationId: 'listNotificationDeliveries',
          tags,
          summary: 'The outbox: notifications and their status, newest first (status=dead: the dead-letter list)',
          querystring: ListNotificationsQuery,
          response: { 200: Page(Notification), ...errorResponses() },
        },
      },
      async (req) => service.listDeliveries(req.actor, req.query),
    );
    const delivery = { ...scoped('notification') };
    app.get(
      '/notifications/deliveries/:id',
      {
        config: { ...read, ...delivery },
        schema: {
          operationId: 'getNotificationDelivery',
          tags,
          summary: 'A notification with its delivery log',
          params: IdParams,
          response: { 200: NotificationWithLog, ...errorResponses(404) },
        },
      },
      async (req) => service.getDelivery(req.actor, req.params.id),
    );
    app.post(
      '/notifications/deliveries/:id/replay',
      {
        config: { ...write, ...delivery },
        schema: {
          operationId: 'replayNotificationDelivery',
          tags,
          summary: 'Replay a dead-lettered notification',
          params: IdParams,
          response: { 200: Notification, ...errorResponses(404, 409) },
        },
      },
      async (req) => service.replay(req.actor, req.params.id),
    );
  };
}
