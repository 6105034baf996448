import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import { CreateScheduleBody, Fire, ListFiresQuery, ListSchedulesQuery, Preview, PreviewQuery, Schedule, UpdateScheduleBody } from './schedules.schemas.js';
import type { SchedulesService } from './schedules.service.js';

const tags = ['schedules'];
const read = { permission: 'schedules:read' };
const write = { permission: 'schedules:write' };

/** /api/v1/schedules: thin handlers over the service, which authorises. */
export function schedulesRoutes(service: SchedulesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/schedules',
      {
        config: read,
        schema: {
          operationId: 'listSchedules',
          tags,
          summary: 'List schedules',
          querystring: ListSchedulesQuery,
          response: { 200: Page(Schedule), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/schedules',
      {
        config: write,
        schema: {
          operationId: 'createSchedule',
          tags,
          summary: 'Create a cron, interval or one-off schedule of a job template',
          body: CreateScheduleBody,
          response: { 201: Schedule, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.get(
      '/schedules/:id',
      {
        config: { ...read, scope: 'team', resource: 'schedule' },
        schema: { operationId: 'getSchedule', tags, summary: 'Get a schedule', params: IdParams, response: { 200: Schedule, ...errorResponses(404) } },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/schedules/:id',
      {
        config: { ...write, scope: 'team', resource: 'schedule' },
        schema: {
          operationId: 'updateSchedule',
          tags,
          summary: 'Change some fields of a schedule',
          params: IdParams,
          body: UpdateScheduleBody,
          response: { 200: Schedule, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/schedules/:id',
      {
        config: { ...write, scope: 'team', resource: 'schedule' },
        schema: {
          operationId: 'deleteSchedule',
          tags,
          summary: 'Delete a schedule and its history',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    for (const [verb, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      app.post(
        `/schedules/:id/${verb}`,
        {
          config: { ...write, scope: 'team', resource: 'schedule' },
          schema: {
            operationId: `${verb}Schedule`,
            tags,
            summary: `${verb === 'enable' ? 'Enable' : 'Disable'} a schedule`,
            params: IdParams,
            response: { 200: Schedule, ...errorResponses(404, 422) },
          },
        },
        async (req) => service.setEnabled(req.actor, req.params.id, enabled),
      );
    }
    app.get(
      '/schedules/:id/preview',
      {
        config: { ...read, scope: 'team', resource: 'schedule' },
        schema: {
          operationId: 'previewSchedule',
          tags,
          summary: 'Next fire times (DST-correct)',
          params: IdParams,
          querystring: PreviewQuery,
          response: { 200: Preview, ...errorResponses(404) },
        },
      },
      async (req) => service.preview(req.actor, req.params.id, req.query.count ?? 10),
    );
    app.post(
      '/schedules/:id/trigger',
      {
        config: { ...write, scope: 'team', resource: 'schedule' },
        schema: {
          operationId: 'triggerSchedule',
          tags,
          summary: 'Run the schedule now',
          params: IdParams,
          response: { 202: Fire, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => reply.code(202).send(await service.trigger(req.actor, req.params.id)),
    );
    app.get(
      '/schedules/:id/runs',
      {
        config: { ...read, scope: 'team', resource: 'schedule' },
        schema: {
          operationId: 'listScheduleRuns',
          tags,
          summary: 'Fires of a schedule and the runs they created, newest first',
          params: IdParams,
          querystring: ListFiresQuery,
          response: { 200: Page(Fire), ...errorResponses(404) },
        },
      },
      async (req) => service.history(req.actor, req.params.id, req.query),
    );
  };
}
