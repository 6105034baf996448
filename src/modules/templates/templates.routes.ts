import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import { ValidationError } from '../../platform/errors.js';
import type { TemplatesService } from './templates.service.js';
import {
  ConfigTemplate,
  ConfigTemplatePage,
  ConfigTemplateQuery,
  CreateConfigTemplateBody,
  DiffQuery,
  DiffResponse,
  RenderBody,
  RenderContentBody,
  RenderResponse,
  RestoreBody,
  UpdateConfigTemplateBody,
  UploadConfigTemplateQuery,
  MAX_CONTENT,
  VariablesResponse,
  VersionDetail,
  VersionPage,
  VersionParams,
  VersionQuery,
} from './templates.schemas.js';

const tags = ['templates'];
const read = { permission: 'templates:read' };
const write = { permission: 'templates:write' };
const render = { permission: 'templates:render' };
/** Configuration templates are deployment-wide, like the inventory they render (docs/architecture.md "Team scoping"). */
const byId = { scope: 'global', resource: 'config_template' } as const;

/** /api/v1/templates: configuration templates (not the jobs module's job templates). */
export function templatesRoutes(templates: TemplatesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/templates',
      {
        config: read,
        schema: {
          operationId: 'listConfigTemplates',
          tags,
          summary: 'Configuration templates',
          querystring: ConfigTemplateQuery,
          response: { 200: ConfigTemplatePage, ...errorResponses() },
        },
      },
      async (request) => templates.list(request.actor, request.query),
    );

    app.post(
      '/templates',
      {
        config: write,
        schema: {
          operationId: 'createConfigTemplate',
          tags,
          summary: 'Add a template (jinja2 content is syntax-checked; version 1 is recorded)',
          body: CreateConfigTemplateBody,
          response: { 201: ConfigTemplate, ...errorResponses(409, 422) },
        },
      },
      async (request, reply) => reply.code(201).send(await templates.create(request.actor, request.body)),
    );

    // An uploaded file is the raw body (`curl --data-binary @ntp.j2 -H 'content-type: text/plain'`).
    for (const type of ['text/plain', 'application/octet-stream']) {
      app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: MAX_CONTENT }, (_request, body, done) => done(null, body));
    }
    app.post(
      '/templates/upload',
      {
        config: write,
        schema: {
          operationId: 'uploadConfigTemplate',
          tags,
          summary: "Add a template from an uploaded file (the raw body, UTF-8; source 'file'; jinja2 is syntax-checked; version 1 is recorded)",
          querystring: UploadConfigTemplateQuery,
          body: Type.Unknown({ description: 'The file, as text/plain or application/octet-stream (UTF-8, at most 1 MiB)' }),
          response: { 201: ConfigTemplate, ...errorResponses(409, 413, 415, 422) },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const content = decodeUpload(request.body);
        const stem = q.filename.replace(/\.[^.]*$/, '');
        const created = await templates.create(
          request.actor,
          {
            name: q.name ?? stem,
            content,
            type: q.type ?? typeOfFile(q.filename),
            source: 'file',
            ...(q.category !== undefined ? { category: q.category } : {}),
            ...(q.description !== undefined ? { description: q.description } : {}),
            ...(q.notes !== undefined ? { notes: q.notes } : {}),
          },
          { sourcePath: q.filename },
        );
        return reply.code(201).send(created);
      },
    );

    app.post(
      '/templates/render',
      {
        config: render,
        schema: {
          operationId: 'renderTemplateContent',
          tags,
          summary: 'Render unsaved template content (stored templates are its includes)',
          body: RenderContentBody,
          response: { 200: RenderResponse, ...errorResponses(422) },
        },
      },
      async (request) => templates.renderContent(request.actor, request.body),
    );

    app.get(
      '/templates/:id',
      {
        config: { ...read, ...byId },
        schema: {
          operationId: 'getConfigTemplate',
          tags,
          summary: 'One template with its current content',
          params: IdParams,
          response: { 200: ConfigTemplate, ...errorResponses(404) },
        },
      },
      async (request) => templates.get(request.actor, request.params.id),
    );

    app.patch(
      '/templates/:id',
      {
        config: { ...write, ...byId },
        schema: {
          operationId: 'updateConfigTemplate',
          tags,
          summary: 'Change a template; a content change records a new version',
          params: IdParams,
          body: UpdateConfigTemplateBody,
          response: { 200: ConfigTemplate, ...errorResponses(404, 409, 422) },
        },
      },
      async (request) => templates.update(request.actor, request.params.id, request.body),
    );

    app.delete(
      '/templates/:id',
      {
        config: { ...write, ...byId },
        schema: {
          operationId: 'deleteConfigTemplate',
          tags,
          summary: 'Delete a template and its versions (an active one synced from Git: 409)',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404, 409) },
        },
      },
      async (request, reply) => {
        await templates.delete(request.actor, request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/templates/:id/versions',
      {
        config: { ...read, ...byId },
        schema: {
          operationId: 'listConfigTemplateVersions',
          tags,
          summary: 'Versions, newest first',
          params: IdParams,
          querystring: VersionQuery,
          response: { 200: VersionPage, ...errorResponses(404) },
        },
      },
      async (request) => templates.versions(request.actor, request.params.id, request.query),
    );

    app.get(
      '/templates/:id/versions/:version',
      {
        config: { ...read, ...byId },
        schema: {
          operationId: 'getConfigTemplateVersion',
          tags,
          summary: 'One version with its content',
          params: VersionParams,
          response: { 200: VersionDetail, ...errorResponses(404) },
        },
      },
      async (request) => templates.version(request.actor, request.params.id, request.params.version),
    );

    app.post(
      '/templates/:id/versions/:version/restore',
      {
        config: { ...write, ...byId },
        schema: {
          operationId: 'restoreConfigTemplateVersion',
          tags,
          summary: 'Make a version current again (recorded as a new version)',
          params: VersionParams,
          body: RestoreBody,
          response: { 200: ConfigTemplate, ...errorResponses(404, 409, 422) },
        },
      },
      async (request) => templates.restore(request.actor, request.params.id, request.params.version, request.body.notes),
    );

    app.get(
      '/templates/:id/diff',
      {
        config: { ...read, ...byId },
        schema: {
          operationId: 'diffConfigTemplateVersions',
          tags,
          summary: 'Unified diff between two versions',
          params: IdParams,
          querystring: DiffQuery,
          response: { 200: DiffResponse, ...errorResponses(404) },
        },
      },
      async (request) => templates.diff(request.actor, request.params.id, request.query.from, request.query.to),
    );

    app.get(
      '/templates/:id/variables',
      {
        config: { ...read, ...byId },
        schema: {
          operationId: 'getConfigTemplateVariables',
          tags,
          summary: 'Undeclared variables and a proposed JSON Schema',
          params: IdParams,
          response: { 200: VariablesResponse, ...errorResponses(404, 422) },
        },
      },
      async (request) => templates.variables(request.actor, request.params.id),
    );

    app.post(
      '/templates/:id/render',
      {
        config: { ...render, ...byId },
        schema: {
          operationId: 'renderConfigTemplate',
          tags,
          summary: "Render a stored template, optionally with a device's inventory data",
          params: IdParams,
          body: RenderBody,
          response: { 200: RenderResponse, ...errorResponses(404, 422) },
        },
      },
      async (request) => templates.render(request.actor, request.params.id, request.body),
    );
  };
}

/** The template type an uploaded file's extension names. */
function typeOfFile(filename: string): 'jinja2' | 'yaml' | 'json' | 'textfsm' | 'text' {
  const ext = filename.toLowerCase().split('.').pop() ?? '';
  if (['j2', 'jinja2', 'jinja'].includes(ext)) return 'jinja2';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'json' || ext === 'textfsm') return ext;
  return 'text';
}

/** The raw body as UTF-8 text: anything else (or NUL, which no template holds) is refused naming the body. */
function decodeUpload(body: unknown): string {
  const bytes = Buffer.isBuffer(body) ? body : null;
  if (bytes === null || bytes.length === 0) {
    throw new ValidationError('VALIDATION_FAILED', 'Upload the file as the request body (text/plain or application/octet-stream)', [
      { path: 'body', message: 'must be a non-empty file' },
    ]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError('VALIDATION_FAILED', 'The file is not UTF-8 text', [{ path: 'body', message: 'must be UTF-8 text' }]);
  }
  if (text.includes('\u0000')) {
    throw new ValidationError('VALIDATION_FAILED', 'The file holds a NUL character', [{ path: 'body', message: 'must not contain NUL' }]);
  }
  return text.replace(/^\uFEFF/, '');
}
