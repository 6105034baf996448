import { Type, type Static } from 'typebox';
import { Nullable, Timestamp } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';

export const SECRET_SORT = { key: 'key', created_at: 'createdAt', updated_at: 'updatedAt' } as const;
export const SecretKey = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$',
  description: 'Name jobs and workflows reference, e.g. NETBOX_TOKEN',
});
export const SecretKeyParams = Type.Object({ key: SecretKey }, { additionalProperties: false });
const Value = Type.String({ minLength: 1, maxLength: 65536 });

export const CreateSecretBody = Type.Object(
  { key: SecretKey, value: Value, description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type CreateSecretBody = Static<typeof CreateSecretBody>;
export const UpdateSecretBody = Type.Object(
  { value: Type.Optional(Value), description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSecretBody = Static<typeof UpdateSecretBody>;

/** The value is always the mask: the schema cannot carry the plaintext. */
export const Secret = Type.Object(
  {
    key: Type.String({ maxLength: 200 }),
    value: Type.Literal('********'),
    description: Type.String({ maxLength: 2000 }),
    key_id: Type.String({ maxLength: 32 }),
    created_by: Type.String({ maxLength: 200 }),
    updated_by: Type.String({ maxLength: 200 }),
    last_used_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type Secret = Static<typeof Secret>;
export const ListSecretsQuery = Type.Object(
  { ...PageQuery, sort: sortQuery(Object.keys(SECRET_SORT)), q: Type.Optional(Type.String({ maxLength: 200, description: 'Text in the key' })) },
  { additionalProperties: false },
);
export type ListSecretsQuery = Static<typeof ListSecretsQuery>;
