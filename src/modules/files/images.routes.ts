import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams, Page } from '../../platform/http/schemas.js';
import { ConvertAccepted, ConvertBody, ImageSchema, ListImagesQuery, RegisterImageBody } from './files.schemas.js';
import type { ImagesService } from './images.service.js';

const tags = ['images'];
const read = { permission: 'images:read' };
const write = { permission: 'images:write' };
const one = { scope: 'team' as const, resource: 'image' };

/** /api/v1/images: disk images (qemu-img) and firmware registered from library files. */
export function imagesRoutes(images: ImagesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/images',
      {
        config: read,
        schema: {
          operationId: 'listImages',
          tags,
          summary: 'List images',
          querystring: ListImagesQuery,
          response: { 200: Page(ImageSchema), ...errorResponses() },
        },
      },
      async (req) => images.list(req.actor, req.query),
    );
    app.post(
      '/images',
      {
        config: write,
        schema: {
          operationId: 'registerImage',
          tags,
          summary: 'Register a file as a disk image (inspected with qemu-img info; backing files refused) or as firmware (checked against the vendor SHA-256)',
          body: RegisterImageBody,
          response: { 201: ImageSchema, ...errorResponses(409, 422) },
        },
      },
      async (req, reply) => reply.code(201).send(await images.register(req.actor, req.body)),
    );
    app.get(
      '/images/:id',
      {
        config: { ...read, ...one },
        schema: { operationId: 'getImage', tags, summary: 'An image', params: IdParams, response: { 200: ImageSchema, ...errorResponses(404) } },
      },
      async (req) => images.get(req.actor, req.params.id),
    );
    app.delete(
      '/images/:id',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'deleteImage',
          tags,
          summary: 'Forget an image (its file stays in the library)',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(404) },
        },
      },
      async (req, reply) => {
        await images.remove(req.actor, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/images/:id/conversions',
      {
        config: { ...write, ...one },
        schema: {
          operationId: 'convertImage',
          tags,
          summary: 'Convert a disk image to another format as a `qemu_convert` job run (progress in its log); the result is a new file and image',
          params: IdParams,
          body: ConvertBody,
          response: { 202: ConvertAccepted, ...errorResponses(404, 422) },
        },
      },
      async (req, reply) => reply.code(202).send(await images.startConvert(req.actor, req.params.id, req.body.format)),
    );
  };
}
