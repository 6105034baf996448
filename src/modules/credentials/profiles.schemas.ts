import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { CredentialTypeSchema } from './credentials.schemas.js';

export const PROFILE_SORT = { name: 'nameKey', created_at: 'createdAt', updated_at: 'updatedAt' } as const;
export const MAX_PROFILE_ENTRIES = 20;

const CredentialIds = Type.Array(Uuid, {
  minItems: 1,
  maxItems: MAX_PROFILE_ENTRIES,
  uniqueItems: true,
  description: 'Credentials in the order executors try them',
});

export const CreateProfileBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    team_id: Type.Optional(Nullable(Uuid)),
    credential_ids: CredentialIds,
  },
  { additionalProperties: false },
);
export type CreateProfileBody = Static<typeof CreateProfileBody>;

export const UpdateProfileBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    team_id: Type.Optional(Nullable(Uuid)),
    credential_ids: Type.Optional(CredentialIds),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProfileBody = Static<typeof UpdateProfileBody>;

export const Profile = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    description: Type.String({ maxLength: 2000 }),
    team_id: Nullable(Uuid),
    entries: Type.Array(
      Type.Object(
        {
          position: Type.Integer({ minimum: 0 }),
          credential_id: Uuid,
          credential_name: Type.String({ maxLength: 200 }),
          credential_type: CredentialTypeSchema,
        },
        { additionalProperties: false },
      ),
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type Profile = Static<typeof Profile>;

export const ListProfilesQuery = Type.Object({ ...PageQuery, sort: sortQuery(Object.keys(PROFILE_SORT)) }, { additionalProperties: false });
export type ListProfilesQuery = Static<typeof ListProfilesQuery>;
