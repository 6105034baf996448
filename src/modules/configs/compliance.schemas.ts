import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../platform/http/schemas.js';
import { PageQuery } from '../../platform/http/pagination.js';

const Kind = Type.Union([Type.Literal('must_contain'), Type.Literal('must_not_match')], {
  description: 'must_contain: every line of `lines` is present; must_not_match: no line matches `pattern`',
});
const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const statuses = (description?: string) =>
  Type.Union([Type.Literal('compliant'), Type.Literal('noncompliant'), Type.Literal('error')], description ? { description } : {});
const Status = statuses();
const Ids = Type.Array(Uuid, { maxItems: 100, uniqueItems: true });
const ConfigLine = Type.String({ minLength: 1, maxLength: 1000, pattern: '^[^\\r\\n]*\\S[^\\r\\n]*$', description: 'One line (no line breaks, not blank)' });

const Scope = Type.Object(
  {
    platform_ids: Type.Optional(Ids),
    role_ids: Type.Optional(Ids),
    location_ids: Type.Optional({ ...Ids, description: 'A location includes every location below it' }),
  },
  { additionalProperties: false, description: 'Devices the rule applies to: each non-empty list must match (empty everywhere: every device)' },
);

export const CreateRuleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    scope: Type.Optional(Scope),
    kind: Kind,
    lines: Type.Optional(
      Type.Array(ConfigLine, { maxItems: 500, description: 'must_contain: lines that must be present (compared without surrounding whitespace)' }),
    ),
    parent: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 1000,
          description:
            'RE2 pattern over a whole top-level line (`interface GigabitEthernet0/\\d+`, `line vty 0 4`): the rule applies to the indented lines under each matching block',
        }),
      ),
    ),
    ordered: Type.Optional(Type.Boolean({ description: 'must_contain: the lines must appear in this order (false)' })),
    pattern: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000, description: 'must_not_match: RE2 pattern no line may match' }))),
    severity: Type.Optional(Severity),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateRuleBody = Static<typeof CreateRuleBody>;
export const UpdateRuleBody = Type.Partial(CreateRuleBody, { additionalProperties: false });
export type UpdateRuleBody = Static<typeof UpdateRuleBody>;

export const Rule = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    description: Type.String(),
    scope: Type.Object({ platform_ids: Type.Array(Uuid), role_ids: Type.Array(Uuid), location_ids: Type.Array(Uuid) }, { additionalProperties: false }),
    kind: Kind,
    lines: Type.Array(Type.String()),
    parent: Nullable(Type.String()),
    ordered: Type.Boolean(),
    pattern: Nullable(Type.String()),
    severity: Severity,
    active: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type Rule = Static<typeof Rule>;

export const ListRulesQuery = Type.Object({ ...PageQuery, active: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export const ComplianceQuery = Type.Object(
  {
    ...PageQuery,
    device: Type.Optional({ ...Uuid, description: 'Only this device' }),
    rule: Type.Optional({ ...Uuid, description: 'Only this rule’s results' }),
    status: Type.Optional(statuses('Devices whose overall status (noncompliant before error before compliant) is this')),
  },
  { additionalProperties: false },
);

export const DeviceSummary = Type.Object(
  {
    device_id: Uuid,
    device: Type.String(),
    status: Status,
    rules: Type.Integer({ description: 'Rules evaluated on the device' }),
    compliant: Type.Integer(),
    noncompliant: Type.Integer(),
    errors: Type.Integer(),
    evaluated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const RuleResult = Type.Object(
  {
    rule_id: Uuid,
    rule: Type.String(),
    severity: Severity,
    status: Status,
    missing: Type.Array(Type.String(), { description: 'Lines to add, as a snippet (a block’s header, then its indented lines); at most 100' }),
    extra: Type.Array(Type.String(), { description: 'Lines matching a forbidden pattern, under their block’s header; at most 100' }),
    error: Nullable(Type.String()),
    version_id: Uuid,
    repository_id: Uuid,
    commit: Type.String(),
    evaluated_at: Timestamp,
  },
  { additionalProperties: false },
);
export const DeviceCompliance = Type.Object(
  { device_id: Uuid, device: Type.String(), status: Nullable(Status), results: Type.Array(RuleResult) },
  { additionalProperties: false },
);

export const EvaluateBody = Type.Object(
  {
    device_ids: Type.Optional(
      Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true, description: 'Only these devices (default: every device with a configuration)' }),
    ),
  },
  { additionalProperties: false },
);
export const EvaluateResult = Type.Object(
  {
    devices: Type.Integer({ description: 'Devices evaluated' }),
    results: Type.Integer(),
    noncompliant: Type.Integer({ description: 'Results noncompliant' }),
    newly_noncompliant: Type.Integer({ description: 'Results that became noncompliant (one config.noncompliant event each)' }),
  },
  { additionalProperties: false },
);
