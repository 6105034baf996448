import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import {
  ComplianceQuery,
  CreateRuleBody,
  DeviceCompliance,
  DeviceSummary,
  EvaluateBody,
  EvaluateResult,
  ListRulesQuery,
  Rule,
  UpdateRuleBody,
} from './compliance.schemas.js';
import type { ComplianceService } from './compliance.service.js';

const tags = ['configs'];
const read = { permission: 'configs:read' };
const write = { permission: 'configs:write' };
/** Rules and results are deployment-wide, like the devices they judge (docs/architecture.md "Team scoping"). */
const rule = { scope: 'global', resource: 'config_compliance_rule' } as const;
const device = { scope: 'global', resource: 'device' } as const;

/** /api/v1/configs/compliance…: rules, evaluation and results. */
export function complianceRoutes(service: ComplianceService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/configs/compliance/rules',
      {
        config: read,
        schema: {
          operationId: 'listComplianceRules',
          tags,
          summary: 'List compliance rules',
          querystring: ListRulesQuery,
          response: { 200: Page(Rule), ...errorResponses() },
        },
      },
      async (req) => service.listRules(req.actor, req.query),
    );
    app.post(
      '/configs/compliance/rules',
      {
        config: write,
        schema: {
          operationId: 'createComplianceRule',
          tags,
          summary: 'Create a compliance rule',
          body: CreateRuleBody,
          response: { 201: Rule, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.createRule(req.actor, req.body)),
    );
    app.get(
      '/configs/compliance/rules/:id',
      {
        config: { ...read, ...rule },
        schema: { operationId: 'getComplianceRule', tags, summary: 'Get a compliance rule', params: IdParams, response: { 200: Rule, ...errorResponses(404) } },
      },
      async (req) => service.getRule(req.actor, req.params.id),
    );
    app.patch(
      '/configs/compliance/rules/:id',
      {
        config: { ...write, ...rule },
        schema: {
          operationId: 'updateComplianceRule',
          tags,
          summary: 'Change a compliance rule (its results refresh at the next evaluation)',
          params: IdParams,
          body: UpdateRuleBody,
          response: { 200: Rule, ...errorResponses(404, 409, 422) },
        },
      },
      async (req) => service.updateRule(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/configs/compliance/rules/:id',
      {
        config: { ...write, ...rule },
        schema: {
          operationId: 'deleteComplianceRule',
          tags,
          summary: 'Delete a compliance rule and its results',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await service.removeRule(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/configs/compliance/evaluate',
      {
        config: write,
        schema: {
          operationId: 'evaluateCompliance',
          tags,
          summary: 'Evaluate the active rules on the latest configuration of every (or the given) device',
          body: EvaluateBody,
          response: { 200: EvaluateResult, ...errorResponses(422) },
        },
      },
      async (req) => service.evaluate(req.actor, req.body ?? {}),
    );
    app.get(
      '/configs/compliance',
      {
        config: read,
        schema: {
          operationId: 'listCompliance',
          tags,
          summary: 'Compliance per device, by device name',
          querystring: ComplianceQuery,
          response: { 200: Page(DeviceSummary), ...errorResponses() },
        },
      },
      async (req) => service.summaries(req.actor, req.query),
    );
    app.get(
      '/devices/:id/compliance',
      {
        config: { ...read, ...device },
        schema: {
          operationId: 'getDeviceCompliance',
          tags,
          summary: 'A device’s result per rule, with missing and extra lines',
          params: IdParams,
          response: { 200: DeviceCompliance, ...errorResponses(404) },
        },
      },
      async (req) => service.device(req.actor, req.params.id),
    );
  };
}
