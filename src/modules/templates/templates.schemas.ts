import { Type, type Static } from 'typebox';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { Nullable, Page, Timestamp, Uuid } from '../../platform/http/schemas.js';

/** Request/response schemas of /api/v1/templates (templates.routes.ts). */
export const TEMPLATE_TYPES = ['jinja2', 'text', 'yaml', 'json', 'textfsm'] as const;
export const TEMPLATE_SOURCES = ['webeditor', 'file', 'git'] as const;
export const MAX_CONTENT = 1024 * 1024;

const Name = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[A-Za-z0-9_.-][A-Za-z0-9_. -]*(/[A-Za-z0-9_.-][A-Za-z0-9_. -]*)*$',
  description: 'Unique among active templates; includes and imports name templates by it',
});
const Content = Type.String({ maxLength: MAX_CONTENT, description: 'The template text' });
const TemplateType = Type.Union([Type.Literal('jinja2'), Type.Literal('text'), Type.Literal('yaml'), Type.Literal('json'), Type.Literal('textfsm')], {
  description: 'Only jinja2 templates are syntax-checked and rendered',
});
const Source = Type.Union(TEMPLATE_SOURCES.map((t) => Type.Literal(t)));
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 });
const SchemaObject = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
  description: 'A JSON Schema (draft 2020-12 subset that Ajv accepts) the render variables must satisfy',
});
const Notes = Type.String({ maxLength: 2000, description: 'Change notes stored with the new version' });
const Variables = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
  description: 'Template variables; they override inventory data of the same name',
});

export const ConfigTemplate = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    source: Source,
    source_path: Nullable(Type.String({ description: 'git: the file, relative to the repository path' })),
    source_repository_id: Nullable(Uuid),
    source_commit: Nullable(Type.String({ description: 'git: the commit of the current version' })),
    type: TemplateType,
    category: Nullable(Type.String()),
    description: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    variables_schema: Nullable(Type.Record(Type.String(), Type.Unknown())),
    active: Type.Boolean(),
    content: Type.String(),
    version: Type.Integer({ description: 'The current version number' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
export type ConfigTemplate = Static<typeof ConfigTemplate>;
export const ConfigTemplatePage = Page(ConfigTemplate);

export const CreateConfigTemplateBody = Type.Object(
  {
    name: Name,
    content: Content,
    type: Type.Optional(TemplateType),
    source: Type.Optional(Type.Union([Type.Literal('webeditor'), Type.Literal('file')], { description: 'git is set by repository sync only' })),
    category: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    tags: Type.Optional(Tags),
    variables_schema: Type.Optional(Nullable(SchemaObject)),
    active: Type.Optional(Type.Boolean()),
    notes: Type.Optional(Notes),
  },
  { additionalProperties: false },
);
export type CreateConfigTemplateBody = Static<typeof CreateConfigTemplateBody>;

/** `POST /templates/upload`: the file is the raw body; what JSON would carry is in the query. */
export const UploadConfigTemplateQuery = Type.Object(
  {
    filename: Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[^/\\\\\\u0000-\\u001f]+$',
      description:
        "The uploaded file's name (kept as `source_path`; its extension chooses `type` when `type` is not given: .j2/.jinja2/.jinja → jinja2, .yaml/.yml → yaml, .json, .textfsm, anything else text)",
    }),
    name: Type.Optional(Name),
    type: Type.Optional(TemplateType),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    notes: Type.Optional(Notes),
  },
  { additionalProperties: false },
);
export type UploadConfigTemplateQuery = Static<typeof UploadConfigTemplateQuery>;

export const UpdateConfigTemplateBody = Type.Object(
  {
    name: Type.Optional(Name),
    content: Type.Optional(Content),
    type: Type.Optional(TemplateType),
    category: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    tags: Type.Optional(Tags),
    variables_schema: Type.Optional(Nullable(SchemaObject)),
    active: Type.Optional(Type.Boolean()),
    notes: Type.Optional(Notes),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateConfigTemplateBody = Static<typeof UpdateConfigTemplateBody>;

export const ConfigTemplateQuery = Type.Object(
  {
    ...PageQuery,
    sort: sortQuery(['name', 'category', 'created_at', 'updated_at']),
    type: Type.Optional(TemplateType),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    active: Type.Optional(Type.Boolean()),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the name or description' })),
  },
  { additionalProperties: false },
);
export type ConfigTemplateQuery = Static<typeof ConfigTemplateQuery>;

const Author = Type.Object({ id: Nullable(Type.String()), name: Nullable(Type.String()) }, { additionalProperties: false });
export const VersionSummary = Type.Object(
  {
    version: Type.Integer(),
    content_hash: Type.String({ description: 'SHA-256 of the content, hex' }),
    author: Author,
    notes: Nullable(Type.String()),
    created_at: Timestamp,
  },
  { additionalProperties: false },
);
export const VersionDetail = Type.Object({ ...VersionSummary.properties, content: Type.String() }, { additionalProperties: false });
export const VersionPage = Page(VersionSummary);
export const VersionQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export const VersionParams = Type.Object({ id: Uuid, version: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, { additionalProperties: false });
export const DiffQuery = Type.Object(
  {
    from: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    to: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default: the current version' })),
  },
  { additionalProperties: false },
);
export const DiffResponse = Type.Object(
  { from: Type.Integer(), to: Type.Integer(), diff: Type.String({ description: 'Unified diff' }) },
  { additionalProperties: false },
);
export const RestoreBody = Type.Object({ notes: Type.Optional(Notes) }, { additionalProperties: false });

export const VariablesResponse = Type.Object(
  {
    variables: Type.Array(Type.String(), { description: 'Undeclared variables the template reads, in order of first use' }),
    proposed_schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema inferred from use: loops → arrays, attribute access → objects' }),
    variables_schema: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'The stored schema enforced at render, if any' })),
  },
  { additionalProperties: false },
);

export const RenderBody = Type.Object(
  {
    variables: Type.Optional(Variables),
    device_id: Type.Optional(
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description: "Merge this device's inventory data: device, interfaces, ip_addresses, location, platform, custom_fields",
      }),
    ),
  },
  { additionalProperties: false },
);
export type RenderBody = Static<typeof RenderBody>;
export const RenderContentBody = Type.Object({ content: Content, variables: Type.Optional(Variables) }, { additionalProperties: false });
export type RenderContentBody = Static<typeof RenderContentBody>;
export const RenderResponse = Type.Object(
  { output: Type.String(), template_id: Nullable(Uuid), version: Nullable(Type.Integer()) },
  { additionalProperties: false },
);
export type RenderResponse = Static<typeof RenderResponse>;
