import { Type, type Static } from 'typebox';
import type { Executor } from '../jobs/index.js';
import type { ImagesService } from './images.service.js';
import { CONVERT_FORMATS } from './qemu.js';

const Params = Type.Object(
  {
    image_id: Type.String({ format: 'uuid', maxLength: 36, description: 'The disk image to convert' }),
    format: Type.Union(
      CONVERT_FORMATS.map((f) => Type.Literal(f)),
      { description: 'The output format' },
    ),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

/**
 * `qemu_convert`: converts a registered disk image on the worker (`qemu-img convert -p`), logging
 * its progress, as the run's initiator (images:write and visibility are checked when it runs).
 * The worker needs the data directory holding the files (single node, or a shared one).
 */
export function qemuConvertExecutor(images: () => ImagesService): Executor<Params> {
  return {
    type: 'qemu_convert',
    description: 'Converts a disk image of the image library to another format with qemu-img (a new file and image).',
    params: Params,
    output: Type.Object({ image_id: Type.String(), file_id: Type.String(), format: Type.String() }),
    credential: 'none',
    targets: 'optional',
    changesDevices: () => false,
    async run(ctx, p) {
      const image = await images().convert(ctx.actor, p.image_id, p.format, {
        signal: ctx.signal,
        onProgress: (percent) => ctx.log('info', `progress ${percent}%`),
      });
      return {
        ok: true,
        output: `converted to ${image.format}: image ${image.id}, file ${image.file_id}`,
        parsed: { image_id: image.id, file_id: image.file_id, format: image.format ?? p.format },
      };
    },
  };
}
