import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  Counted,
  CreateWorkflowBody,
  ExecuteBody,
  Execution,
  ExportDocument,
  HookAccepted,
  HookParams,
  ImportQuery,
  ListExecutionsQuery,
  ListWorkflowsQuery,
  NodeParams,
  DecisionBody,
  NodeTypeView,
  UpdateWorkflowBody,
  VersionParams,
  WebhookToken,
  Workflow,
  WorkflowVersion,
} from './workflows.schemas.js';
import type { WorkflowsService } from './workflows.service.js';

const tags = ['workflows'];
const read = { permission: 'workflows:read' };
const write = { permission: 'workflows:write' };
const execute = { permission: 'workflows:execute' };
const one = { scope: 'team', resource: 'workflow' } as const;
const run = { scope: 'team', resource: 'workflow_execution' } as const;

/** /api/v1/workflows: definitions, versions, import/export, webhook tokens. */
export function workflowsRoutes(service: WorkflowsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/workflows/node-types',
      {
        config: read,
        schema: {
          operationId: 'listWorkflowNodeTypes',
          tags,
          summary: 'Node types with their parameter and output schemas',
          response: { 200: Type.Object({ items: Type.Array(NodeTypeView) }), ...errorResponses() },
        },
      },
      async (req) => service.nodeTypes(req.actor),
    );
    for (const kind of ['folders', 'tags'] as const) {
      app.get(
        `/workflows/${kind}`,
        {
          config: read,
          schema: {
            operationId: `listWorkflow${kind === 'folders' ? 'Folders' : 'Tags'}`,
            tags,
            summary: `Workflow ${kind} in use, with counts`,
            response: { 200: Counted, ...errorResponses() },
          },
        },
        async (req) => service.labels(req.actor, kind),
      );
    }
    app.get(
      '/workflows',
      {
        config: read,
        schema: {
          operationId: 'listWorkflows',
          tags,
          summary: 'List workflows by name',
          querystring: ListWorkflowsQuery,
          response: { 200: Page(Workflow), ...errorResponses() },
        },
      },
      async (req) => service.list(req.actor, req.query),
    );
    app.post(
      '/workflows',
      {
        config: write,
        schema: {
          operationId: 'createWorkflow',
          tags,
          summary: 'Create a workflow (version 1)',
          body: CreateWorkflowBody,
          response: { 201: Workflow, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(req.actor, req.body)),
    );
    app.post(
      '/workflows/import',
      {
        config: write,
        schema: {
          operationId: 'importWorkflow',
          tags,
          summary: 'Create a workflow from an export document (disabled until enabled)',
          querystring: ImportQuery,
          body: ExportDocument,
          response: { 201: Workflow, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.importOne(req.actor, req.body, req.query.name)),
    );
    app.get(
      '/workflows/:id',
      {
        config: { ...read, ...one },
        schema: { operationId: 'getWorkflow', tags, summary: 'Get a workflow', params: IdParams, response: { 200: Workflow, ...errorResponses(404) } },
      },
      async (req) => service.get(req.actor, req.params.id),
    );
    app.patch(
      '/workflows/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'updateWorkflow',
          tags,
          summary: 'Change a workflow (a new version)',
          params: IdParams,
          body: UpdateWorkflowBody,
          response: { 200: Workflow, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/workflows/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'deleteWorkflow',
          tags,
          summary: 'Delete a workflow, its versions and executions',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/workflows/:id/versions',
      {
        config: { ...read, ...one },
        schema: {
          operationId: 'listWorkflowVersions',
          tags,
          summary: 'Saved versions, newest first',
          params: IdParams,
          response: { 200: Type.Object({ items: Type.Array(WorkflowVersion) }), ...errorResponses(404) },
        },
      },
      async (req) => service.versions(req.actor, req.params.id),
    );
    app.get(
      '/workflows/:id/versions/:version',
      {
        config: { ...read, ...one },
        schema: {
          operationId: 'getWorkflowVersion',
          tags,
          summary: 'One saved version',
          params: VersionParams,
          response: { 200: WorkflowVersion, ...errorResponses(404) },
        },
      },
      async (req) => service.version(req.actor, req.params.id, req.params.version),
    );
    app.get(
      '/workflows/:id/export',
      {
        config: { ...read, ...one },
        schema: {
          operationId: 'exportWorkflow',
          tags,
          summary: 'The workflow as an import document',
          params: IdParams,
          response: { 200: ExportDocument, ...errorResponses(404) },
        },
      },
      async (req) => service.exportOne(req.actor, req.params.id),
    );
    app.post(
      '/workflows/:id/webhook',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'rotateWorkflowWebhook',
          tags,
          summary: 'Create or replace the webhook URL (the token is shown once)',
          params: IdParams,
          response: { 201: WebhookToken, ...errorResponses(404) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.rotateWebhook(req.actor, req.params.id)),
    );
    app.delete(
      '/workflows/:id/webhook',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'deleteWorkflowWebhook',
          tags,
          summary: 'Remove the webhook URL',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.removeWebhook(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/workflows/:id/execute',
      {
        config: { ...execute, ...one },
        schema: {
          operationId: 'executeWorkflow',
          tags,
          summary: 'Start an execution as the caller',
          params: IdParams,
          body: ExecuteBody,
          response: { 202: Execution, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => reply.code(202).send(await service.execute(req.actor, req.params.id, req.body.input)),
    );

    app.get(
      '/workflows/executions',
      {
        config: read,
        schema: {
          operationId: 'listWorkflowExecutions',
          tags,
          summary: 'Executions, newest first',
          querystring: ListExecutionsQuery,
          response: { 200: Page(Execution), ...errorResponses() },
        },
      },
      async (req) => service.listExecutions(req.actor, req.query),
    );
    app.get(
      '/workflows/executions/:id',
      {
        config: { ...read, ...run },
        schema: {
          operationId: 'getWorkflowExecution',
          tags,
          summary: 'An execution with every node’s status, input, output, error and timings',
          params: IdParams,
          response: { 200: Execution, ...errorResponses(404) },
        },
      },
      async (req) => service.getExecution(req.actor, req.params.id),
    );
    app.post(
      '/workflows/executions/:id/cancel',
      {
        config: { ...execute, ...run },
        schema: {
          operationId: 'cancelWorkflowExecution',
          tags,
          summary: 'Cancel a queued or running execution',
          params: IdParams,
          response: { 200: Execution, ...errorResponses(404, 409) },
        },
      },
      async (req) => service.cancel(req.actor, req.params.id),
    );
    for (const [verb, decision] of [
      ['approve', 'approved'],
      ['reject', 'rejected'],
    ] as const) {
      app.post(
        `/workflows/executions/:id/nodes/:node_id/${verb}`,
        {
          config: { ...execute, ...run },
          schema: {
            operationId: `${verb}WorkflowApproval`,
            tags,
            summary: `${verb === 'approve' ? 'Approve' : 'Reject'} a waiting approval node`,
            params: NodeParams,
            body: DecisionBody,
            response: { 200: Execution, ...errorResponses(404, 409) },
          },
        },
        async (req) => service.decide(req.actor, req.params.id, req.params.node_id, decision, req.body.comment),
      );
    }
    app.post(
      '/workflows/executions/:id/retry',
      {
        config: { ...execute, ...run },
        schema: {
          operationId: 'retryWorkflowExecution',
          tags,
          summary: 'A new execution that keeps the succeeded nodes and runs from the failed ones',
          params: IdParams,
          response: { 202: Execution, ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => reply.code(202).send(await service.retry(req.actor, req.params.id)),
    );
  };
}

/** POST /api/v1/hooks/{token}: public, authenticated by the unguessable token; any JSON body. */
export function hookRoutes(service: WorkflowsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/hooks/:token',
      {
        config: { public: true },
        schema: {
          operationId: 'receiveWorkflowHook',
          tags,
          summary: 'Start the workflow this webhook token belongs to (unknown token: 404, nothing runs)',
          params: HookParams,
          body: Type.Optional(Type.Unknown({ description: 'Any JSON; `trigger.body` in the workflow' })),
          response: { 202: HookAccepted, ...errorResponses(404) },
        },
      },
      async (req, reply) => reply.code(202).send(await service.hook(req.params.token, req.body)),
    );
  };
}
