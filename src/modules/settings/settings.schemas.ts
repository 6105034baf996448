import { Type, type TObject, type TSchema } from 'typebox';
import { Nullable, Timestamp } from '../../platform/http/schemas.js';
import { SECTIONS, type SectionName } from './settings.sections.js';

const entries = (name: SectionName) => Object.entries(SECTIONS[name].keys) as [string, { schema: TSchema; secret?: boolean; description: string }][];

export const Source = Type.Union([Type.Literal('database'), Type.Literal('environment'), Type.Literal('default')]);
export const ExplainQuery = Type.Object(
  { explain: Type.Optional(Type.Boolean({ description: "Add each key's value and source (database, environment, default); secrets masked" })) },
  { additionalProperties: false },
);
export const Explained = Type.Object(
  { value: Type.Unknown(), source: Source, env: Nullable(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);

/** A section as answered: non-secret values, which secrets are set, the version and (explain) each key's source. */
export function sectionView(name: SectionName): TObject {
  const visible = entries(name).filter(([, d]) => !d.secret);
  const secrets = entries(name).filter(([, d]) => d.secret);
  return Type.Object(
    {
      section: Type.Literal(name),
      version: Type.Integer({ minimum: 0, description: 'Send it back as `version` (or If-Match) to refuse a change made since (409)' }),
      updated_at: Nullable(Timestamp),
      updated_by: Nullable(Type.String({ maxLength: 200 })),
      values: Type.Object(Object.fromEntries(visible.map(([k, d]) => [k, { ...d.schema, description: d.description }])), { additionalProperties: false }),
      secrets: Type.Object(
        Object.fromEntries(secrets.map(([k, d]) => [k, Type.Object({ set: Type.Boolean() }, { additionalProperties: false, description: d.description })])),
        { additionalProperties: false, description: 'Write-only keys: only whether a value is stored' },
      ),
      explain: Type.Optional(Type.Object(Object.fromEntries(entries(name).map(([k]) => [k, Explained])), { additionalProperties: false })),
    },
    { additionalProperties: false },
  );
}

/** A change: the keys to set, `null` to fall back to environment/default, and optionally the version it was based on. */
export function sectionChange(name: SectionName): TObject {
  return Type.Object(
    {
      ...Object.fromEntries(
        entries(name).map(([k, d]) => [
          k,
          Type.Optional(Type.Union([d.schema, Type.Null()], { description: `${d.description} \`null\`: fall back to environment/default` })),
        ]),
      ),
      version: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31, description: 'The version read; 409 when the section changed since' })),
    },
    { additionalProperties: false },
  );
}

export const KeyParams = (name: SectionName) => Type.Object({ key: oneOfLiterals(Object.keys(SECTIONS[name].keys)) }, { additionalProperties: false });

/** One literal as itself (a one-member `anyOf` is an illogical composition in OpenAPI), several as their union. */
function oneOfLiterals(keys: string[]) {
  return keys.length === 1 ? Type.Literal(keys[0]!) : Type.Union(keys.map((k) => Type.Literal(k)));
}

export const SectionSummary = Type.Object(
  {
    section: Type.String({ maxLength: 50 }),
    description: Type.String({ maxLength: 200 }),
    version: Type.Integer({ minimum: 0 }),
    updated_at: Nullable(Timestamp),
  },
  { additionalProperties: false },
);

export const TestResult = Type.Object(
  { ok: Type.Boolean(), message: Type.String({ maxLength: 500 }), latency_ms: Nullable(Type.Number()) },
  { additionalProperties: false },
);
export const EgressTestBody = Type.Object(
  {
    url: Type.String({ maxLength: 2000, description: 'A target to check against the proposed policy' }),
    allow: Type.Optional(SECTIONS.egress.keys.allow.schema),
    deny: Type.Optional(SECTIONS.egress.keys.deny.schema),
    allow_internal: Type.Optional(SECTIONS.egress.keys.allow_internal.schema),
  },
  { additionalProperties: false },
);
