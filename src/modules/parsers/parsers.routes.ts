import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import type { CustomTemplatesService } from './custom-templates.service.js';
import type { ParseInput, ParsersService } from './parsers.service.js';
import {
  CustomTemplate,
  CustomTemplateBody,
  CustomTemplatePage,
  CustomTemplateQuery,
  LibraryList,
  ParseBody,
  ParserDetail,
  ParserIdParams,
  ParserPage,
  ParseResponse,
  RegistryQuery,
  TemplatePage,
} from './parsers.schemas.js';

const tags = ['parsers'];
const read = { permission: 'parsers:read' };
const write = { permission: 'parsers:write' };

/** /api/v1/parsers: parse, the registry, the template list and user templates. */
export function parsersRoutes(parsers: ParsersService, custom: CustomTemplatesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/parsers/parse',
      {
        config: read,
        schema: {
          operationId: 'parseOutput',
          tags,
          summary: 'Parse command output into records (by platform + command, template or parser id)',
          body: ParseBody,
          response: { 200: ParseResponse, ...errorResponses(404, 413, 422) },
        },
      },
      async (request) => parsers.parse(request.actor, request.body as ParseInput),
    );

    app.get(
      '/parsers',
      {
        config: read,
        schema: {
          operationId: 'listParsers',
          tags,
          summary: 'Parser registry: custom templates, native parsers and library templates, with output schemas',
          querystring: RegistryQuery,
          response: { 200: ParserPage, ...errorResponses(422) },
        },
      },
      async (request) => parsers.listParsers(request.actor, request.query),
    );

    app.get(
      '/parsers/templates',
      {
        config: read,
        schema: {
          operationId: 'listParserTemplates',
          tags,
          summary: 'TextFSM templates: custom ones first, then library index rows',
          querystring: RegistryQuery,
          response: { 200: TemplatePage, ...errorResponses(422) },
        },
      },
      async (request) => parsers.listTemplates(request.actor, request.query),
    );

    app.get(
      '/parsers/libraries',
      {
        config: read,
        schema: {
          operationId: 'listParserLibraries',
          tags,
          summary: 'TextFSM libraries in lookup order: textfsm Git repositories (by name), then the configured directories',
          response: { 200: LibraryList, ...errorResponses() },
        },
      },
      async (request) => parsers.listLibraries(request.actor),
    );

    app.get(
      '/parsers/custom-templates',
      {
        config: read,
        schema: {
          operationId: 'listCustomTemplates',
          tags,
          summary: 'User templates (they take precedence over library templates)',
          querystring: CustomTemplateQuery,
          response: { 200: CustomTemplatePage, ...errorResponses() },
        },
      },
      async (request) => custom.list(request.actor, request.query),
    );

    app.post(
      '/parsers/custom-templates',
      {
        config: write,
        schema: {
          operationId: 'createCustomTemplate',
          tags,
          summary: 'Add a user template (checked like a parse would load it)',
          body: CustomTemplateBody,
          response: { 201: CustomTemplate, ...errorResponses(409, 422) },
        },
      },
      async (request, reply) => reply.code(201).send(await custom.create(request.actor, request.body)),
    );

    app.get(
      '/parsers/custom-templates/:id',
      {
        config: { ...read, scope: 'global', resource: 'parser_template' },
        schema: {
          operationId: 'getCustomTemplate',
          tags,
          summary: 'One user template',
          params: IdParams,
          response: { 200: CustomTemplate, ...errorResponses(404) },
        },
      },
      async (request) => custom.get(request.actor, request.params.id),
    );

    app.put(
      '/parsers/custom-templates/:id',
      {
        config: { ...write, scope: 'global', resource: 'parser_template' },
        schema: {
          operationId: 'replaceCustomTemplate',
          tags,
          summary: 'Replace a user template',
          params: IdParams,
          body: CustomTemplateBody,
          response: { 200: CustomTemplate, ...errorResponses(404, 409, 422) },
        },
      },
      async (request) => custom.update(request.actor, request.params.id, request.body),
    );

    app.delete(
      '/parsers/custom-templates/:id',
      {
        config: { ...write, scope: 'global', resource: 'parser_template' },
        schema: {
          operationId: 'deleteCustomTemplate',
          tags,
          summary: 'Delete a user template',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (request, reply) => {
        await custom.delete(request.actor, request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/parsers/:id',
      {
        config: { ...read, scope: 'global', resource: 'parser' },
        schema: {
          operationId: 'getParser',
          tags,
          summary: 'One parser with the JSON Schema of its output',
          params: ParserIdParams,
          response: { 200: ParserDetail, ...errorResponses(404, 422) },
        },
      },
      async (request) => parsers.getParser(request.actor, request.params.id),
    );
  };
}
