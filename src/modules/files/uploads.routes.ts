import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import { CreateUploadHeaders, FileSchema, PatchUploadHeaders, TusHeaders, UploadSchema } from './files.schemas.js';
import { fileView } from './files.views.js';
import { MiB, type UploadsService } from './uploads.service.js';

const tags = ['files'];
const write = { permission: 'files:write' };
const own = { ...write, scope: 'self' as const, resource: 'upload' };
export const TUS_VERSION = '1.0.0';
const TUS_EXTENSIONS = 'creation,termination,expiration';

function requireTus(version: string): void {
  if (version !== TUS_VERSION) throw new AppError('TUS_VERSION_UNSUPPORTED', 412, `Only tus ${TUS_VERSION} is supported`, [], { 'tus-version': TUS_VERSION });
}

const tusHeaders = (u: { offset: number; length: number; expires_at: string }) => ({
  'upload-offset': String(u.offset),
  'upload-length': String(u.length),
  'upload-expires': new Date(u.expires_at).toUTCString(),
  'cache-control': 'no-store',
});

/** /api/v1/uploads (tus 1.0) and POST /api/v1/files (one multipart request). */
export function uploadsRoutes(uploads: UploadsService, maxMultipartBytes: () => number): FastifyPluginAsyncTypebox {
  return async (app) => {
    // PATCH bodies are streamed to disk by the service, never parsed or buffered.
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    await app.register(multipart, { limits: { files: 1, fields: 10, fieldSize: 4096, parts: 12 } });
    app.addHook('onSend', async (request, reply) => {
      if (request.url.startsWith('/api/v1/uploads')) void reply.header('tus-resumable', TUS_VERSION);
    });

    app.post(
      '/uploads',
      {
        config: write,
        schema: {
          operationId: 'createUpload',
          tags,
          summary: 'Start a resumable upload (tus 1.0 creation); the quota is reserved for Upload-Length',
          headers: CreateUploadHeaders,
          response: { 201: UploadSchema, ...errorResponses(412, 413, 422) },
        },
      },
      async (req, reply) => {
        requireTus(req.headers['tus-resumable']);
        const u = await uploads.create(req.actor, { length: req.headers['upload-length'], metadata: req.headers['upload-metadata'] });
        return reply
          .code(201)
          .headers({ location: `/api/v1/uploads/${u.id}`, 'tus-extension': TUS_EXTENSIONS, ...tusHeaders(u) })
          .send(u);
      },
    );
    app.head(
      '/uploads/:id',
      {
        config: own,
        schema: {
          operationId: 'headUpload',
          tags,
          summary: "An upload's offset (tus): the Upload-Offset and Upload-Length headers",
          params: IdParams,
          headers: TusHeaders,
          response: { 200: Type.Null(), ...errorResponses(404, 412) },
        },
      },
      async (req, reply) => {
        requireTus(req.headers['tus-resumable']);
        const u = await uploads.get(req.actor, req.params.id);
        return reply.headers(tusHeaders(u)).send(null);
      },
    );
    app.get(
      '/uploads/:id',
      {
        config: own,
        exposeHeadRoute: false,
        schema: {
          operationId: 'getUpload',
          tags,
          summary: "An upload's progress, and the file it became once complete",
          params: IdParams,
          response: { 200: UploadSchema, ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        const u = await uploads.get(req.actor, req.params.id);
        return reply.headers(tusHeaders(u)).send(u);
      },
    );
    app.patch(
      '/uploads/:id',
      {
        config: own,
        schema: {
          operationId: 'appendUpload',
          tags,
          summary: 'Append bytes at Upload-Offset (tus); the last append checks the SHA-256 and the content type and creates the file',
          params: IdParams,
          headers: PatchUploadHeaders,
          body: { content: { 'application/offset+octet-stream': { schema: Type.Unknown({ description: 'The next bytes of the file' }) } } },
          response: { 204: Type.Null(), ...errorResponses(404, 409, 412, 413, 415, 422, 423) },
        },
      },
      async (req, reply) => {
        requireTus(req.headers['tus-resumable']);
        if (req.headers['content-type'].split(';')[0]!.trim() !== 'application/offset+octet-stream') {
          throw new AppError('UPLOAD_CONTENT_TYPE', 415, 'Appends are application/offset+octet-stream', [
            { path: 'headers.content-type', message: 'must be application/offset+octet-stream' },
          ]);
        }
        const u = await uploads.append(req.actor, req.params.id, req.headers['upload-offset'], req.raw);
        const headers: Record<string, string> = tusHeaders(u);
        if (u.file_id) headers['opsdeck-file-id'] = u.file_id;
        return reply.code(204).headers(headers).send(null);
      },
    );
    app.delete(
      '/uploads/:id',
      {
        config: own,
        schema: {
          operationId: 'terminateUpload',
          tags,
          summary: 'Abort an upload (tus termination): its temporary file and quota reservation go',
          params: IdParams,
          headers: TusHeaders,
          response: { 204: Type.Null(), ...errorResponses(404, 412) },
        },
      },
      async (req, reply) => {
        requireTus(req.headers['tus-resumable']);
        await uploads.terminate(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/files',
      {
        config: write,
        schema: {
          operationId: 'uploadFile',
          tags,
          summary: 'Upload a small file in one multipart/form-data request (fields `tags`, `description`, `team_id` before the `file` part)',
          consumes: ['multipart/form-data'],
          body: {
            content: {
              'multipart/form-data': {
                schema: Type.Unknown({
                  description:
                    'Form fields: `file` (the file, binary; required), `tags` (comma-separated, at most 20), `description` (at most 2000 characters), `team_id` (uuid of one of your teams); text fields before the file part',
                }),
              },
            },
          },
          response: { 201: FileSchema, ...errorResponses(413, 415, 422) },
        },
      },
      async (req, reply) => {
        if (!req.isMultipart()) {
          throw new AppError('UPLOAD_CONTENT_TYPE', 415, 'Send the file as multipart/form-data', [
            { path: 'headers.content-type', message: 'must be multipart/form-data' },
          ]);
        }
        const part = await req.file({ limits: { fileSize: maxMultipartBytes() } });
        if (!part) throw new AppError('UPLOAD_REFUSED', 422, 'The request has no file', [{ path: 'body.file', message: 'is required' }]);
        const field = (name: string): string => {
          const f = part.fields[name];
          return f && !Array.isArray(f) && f.type === 'field' ? String(f.value) : '';
        };
        const teamId = field('team_id');
        const file = await uploads.uploadWhole(req.actor, {
          filename: part.filename,
          stream: part.file,
          tags: field('tags')
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
            .slice(0, 20),
          description: field('description').slice(0, 2000),
          teamId: teamId === '' ? null : teamId,
          truncated: () => part.file.truncated,
        });
        return reply.code(201).send(fileView(file));
      },
    );
  };
}
export const MULTIPART_MAX_MIB = 100;
export const multipartLimit = (maxUploadMb: number) => Math.min(maxUploadMb, MULTIPART_MAX_MIB) * MiB;
