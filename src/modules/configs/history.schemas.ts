import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery } from '../../platform/http/pagination.js';
import { DiffFile } from './repositories.schemas.js';

export const ConfigVersion = Type.Object(
  {
    id: Uuid,
    device: Type.String({ description: 'Device name (the file’s base name without extension)' }),
    repository_id: Uuid,
    commit: Type.String(),
    path: Type.String(),
    change: Type.String({ description: 'added, modified, renamed or deleted' }),
    old_path: Nullable(Type.String()),
    author: Type.String(),
    committed_at: Timestamp,
    size: Type.Integer(),
    content_hash: Type.String({ description: 'Git blob id of the content ("" for a deletion)' }),
  },
  { additionalProperties: false },
);

export const ConfigVersionContent = Type.Object(
  { ...ConfigVersion.properties, message: Type.String(), content: Type.String() },
  { additionalProperties: false },
);

export const DeviceVersionParams = Type.Object({ id: Uuid, version: Uuid }, { additionalProperties: false });
export const VersionsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export const DeviceDiffQuery = Type.Object({ from: Type.Optional(Uuid), to: Type.Optional(Uuid) }, { additionalProperties: false });
export const DeviceDiff = Type.Object({ from: ConfigVersion, to: ConfigVersion, unified: Type.String(), file: DiffFile }, { additionalProperties: false });
export const ChangesQuery = Type.Object({ ...PageQuery, since: Timestamp, until: Type.Optional(Timestamp) }, { additionalProperties: false });

export const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 500, description: 'Text to find (case-insensitive), or an RE2 pattern with regex=true' }),
    regex: Type.Optional(Type.Boolean({ description: 'Treat q as a regular expression (RE2 syntax: linear time, no backreferences)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Devices returned (100)' })),
  },
  { additionalProperties: false },
);
export const SearchResult = Type.Object(
  {
    searched: Type.Integer({ description: 'Devices whose latest configuration was searched' }),
    matched_devices: Type.Integer(),
    truncated: Type.Boolean(),
    items: Type.Array(
      Type.Object(
        {
          device: Type.String(),
          repository_id: Uuid,
          path: Type.String(),
          version_id: Uuid,
          commit: Type.String(),
          match_count: Type.Integer(),
          matches: Type.Array(Type.Object({ line: Type.Integer(), text: Type.String() }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
