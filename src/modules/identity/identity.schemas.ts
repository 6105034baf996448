import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PASSWORD_MAX_LENGTH } from './password.fns.js';

/** Request and response schemas of the identity API (snake_case, whitelisted fields). */
const Username = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$',
  description: 'Letters, digits and . _ @ -; unique regardless of case',
});
const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH });
const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_-]*$' });
const Permission = Type.String({ minLength: 3, maxLength: 100, pattern: '^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$' });
const Code = Type.String({ minLength: 6, maxLength: 20, description: '6-digit TOTP code or a recovery code' });

export const User = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 64 }),
    email: Type.String({ maxLength: 254 }),
    display_name: Type.String({ maxLength: 200 }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('locked')]),
    roles: Type.Array(Type.String({ maxLength: 64 })),
    two_factor_enabled: Type.Boolean(),
    must_change_password: Type.Boolean(),
    locked_until: Nullable(Timestamp),
    last_login_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
    team_ids: Type.Optional(Type.Array(Uuid)),
  },
  { additionalProperties: false },
);

export const Me = Type.Object({ ...User.properties, permissions: Type.Array(Type.String({ maxLength: 100 })) }, { additionalProperties: false });

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email' }), password: Password, totp: Type.Optional(Code) },
  { additionalProperties: false },
);
export const ReauthBody = Type.Object({ password: Password, totp: Type.Optional(Code) }, { additionalProperties: false });
export const ReauthResponse = Type.Object(
  { access_token: Type.String({ maxLength: 4096 }), token_type: Type.Literal('Bearer'), expires_in: Type.Integer({ minimum: 1, maximum: 2_592_000 }) },
  { additionalProperties: false, description: 'A new access token of the same session, with a fresh authentication time (the refresh token is unchanged)' },
);
export const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const TokenResponse = Type.Object(
  {
    access_token: Type.String({ maxLength: 4096 }),
    refresh_token: Type.String({ maxLength: 200 }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ minimum: 1 }),
    user: User,
  },
  { additionalProperties: false },
);
export const VerifyResponse = Type.Object(
  {
    valid: Type.Literal(true),
    actor: Type.Object(
      { kind: Type.Union([Type.Literal('user'), Type.Literal('api_key'), Type.Literal('system')]), id: Uuid, name: Type.String({ maxLength: 200 }) },
      { additionalProperties: false },
    ),
    user_id: Nullable(Uuid),
    permissions: Type.Array(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export const Jwks = Type.Object(
  { keys: Type.Array(Type.Object({}, { additionalProperties: Type.String({ maxLength: 4096 }) })) },
  { additionalProperties: false },
);

export const Session = Type.Object(
  {
    id: Uuid,
    user_agent: Type.String({ maxLength: 500 }),
    ip: Type.String({ maxLength: 64 }),
    created_at: Timestamp,
    last_used_at: Timestamp,
    expires_at: Timestamp,
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export const SessionList = Type.Object({ items: Type.Array(Session) }, { additionalProperties: false });

export const ChangePasswordBody = Type.Object(
  {
    current_password: Password,
    new_password: Password,
    revoke_api_keys: Type.Optional(Type.Boolean({ description: 'Also revoke every API key of mine (they do not depend on the password)' })),
  },
  { additionalProperties: false },
);
export const RevokeSessionsQuery = Type.Object(
  { revoke_api_keys: Type.Optional(Type.Boolean({ description: 'Sign out everywhere: also revoke every API key of mine' })) },
  { additionalProperties: false },
);
export const StreamTicket = Type.Object(
  {
    ticket: Type.String({ maxLength: 100, description: 'Pass as ?ticket= to GET /api/v1/ws or an SSE endpoint, once, before expires_at' }),
    expires_at: Timestamp,
  },
  { additionalProperties: false },
);
export const CodeBody = Type.Object({ code: Code }, { additionalProperties: false });
export const OptionalCodeBody = Type.Object({ code: Type.Optional(Code) }, { additionalProperties: false });
export const TotpEnrolment = Type.Object(
  { secret: Type.String({ maxLength: 200 }), otpauth_uri: Type.String({ maxLength: 2048 }) },
  { additionalProperties: false },
);
export const RecoveryCodes = Type.Object(
  { recovery_codes: Type.Array(Type.String({ maxLength: 20 }), { minItems: 10, maxItems: 10 }) },
  { additionalProperties: false },
);

export const CreateUserBody = Type.Object(
  {
    username: Username,
    email: Email,
    password: Password,
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    roles: Type.Array(RoleName, { minItems: 1, maxItems: 20 }),
    must_change_password: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Email),
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    roles: Type.Optional(Type.Array(RoleName, { minItems: 1, maxItems: 20 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')], { description: '`active` also lifts a lockout' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const ResetPasswordBody = Type.Object({ password: Password }, { additionalProperties: false });

export const Role = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 64 }),
    description: Type.String({ maxLength: 500 }),
    builtin: Type.Boolean(),
    permissions: Type.Array(Type.String({ maxLength: 100 }), { description: "['*'] for admin" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export const RoleBody = Type.Object(
  { name: RoleName, description: Type.Optional(Type.String({ maxLength: 500 })), permissions: Type.Array(Permission, { maxItems: 500 }) },
  { additionalProperties: false },
);
export const UpdateRoleBody = Type.Partial(RoleBody, { additionalProperties: false, minProperties: 1 });
export const PermissionList = Type.Object({ items: Type.Array(Type.String({ maxLength: 100 })) }, { additionalProperties: false });

export const Team = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    description: Type.String({ maxLength: 500 }),
    created_at: Timestamp,
    updated_at: Timestamp,
    member_ids: Type.Optional(Type.Array(Uuid)),
  },
  { additionalProperties: false },
);
export const TeamBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
export const UpdateTeamBody = Type.Partial(TeamBody, { additionalProperties: false, minProperties: 1 });
export const TeamMemberParams = Type.Object({ id: Uuid, userId: Uuid }, { additionalProperties: false });

export const ApiKey = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 100 }),
    prefix: Type.String({ maxLength: 20, description: 'First part of the key, to recognise it' }),
    user_id: Uuid,
    role: Nullable(Type.String({ maxLength: 64 })),
    permissions: Nullable(Type.Array(Type.String({ maxLength: 100 }))),
    expires_at: Nullable(Timestamp),
    last_used_at: Nullable(Timestamp),
    revoked_at: Nullable(Timestamp),
    created_at: Timestamp,
    status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  },
  { additionalProperties: false },
);
export const CreatedApiKey = Type.Object(
  { ...ApiKey.properties, key: Type.String({ maxLength: 100, description: 'Shown once; store it now' }) },
  { additionalProperties: false },
);
export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Optional(RoleName),
    permissions: Type.Optional(Type.Array(Permission, { minItems: 1, maxItems: 500 })),
    expires_at: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export const AuditItem = Type.Object(
  {
    id: Uuid,
    time: Timestamp,
    actor: Type.Object({ kind: Type.String({ maxLength: 16 }), id: Nullable(Uuid), name: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
    action: Type.String({ maxLength: 100 }),
    resource_type: Type.String({ maxLength: 64 }),
    resource_id: Nullable(Type.String({ maxLength: 200 })),
    outcome: Type.String({ maxLength: 16 }),
    ip: Nullable(Type.String({ maxLength: 64 })),
    user_agent: Nullable(Type.String({ maxLength: 256 })),
    request_id: Nullable(Type.String({ maxLength: 200 })),
    changes: Nullable(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export type LoginBody = Static<typeof LoginBody>;
export type CreateUserBody = Static<typeof CreateUserBody>;
