import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import {
  CreateRunBody,
  Deleted,
  ExecutorTypes,
  LatestQuery,
  ListRunsQuery,
  LogPage,
  LogQuery,
  RetryRunBody,
  Run,
  RunOutput,
  RunTargets,
} from './jobs.schemas.js';
import { BadRequestError } from '../../platform/errors.js';
import type { JobsService } from './jobs.service.js';
import { requestFingerprint } from './run-input.fns.js';
import type { TemplatesService } from './templates.service.js';

const tags = ['jobs'];
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Repeat-safe creation: the same key with the same body returns the first run (200); with a different body, 422 IDEMPOTENCY_KEY_REUSED',
    }),
  ),
});

/** /api/v1/jobs/runs and /api/v1/jobs/types. */
export function runsRoutes(jobs: JobsService, templates: TemplatesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/jobs/runs',
      {
        config: { permission: 'jobs:run' },
        schema: {
          operationId: 'createJobRun',
          tags,
          summary: 'Start a run (ad hoc, or from a template with overrides)',
          headers: IdempotencyHeaders,
          body: CreateRunBody,
          response: { 200: Run, 202: Run, ...errorResponses(404, 409, 422) },
        },
      },
      async (req, reply) => {
        const { template_id: templateId, ...rest } = req.body;
        const key = req.headers['idempotency-key'];
        if (!templateId && !rest.type) {
          throw new BadRequestError('VALIDATION_FAILED', 'Give type or template_id', [{ path: 'body.type', message: 'type or template_id is required' }]);
        }
        const options = { idempotencyKey: key, requestHash: key ? requestFingerprint(req.body) : undefined };
        const result = templateId
          ? await templates.run(req.actor, templateId, rest, options)
          : await jobs.createRun(req.actor, { ...rest, type: rest.type! }, options);
        return reply.code(result.created ? 202 : 200).send(result.run);
      },
    );
    app.get(
      '/jobs/runs',
      {
        config: { permission: 'jobs:read' },
        schema: {
          operationId: 'listJobRuns',
          tags,
          summary: 'List runs (filters, sort, cursor)',
          querystring: ListRunsQuery,
          response: {
            200: Type.Object({ items: Type.Array(Run), next_cursor: Type.Union([Type.String({ maxLength: 2048 }), Type.Null()]) }),
            ...errorResponses(),
          },
        },
      },
      async (req) => jobs.listRuns(req.actor, req.query),
    );
    app.get(
      '/jobs/runs/latest',
      {
        config: { permission: 'jobs:read' },
        schema: {
          operationId: 'getLatestJobRunReport',
          tags,
          summary: 'The newest finished run of a template and its report',
          querystring: LatestQuery,
          response: { 200: RunOutput, ...errorResponses(404) },
        },
      },
      async (req) => jobs.latestOfTemplate(req.actor, await templates.resolve(req.actor, req.query.template)),
    );
    app.get(
      '/jobs/runs/:id',
      {
        config: { permission: 'jobs:read', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'getJobRun',
          tags,
          summary: 'A run, with blocked_by and queue position while queued',
          params: IdParams,
          response: { 200: Run, ...errorResponses(404) },
        },
      },
      async (req) => jobs.getRun(req.actor, req.params.id),
    );
    app.post(
      '/jobs/runs/:id/cancel',
      {
        config: { permission: 'jobs:run', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'cancelJobRun',
          tags,
          summary: 'Cancel a queued or running run (work in progress stops within seconds)',
          params: IdParams,
          response: { 202: Run, ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => reply.code(202).send(await jobs.cancelRun(req.actor, req.params.id)),
    );
    app.post(
      '/jobs/runs/:id/retry',
      {
        config: { permission: 'jobs:run', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'retryJobRun',
          tags,
          summary: 'Start a new run from a finished one (by default only its failed targets)',
          params: IdParams,
          body: Type.Optional(RetryRunBody),
          response: { 202: Run, ...errorResponses(404, 409, 422) },
        },
      },
      async (req, reply) => reply.code(202).send(await jobs.retryRun(req.actor, req.params.id, req.body?.only_failed ?? true)),
    );
    app.get(
      '/jobs/runs/:id/logs',
      {
        config: { permission: 'jobs:read', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'getJobRunLogs',
          tags,
          summary: 'Log lines in order, after a sequence number',
          params: IdParams,
          querystring: LogQuery,
          response: { 200: LogPage, ...errorResponses(404) },
        },
      },
      async (req) => jobs.logs(req.actor, req.params.id, req.query.cursor ? Number(req.query.cursor) : (req.query.after ?? 0), req.query.limit ?? 1000),
    );
    app.delete(
      '/jobs/runs/:id/logs',
      {
        config: { permission: 'jobs:admin', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'deleteJobRunLogs',
          tags,
          summary: "Clear a finished run's logs",
          params: IdParams,
          response: { 200: Deleted, ...errorResponses(404, 409) },
        },
      },
      async (req) => jobs.deleteLogs(req.actor, req.params.id),
    );
    app.delete(
      '/jobs/logs',
      {
        config: { permission: 'jobs:admin' },
        schema: { operationId: 'clearFinishedJobLogs', tags, summary: 'Clear the logs of every finished run', response: { 200: Deleted, ...errorResponses() } },
      },
      async (req) => jobs.clearFinishedLogs(req.actor),
    );
    app.get(
      '/jobs/runs/:id/output',
      {
        config: { permission: 'jobs:read', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'getJobRunOutput',
          tags,
          summary: 'Per-target results and the run report',
          params: IdParams,
          response: { 200: RunOutput, ...errorResponses(404) },
        },
      },
      async (req) => jobs.output(req.actor, req.params.id),
    );
    app.get(
      '/jobs/runs/:id/targets',
      {
        config: { permission: 'jobs:read', scope: 'team', resource: 'job_run' },
        schema: {
          operationId: 'getJobRunTargets',
          tags,
          summary: 'What the run targets resolved to (device by device, with the selector and the credential id that served each)',
          params: IdParams,
          response: { 200: RunTargets, ...errorResponses(404) },
        },
      },
      async (req) => jobs.targets(req.actor, req.params.id),
    );
    app.get(
      '/jobs/types',
      {
        config: { permission: 'jobs:read' },
        schema: {
          operationId: 'listJobTypes',
          tags,
          summary: 'Executor types with their parameter and output schemas',
          response: { 200: ExecutorTypes, ...errorResponses() },
        },
      },
      async (req) => jobs.types(req.actor),
    );
  };
}
