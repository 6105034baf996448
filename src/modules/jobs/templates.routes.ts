import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import { CreateTemplateBody, ListTemplatesQuery, Run, RunTemplateBody, Template, UpdateTemplateBody } from './jobs.schemas.js';
import type { TemplatesService } from './templates.service.js';

const tags = ['jobs'];

/** /api/v1/jobs/templates. */
export function templatesRoutes(templates: TemplatesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/jobs/templates',
      {
        config: { permission: 'jobs:write' },
        schema: {
          operationId: 'createJobTemplate',
          tags,
          summary: 'Save a named run definition',
          body: CreateTemplateBody,
          response: { 201: Template, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await templates.create(req.actor, req.body)),
    );
    app.get(
      '/jobs/templates',
      {
        config: { permission: 'jobs:read' },
        schema: {
          operationId: 'listJobTemplates',
          tags,
          summary: 'List job templates',
          querystring: ListTemplatesQuery,
          response: {
            200: Type.Object({ items: Type.Array(Template), next_cursor: Type.Union([Type.String({ maxLength: 2048 }), Type.Null()]) }),
            ...errorResponses(),
          },
        },
      },
      async (req) => templates.list(req.actor, req.query),
    );
    app.get(
      '/jobs/templates/:id',
      {
        config: { permission: 'jobs:read', scope: 'team', resource: 'job_template' },
        schema: { operationId: 'getJobTemplate', tags, summary: 'A job template', params: IdParams, response: { 200: Template, ...errorResponses(404) } },
      },
      async (req) => templates.get(req.actor, req.params.id),
    );
    app.patch(
      '/jobs/templates/:id',
      {
        config: { permission: 'jobs:write', scope: 'team', resource: 'job_template' },
        schema: {
          operationId: 'updateJobTemplate',
          tags,
          summary: 'Change a job template',
          params: IdParams,
          body: UpdateTemplateBody,
          response: { 200: Template, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => templates.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/jobs/templates/:id',
      {
        config: { permission: 'jobs:write', scope: 'team', resource: 'job_template' },
        schema: {
          operationId: 'deleteJobTemplate',
          tags,
          summary: 'Delete a job template (its runs stay)',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await templates.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/jobs/templates/:id/run',
      {
        config: { permission: 'jobs:run', scope: 'team', resource: 'job_template' },
        schema: {
          operationId: 'runJobTemplate',
          tags,
          summary: 'Run a template with overrides',
          params: IdParams,
          body: Type.Optional(RunTemplateBody),
          response: { 202: Run, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => reply.code(202).send((await templates.run(req.actor, req.params.id, req.body ?? {})).run),
    );
  };
}
