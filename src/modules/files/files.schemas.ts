import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { CONVERT_FORMATS } from './qemu.js';

const Tag = Type.String({ minLength: 1, maxLength: 50, pattern: '^[^"\\\\,]+$' });
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$', maxLength: 64 });

export const FileSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 255 }),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    sha256: Type.String({ maxLength: 64, description: 'SHA-256 of the content, hexadecimal' }),
    content_type: Type.String({ maxLength: 100, description: 'The type its content says (magic bytes), not its name' }),
    owner_id: Uuid,
    team_id: Nullable(Uuid),
    tags: Type.Array(Type.String({ maxLength: 50 })),
    description: Type.String({ maxLength: 2000 }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const ListFilesQuery = Type.Object(
  {
    ...PageQuery,
    sort: sortQuery(['name', 'size', 'created_at', 'updated_at']),
    content_type: Type.Optional(Type.String({ maxLength: 100 })),
    tag: Type.Optional(Tag),
    owner_id: Type.Optional(Uuid),
    team_id: Type.Optional(Uuid),
    q: Type.Optional(Type.String({ maxLength: 255, description: 'Part of the name, case-insensitive' })),
  },
  { additionalProperties: false },
);

export const PatchFileBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/\\\\\\u0000-\\u001f"]+$' })),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    team_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const UploadSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 255 }),
    length: Type.Integer({ minimum: 0 }),
    offset: Type.Integer({ minimum: 0 }),
    file_id: Nullable(Uuid),
    expires_at: Timestamp,
    created_at: Timestamp,
  },
  { additionalProperties: false },
);

const TUS_VERSION = Type.String({ maxLength: 20, description: 'tus protocol version: 1.0.0' });
export const CreateUploadHeaders = Type.Object({
  'tus-resumable': TUS_VERSION,
  'upload-length': Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Total bytes (Upload-Defer-Length is not supported)' }),
  'upload-metadata': Type.Optional(
    Type.String({
      maxLength: 8192,
      description:
        'tus metadata: `filename` (required), `sha256` (hex, checked at completion), `tags` (comma-separated), `description`, `team_id`; values base64',
    }),
  ),
});
export const TusHeaders = Type.Object({ 'tus-resumable': TUS_VERSION });
export const PatchUploadHeaders = Type.Object({
  'tus-resumable': TUS_VERSION,
  'upload-offset': Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  'content-type': Type.String({ maxLength: 100, description: 'application/offset+octet-stream' }),
});

export const ImageSchema = Type.Object(
  {
    id: Uuid,
    file_id: Uuid,
    kind: Type.Union([Type.Literal('disk'), Type.Literal('firmware')]),
    format: Nullable(Type.String({ maxLength: 20, description: 'qemu-img format (disk images)' })),
    virtual_size: Nullable(Type.Integer({ minimum: 0 })),
    backing_file: Nullable(Type.String({ maxLength: 1000 })),
    vendor: Nullable(Type.String({ maxLength: 100 })),
    model: Nullable(Type.String({ maxLength: 100 })),
    version: Nullable(Type.String({ maxLength: 100 })),
    vendor_sha256: Nullable(Type.String({ maxLength: 64 })),
    owner_id: Uuid,
    team_id: Nullable(Uuid),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const Label = Type.String({ minLength: 1, maxLength: 100 });
export const RegisterImageBody = Type.Union([
  Type.Object({ kind: Type.Literal('disk'), file_id: Uuid }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('firmware'), file_id: Uuid, vendor: Label, model: Label, version: Label, vendor_sha256: Type.Optional(Sha256) },
    { additionalProperties: false },
  ),
]);

export const ListImagesQuery = Type.Object(
  { ...PageQuery, kind: Type.Optional(Type.Union([Type.Literal('disk'), Type.Literal('firmware')])) },
  { additionalProperties: false },
);

export const ConvertBody = Type.Object({ format: Type.Union(CONVERT_FORMATS.map((f) => Type.Literal(f))) }, { additionalProperties: false });
export const ConvertAccepted = Type.Object({ run_id: Uuid }, { additionalProperties: false });

export type PatchFileBody = Static<typeof PatchFileBody>;
