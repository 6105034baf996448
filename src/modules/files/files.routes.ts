import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import { contentDisposition } from './files.fns.js';
import { FileSchema, ListFilesQuery, PatchFileBody } from './files.schemas.js';
import type { FilesService } from './files.service.js';

const tags = ['files'];
const read = { permission: 'files:read' };
const write = { permission: 'files:write' };
const one = { scope: 'team' as const, resource: 'file' };
const Binary = { content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } };

/** /api/v1/files: the library. Downloads are attachments, never rendered inline. */
export function filesRoutes(files: FilesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/files',
      {
        config: read,
        schema: {
          operationId: 'listFiles',
          tags,
          summary: 'List files (filters: content_type, tag, owner_id, team_id, q)',
          querystring: ListFilesQuery,
          response: { 200: Page(FileSchema), ...errorResponses() },
        },
      },
      async (req) => files.list(req.actor, req.query),
    );
    app.get(
      '/files/:id',
      {
        config: { ...read, ...one },
        schema: { operationId: 'getFile', tags, summary: "A file's metadata", params: IdParams, response: { 200: FileSchema, ...errorResponses(404) } },
      },
      async (req) => files.get(req.actor, req.params.id),
    );
    app.patch(
      '/files/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'updateFile',
          tags,
          summary: "Change a file's name, tags, description or team",
          params: IdParams,
          body: PatchFileBody,
          response: { 200: FileSchema, ...errorResponses(404, 422) },
        },
      },
      async (req) => files.update(req.actor, req.params.id, req.body),
    );
    app.delete(
      '/files/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'deleteFile',
          tags,
          summary: 'Delete a file (and the image registered from it); its bytes leave the quota',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await files.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/files/:id/content',
      {
        config: { ...read, ...one },
        schema: {
          operationId: 'downloadFile',
          tags,
          summary: 'Download a file as an attachment; one byte range (Range: bytes=a-b) answers 206, an unsatisfiable one 416',
          params: IdParams,
          headers: Type.Object({ range: Type.Optional(Type.String({ maxLength: 200 })) }),
          response: { 200: Binary, 206: Binary, ...errorResponses(404, 416) },
        },
      },
      async (req, reply) => {
        const d = await files.download(req.actor, req.params.id, req.headers.range);
        const size = d.file.size;
        if (d.range.kind === 'unsatisfiable') {
          throw new AppError(
            'FILE_RANGE_UNSATISFIABLE',
            416,
            `The file has ${size} bytes`,
            [{ path: 'headers.range', message: 'selects no byte of the file' }],
            {
              'content-range': `bytes */${size}`,
            },
          );
        }
        void reply.headers({
          'content-type': 'application/octet-stream',
          'content-disposition': contentDisposition(d.file.name),
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'; sandbox",
          'accept-ranges': 'bytes',
          etag: `"${d.file.sha256}"`,
          'cache-control': 'private, no-cache',
        });
        if (d.range.kind === 'partial') {
          const { start, end } = d.range;
          return reply
            .code(206)
            .headers({ 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) })
            .send(d.open(start, end) as never);
        }
        return reply.header('content-length', String(size)).send(size === 0 ? '' : (d.open() as never));
      },
    );
  };
}
