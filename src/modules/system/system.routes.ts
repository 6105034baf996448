import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import { Liveness, LogsPage, LogsQuery, Readiness, SystemDetailed } from './system.schemas.js';
import type { SystemLogs } from './system-logs.service.js';
import type { SystemService } from './system.service.js';
import { errorResponses, ProblemRef } from '../../platform/http/schemas.js';

/** /health, /health/ready and /metrics: public, at the root, never behind admission control (answered while the server is saturated). */
export function healthRoutes(service: SystemService, metrics: Registry | null): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        config: { public: true, admission: 'exempt' },
        schema: { operationId: 'getLiveness', tags: ['system'], summary: 'Liveness', response: { 200: Liveness, 400: ProblemRef } },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/health/ready',
      {
        config: { public: true, admission: 'exempt' },
        schema: {
          operationId: 'getReadiness',
          tags: ['system'],
          summary: 'Readiness: database and (cluster mode) Redis, with latencies',
          response: { 200: Readiness, 400: ProblemRef, 503: Readiness },
        },
      },
      async (_req, reply) => {
        const r = await service.readiness();
        return reply.code(r.status === 'ready' ? 200 : 503).send(r);
      },
    );
    if (metrics) {
      app.get(
        '/metrics',
        {
          config: { public: true, admission: 'exempt' },
          schema: {
            operationId: 'getMetrics',
            tags: ['system'],
            summary: 'Prometheus metrics',
            produces: ['text/plain'],
            response: { 200: Type.String(), 400: ProblemRef },
          },
        },
        async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
      );
    }
  };
}

/** /api/v1/system/*. */
export function systemRoutes(service: SystemService, logs: SystemLogs | null): FastifyPluginAsyncTypebox {
  return async (app) => {
    if (logs) {
      app.get(
        '/system/logs',
        {
          config: { permission: 'logs:read' },
          schema: {
            operationId: 'listSystemLogs',
            tags: ['system'],
            summary: 'Persisted warnings, errors and audit-relevant info of every node, newest first',
            querystring: LogsQuery,
            response: { 200: LogsPage, ...errorResponses(400) },
          },
        },
        async (req) => logs.list(req.actor, req.query),
      );
    }
    app.get(
      '/system/info',
      {
        config: { permission: 'system:read' },
        schema: {
          operationId: 'getSystemInfo',
          tags: ['system'],
          summary: 'Version, mode, roles, uptime, nodes alive, queue depths and dependency latencies',
          response: { 200: SystemDetailed, ...errorResponses() },
        },
      },
      async () => service.detailed(),
    );
  };
}

/** /health/detailed: at the root like /health, but authenticated (`system:read`); not on a worker's own listener. */
export function detailedHealthRoutes(service: SystemService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health/detailed',
      {
        config: { permission: 'system:read' },
        schema: {
          operationId: 'getDetailedHealth',
          tags: ['system'],
          summary: 'Version, mode, roles, nodes alive with their heartbeats, queue depths, database and Redis latency',
          response: { 200: SystemDetailed, ...errorResponses() },
        },
      },
      async () => service.detailed(),
    );
  };
}
