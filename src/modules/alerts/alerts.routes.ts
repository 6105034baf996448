import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  Alert,
  AlertmanagerBody,
  AlertmanagerResult,
  CreateAlertBody,
  CreatedIngestToken,
  CreateIngestTokenBody,
  IngestBody,
  IngestResult,
  IngestToken,
  ListAlertsQuery,
  TokenIngestResult,
  TransitionBody,
  UpdateAlertBody,
} from './alerts.schemas.js';
import type { AlertsService } from './alerts.service.js';

const tags = ['alerts'];
const read = { permission: 'alerts:read' };
const write = { permission: 'alerts:write' };
const one = { scope: 'global', resource: 'alert' } as const;
const INGEST_AUTH = 'Authenticated by an ingest token (`Authorization: Bearer <token>`, from POST /api/v1/alert-ingest-tokens), not by a user token.';

/** The ingest token from `Authorization: Bearer …`. */
const bearerToken = (h: string | undefined) => (h && /^bearer /i.test(h) ? h.slice(7).trim() : undefined);

/** /api/v1/alerts: thin handlers over the service, which authorises. */
export function alertsRoutes(service: AlertsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/alerts',
      {
        config: read,
        schema: {
          operationId: 'listAlerts',
          tags,
          summary: 'List alerts',
          querystring: ListAlertsQuery,
          response: { 200: Page(Alert), ...errorResponses(422) },
        },
      },
      async (req) => service.list(req.actor, req.query as Parameters<AlertsService['list']>[1]),
    );
    app.post(
      '/alerts',
      {
        config: write,
        schema: {
          operationId: 'createAlert',
          tags,
          summary: "Raise an alert (a repeat of an open alert's dedup key counts on it)",
          body: CreateAlertBody,
          response: { 200: IngestResult, 201: IngestResult, ...errorResponses(422) },
        },
      },
      async (req, reply) => {
        const r = await service.create(req.actor, req.body);
        return reply.code(r.outcome === 'created' ? 201 : 200).send(r);
      },
    );
    app.get(
      '/alerts/:id',
      {
        config: { ...read, ...one },
        schema: { operationId: 'getAlert', tags, summary: 'Get an alert', params: IdParams, response: { 200: Alert, ...errorResponses(404) } },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/alerts/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'updateAlert',
          tags,
          summary: 'Assign an alert or add a note',
          params: IdParams,
          body: UpdateAlertBody,
          response: { 200: Alert, ...errorResponses(404) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/alerts/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'deleteAlert',
          tags,
          summary: 'Delete an alert and its notifications',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    for (const [verb, op] of [
      ['acknowledge', 'acknowledgeAlert'],
      ['resolve', 'resolveAlert'],
    ] as const) {
      app.post(
        `/alerts/:id/${verb}`,
        {
          config: { ...write, ...one },
          schema: {
            operationId: op,
            tags,
            summary: verb === 'acknowledge' ? 'Acknowledge an open alert (stops its escalation)' : 'Resolve an alert',
            params: IdParams,
            body: Type.Optional(TransitionBody),
            response: { 200: Alert, ...errorResponses(404, 409) },
          },
        },
        async (req) =>
          verb === 'acknowledge' ? service.acknowledge(req.actor, req.params.id, req.body?.note) : service.resolve(req.actor, req.params.id, req.body?.note),
      );
    }
    app.post(
      '/alerts/ingest/alertmanager',
      {
        config: { public: true },
        schema: {
          operationId: 'ingestAlertmanager',
          tags,
          summary: 'Prometheus Alertmanager webhook receiver (payload version 4)',
          description: `${INGEST_AUTH} firing → open (repeats deduplicated by fingerprint), resolved → resolved.`,
          body: AlertmanagerBody,
          response: { 200: AlertmanagerResult, ...errorResponses() },
        },
      },
      async (req) => service.ingestAlertmanager(bearerToken(req.headers.authorization), req.body),
    );
    app.post(
      '/alerts/ingest/generic',
      {
        config: { public: true },
        schema: {
          operationId: 'ingestGenericAlert',
          tags,
          summary: 'Generic JSON alert receiver',
          description: INGEST_AUTH,
          body: IngestBody,
          response: { 200: TokenIngestResult, ...errorResponses() },
        },
      },
      async (req) => service.ingestGeneric(bearerToken(req.headers.authorization), req.body),
    );
    app.get(
      '/alert-ingest-tokens',
      {
        config: read,
        schema: {
          operationId: 'listAlertIngestTokens',
          tags,
          summary: 'List ingest tokens (never their values)',
          response: { 200: Page(IngestToken), ...errorResponses() },
        },
      },
      async (req) => service.listTokens(req.actor),
    );
    app.post(
      '/alert-ingest-tokens',
      {
        config: write,
        schema: {
          operationId: 'createAlertIngestToken',
          tags,
          summary: 'Create an ingest token (its value is shown once)',
          body: CreateIngestTokenBody,
          response: { 201: CreatedIngestToken, ...errorResponses(409) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.createToken(req.actor, req.body)),
    );
    app.delete(
      '/alert-ingest-tokens/:id',
      {
        config: { ...write, scope: 'global', resource: 'alert_ingest_token' },
        schema: {
          operationId: 'deleteAlertIngestToken',
          tags,
          summary: 'Revoke an ingest token',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.deleteToken(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
