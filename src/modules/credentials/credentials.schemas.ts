import { Type, type Static, type TSchema } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { filterQuerySchema, type FilterFields } from '../../platform/http/filters.js';
import { CREDENTIAL_TYPES, SNMP_AUTH_PROTOCOLS, SNMP_PRIV_PROTOCOLS, SNMP_SECURITY_LEVELS, WINRM_TRANSPORTS } from './credential-types.fns.js';

/** A string enum as a union of literals, typed as the union (TypeBox cannot infer it from a mapped array). */
export const literals = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      description ? { description } : {},
    ),
  );

export const CredentialTypeSchema = literals(CREDENTIAL_TYPES);
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Description = Type.String({ maxLength: 2000 });
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, uniqueItems: true });
const SecretText = (description: string, maxLength = 4096) => Type.String({ minLength: 1, maxLength, description });
const PemText = (description: string) => Type.String({ minLength: 1, maxLength: 65536, description });

/** Type-specific fields, as accepted on create; which belong to which type is in credential-types.fns.ts. */
const typeFields = {
  username: Type.String({ minLength: 1, maxLength: 256, description: 'ssh, snmp_v3, basic, winrm' }),
  password: SecretText('secret — ssh, basic, winrm'),
  private_key: PemText('secret — ssh (PEM or OpenSSH), certificate (PEM)'),
  passphrase: SecretText('secret — passphrase of private_key (ssh, certificate)', 1024),
  enable_secret: SecretText('secret — ssh: enable / privileged-mode password', 1024),
  community: SecretText('secret — snmp_v2c community', 256),
  security_level: literals(SNMP_SECURITY_LEVELS, 'snmp_v3'),
  auth_protocol: literals(SNMP_AUTH_PROTOCOLS, 'snmp_v3 (authNoPriv, authPriv)'),
  auth_key: SecretText('secret — snmp_v3 authentication pass phrase (≥ 8 characters)', 256),
  priv_protocol: literals(SNMP_PRIV_PROTOCOLS, 'snmp_v3 (authPriv)'),
  priv_key: SecretText('secret — snmp_v3 privacy pass phrase (≥ 8 characters)', 256),
  token: SecretText('secret — api_token', 8192),
  header_name: Type.String({
    minLength: 1,
    maxLength: 100,
    pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
    description: 'api_token: HTTP header carrying the token (default Authorization)',
  }),
  certificate: PemText('certificate: PEM certificate (public)'),
  transport: literals(WINRM_TRANSPORTS, 'winrm (default ntlm)'),
};
const optional = <T extends Record<string, TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: ReturnType<typeof Type.Optional<T[K]>> };
const optionalNullable = <T extends Record<string, TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(Nullable(v))])) as {
    [K in keyof T]: ReturnType<typeof Type.Optional<ReturnType<typeof Nullable<T[K]>>>>;
  };

export const CreateCredentialBody = Type.Object(
  {
    name: Name,
    type: CredentialTypeSchema,
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    team_id: Type.Optional(Nullable(Uuid)),
    expires_at: Type.Optional(Nullable(Timestamp)),
    ...optional(typeFields),
  },
  {
    additionalProperties: false,
    description:
      'Fields per type — ssh: username, password and/or private_key (+passphrase), enable_secret; snmp_v2c: community; snmp_v3: username, security_level, auth_protocol + auth_key, priv_protocol + priv_key; api_token: token, header_name; basic: username, password; certificate: certificate, private_key (+passphrase); winrm: username, password, transport.',
  },
);
export type CreateCredentialBody = Static<typeof CreateCredentialBody>;

/** Omitted fields stay as they are; `null` removes an optional field. The type cannot change. */
export const UpdateCredentialBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    team_id: Type.Optional(Nullable(Uuid)),
    expires_at: Type.Optional(Nullable(Timestamp)),
    ...optionalNullable(typeFields),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCredentialBody = Static<typeof UpdateCredentialBody>;

const SecretFlag = Type.Object({ set: Type.Boolean() }, { additionalProperties: false });

