import { Type, type Static } from 'typebox';
import { Nullable } from '../../platform/http/schemas.js';

const Pattern = Type.String({ minLength: 1, maxLength: 1000, description: 'RE2 pattern (no backreferences or lookaround)' });
const Command = Type.String({ minLength: 1, maxLength: 1000 });
export const PROFILE_ID_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,99}$';
export const ProfileId = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: PROFILE_ID_PATTERN,
  description: 'Profile id: lower-case letters, digits, `_`, `.`, `-`; a user-defined profile with a built-in id replaces it',
});

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  drivers: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    maxItems: 50,
    description: 'Inventory platform network drivers (`cisco_ios`, …) this profile serves',
  }),
  mode: Type.Union([Type.Literal('device'), Type.Literal('exec')], {
    description: 'device: interactive CLI (prompts, paging, enable); exec: one SSH exec channel per command',
  }),
  enable: Type.Boolean({ description: 'device mode: enter privileged mode with the credential’s enable secret' }),
  prompt: Nullable(
    Type.String({
      minLength: 1,
      maxLength: 1000,
      description: 'RE2 pattern of the prompt when it is not `name>` / `name#` (e.g. Junos `user@host>`): the whole match is the prompt',
    }),
  ),
  setup_commands: Type.Array(Command, { maxItems: 20, description: 'Sent once after login (paging off); output ignored' }),
  backup_commands: Type.Array(Command, { minItems: 1, maxItems: 20, description: 'Their outputs, joined by a blank line, are the configuration kept in Git' }),
  strip_lines: Type.Array(Pattern, { maxItems: 100, description: 'Lines matching any of these are removed (timestamps, counters)' }),
  mask: Type.Array(Type.Object({ pattern: Pattern, replacement: Type.String({ maxLength: 100 }) }, { additionalProperties: false }), {
    maxItems: 100,
    description: 'Secrets masked per line: group 1 is kept, the rest of the match replaced',
  }),
  configure: Nullable(
    Type.Object(
      { enter: Type.Array(Command, { maxItems: 20 }), commit: Type.Array(Command, { maxItems: 20 }), exit: Type.Array(Command, { maxItems: 20 }) },
      { additionalProperties: false, description: 'Configuration mode commands (config_push); null: not pushable' },
    ),
  ),
};

const BodyFields = {
  name: Fields.name,
  drivers: Fields.drivers,
  mode: Fields.mode,
  enable: Type.Optional(Fields.enable),
  prompt: Type.Optional(Fields.prompt),
  setup_commands: Type.Optional(Fields.setup_commands),
  backup_commands: Fields.backup_commands,
  strip_lines: Type.Optional(Fields.strip_lines),
  mask: Type.Optional(Fields.mask),
  configure: Type.Optional(Fields.configure),
};

export const ProfileBody = Type.Object(BodyFields, { additionalProperties: false });
export type ProfileBody = Static<typeof ProfileBody>;

export const CreateProfileBody = Type.Object({ id: ProfileId, ...BodyFields }, { additionalProperties: false });
export type CreateProfileBody = Static<typeof CreateProfileBody>;

export const ProfileParams = Type.Object({ id: ProfileId }, { additionalProperties: false });

export const Profile = Type.Object(
  {
    id: Type.String(),
    ...Fields,
    builtin: Type.Boolean({ description: 'true: shipped with Opsdeck (read-only); false: user-defined' }),
    created_at: Nullable(Type.String({ format: 'date-time' })),
    updated_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type Profile = Static<typeof Profile>;