/** Metadata only: secret fields appear as `{ set }`, never their value (the schema has no place for one). */
export const Credential = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    type: CredentialTypeSchema,
    description: Type.String({ maxLength: 2000 }),
    tags: Type.Array(Type.String({ maxLength: 100 })),
    team_id: Nullable(Uuid),
    ...optional({
      username: typeFields.username,
      security_level: typeFields.security_level,
      auth_protocol: typeFields.auth_protocol,
      priv_protocol: typeFields.priv_protocol,
      header_name: typeFields.header_name,
      certificate: typeFields.certificate,
      transport: typeFields.transport,
    }),
    secrets: Type.Record(Type.String({ maxLength: 50 }), SecretFlag),
    expires_at: Nullable(Timestamp),
    expired: Type.Boolean(),
    key_id: Type.String({ maxLength: 32, description: 'Master key its data key is wrapped under' }),
    created_by: Type.String({ maxLength: 200 }),
    updated_by: Type.String({ maxLength: 200 }),
    last_used_at: Nullable(Timestamp),
    last_used_by: Nullable(Type.String({ maxLength: 200 })),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type Credential = Static<typeof Credential>;

export const CREDENTIAL_FILTERS: FilterFields = {
  name: { type: 'string', column: 'name' },
  type: { type: 'enum', column: 'type', values: CREDENTIAL_TYPES },
  team_id: { type: 'uuid', column: 'teamId' },
  expires_at: { type: 'date', column: 'expiresAt' },
};
export const CREDENTIAL_SORT = { name: 'nameKey', type: 'type', expires_at: 'expiresAt', created_at: 'createdAt', updated_at: 'updatedAt' } as const;

export const ListCredentialsQuery = Type.Object(
  {
    ...PageQuery,
    sort: sortQuery(Object.keys(CREDENTIAL_SORT)),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text in name or description' })),
    tag: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20, description: 'Has every given tag' })),
    expiring_within: Type.Optional(
      Type.String({
        maxLength: 50,
        description: 'ISO 8601 duration, e.g. P14D: credentials whose expires_at is before now + duration (already expired included)',
      }),
    ),
    ...filterQuerySchema(CREDENTIAL_FILTERS),
  },
  { additionalProperties: false },
);
export type ListCredentialsQuery = Static<typeof ListCredentialsQuery>;

export const RevealBody = Type.Object(
  {
    reason: Type.String({ minLength: 3, maxLength: 500, pattern: '\\S', description: 'Why the plaintext is needed (audited)' }),
    totp: Type.Optional(Type.String({ minLength: 6, maxLength: 10, pattern: '^[0-9]+$', description: 'Current 2FA code; required when the user has 2FA' })),
  },
  { additionalProperties: false },
);
export type RevealBody = Static<typeof RevealBody>;

export const Revealed = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 200 }),
    type: CredentialTypeSchema,
    attributes: Type.Record(Type.String({ maxLength: 50 }), Type.String({ maxLength: 65536 })),
    secrets: Type.Record(Type.String({ maxLength: 50 }), Type.String({ maxLength: 65536 })),
  },
  { additionalProperties: false },
);
export type Revealed = Static<typeof Revealed>;

export const TestBody = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$', description: 'Host name or IP address' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 22 (ssh) or 161 (snmp)' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000, default: 10000 })),
  },
  { additionalProperties: false },
);
export type TestBody = Static<typeof TestBody>;

export const TestResult = Type.Object(
  {
    ok: Type.Boolean(),
    protocol: Type.Union([Type.Literal('ssh'), Type.Literal('snmp')]),
    host: Type.String({ maxLength: 253 }),
    port: Type.Integer(),
    outcome: literals(['success', 'auth_failed', 'timeout', 'unreachable', 'error'] as const),
    message: Type.String({ maxLength: 1000 }),
    sys_name: Type.Optional(Type.String({ maxLength: 255 })),
    duration_ms: Type.Integer(),
  },
  { additionalProperties: false },
);
export type TestResult = Static<typeof TestResult>;

export const AccessLogEntry = Type.Object(
  {
    id: Uuid,
    time: Timestamp,
    action: literals(['resolve', 'reveal', 'test'] as const),
    actor_kind: Type.String({ maxLength: 16 }),
    actor_id: Type.String({ maxLength: 100 }),
    actor_name: Type.String({ maxLength: 200 }),
    purpose: Type.String({ maxLength: 500 }),
    job_run_id: Nullable(Type.String({ maxLength: 100 })),
    outcome: Type.String({ maxLength: 16 }),
  },
  { additionalProperties: false },
);
export type AccessLogEntry = Static<typeof AccessLogEntry>;
export const AccessLogQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
