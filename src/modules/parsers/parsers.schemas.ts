import { Type, type Static } from 'typebox';
import { PageQuery, sortQuery } from '../../platform/http/pagination.js';
import { Nullable, Page, Timestamp, Uuid } from '../../platform/http/schemas.js';

/**
 * Request/response schemas of the parsers routes (parsers.routes.ts). They mirror
 * parsers.service.ts and custom-templates.service.ts so the routes stay thin.
 */
const TemplateName = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'A template file name, e.g. cisco_ios_show_version.textfsm',
});
/** `a.textfsm:b.textfsm` merges templates like an index row. */
const TemplateNames = Type.String({ minLength: 1, maxLength: 1000, pattern: '^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$' });
/**
 * The service enforces the configured input limit (413 with the size and the limit); this bound
 * only stops absurd bodies before they are validated.
 */
const Output = Type.String({ maxLength: 16 * 1024 * 1024, description: 'The command output to parse' });
const Platform = Type.String({ minLength: 1, maxLength: 100, description: 'ntc-templates platform, e.g. cisco_ios' });

export const ParseByCommandBody = Type.Object(
  {
    platform: Platform,
    command: Type.String({ minLength: 1, maxLength: 500, description: 'The command as typed; abbreviations work (sh ip int br)' }),
    output: Output,
  },
  { additionalProperties: false },
);
export const ParseByTemplateBody = Type.Object({ template: TemplateNames, output: Output }, { additionalProperties: false });
export const ParseByParserBody = Type.Object(
  { parser: Type.String({ minLength: 1, maxLength: 1100, description: 'A parser id from GET /parsers: a native id or textfsm:<template>' }), output: Output },
  { additionalProperties: false },
);
export const ParseBody = Type.Union([ParseByCommandBody, ParseByTemplateBody, ParseByParserBody]);
export type ParseBody = Static<typeof ParseBody>;

const LibraryRef = Type.Object(
  { id: Uuid, name: Type.String(), commit: Type.String() },
  {
    additionalProperties: false,
    description: 'The repository library (a textfsm Git repository) the template came from; absent for user templates, native parsers and library directories',
  },
);

export const ParseResponse = Type.Object(
  {
    template: Nullable(Type.String({ description: 'Template file(s) used; null for native parsers' })),
    parser: Type.String(),
    records: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    library: Type.Optional(LibraryRef),
  },
  { additionalProperties: false },
);

const ParserCommand = Type.Object({ platform: Type.String(), command: Type.String() }, { additionalProperties: false });

export const ParserDetail = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('native'), Type.Literal('textfsm'), Type.Literal('custom')]),
    description: Nullable(Type.String()),
    commands: Type.Array(ParserCommand),
    schema: Type.Unknown({ description: 'JSON Schema of the records (null when the template cannot be read)' }),
  },
  { additionalProperties: false },
);

export const TemplateSummary = Type.Object(
  {
    name: Type.String(),
    source: Type.Union([Type.Literal('custom'), Type.Literal('library')]),
    platform: Nullable(Type.String()),
    command: Nullable(Type.String()),
    dir: Nullable(Type.String()),
    library: Type.Optional(Type.String({ description: 'Repository library name, for templates fed by a textfsm Git repository' })),
  },
  { additionalProperties: false },
);

const Skipped = Type.Object({ template: Type.String(), line: Nullable(Type.Integer()), message: Type.String() }, { additionalProperties: false });
export const LibrarySummary = Type.Object(
  {
    kind: Type.Union([Type.Literal('repository'), Type.Literal('directory')]),
    name: Type.String({ description: 'The repository name, or the directory' }),
    repository_id: Nullable(Uuid),
    commit: Nullable(Type.String({ description: 'The synced commit the library was loaded from' })),
    path: Nullable(Type.String({ description: 'Directory inside the repository' })),
    templates: Nullable(Type.Integer({ description: 'Templates loaded' })),
    skipped: Type.Array(Skipped, { description: 'Templates left out at the last sync, and why' }),
    updated_at: Nullable(Timestamp),
  },
  { additionalProperties: false },
);
export const LibraryList = Type.Object({ items: Type.Array(LibrarySummary) }, { additionalProperties: false });

export const RegistryQuery = Type.Object({ platform: Type.Optional(Platform), ...PageQuery }, { additionalProperties: false });
export type RegistryQuery = Static<typeof RegistryQuery>;
export const ParserPage = Page(ParserDetail);
export const TemplatePage = Page(TemplateSummary);
export const ParserIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 1100 }) }, { additionalProperties: false });

/** User templates. `platform`/`command` are written like an ntc-templates index row. */
export const CustomTemplateBody = Type.Object(
  {
    name: TemplateName,
    platform: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'Regex matched at the start of the platform, as in an index row' }))),
    command: Type.Optional(Nullable(Type.String({ maxLength: 500, description: 'Command regex with [[…]] completion, e.g. sh[[ow]] ver[[sion]]' }))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    content: Type.String({ minLength: 1, maxLength: 256 * 1024, description: 'The TextFSM template' }),
  },
  { additionalProperties: false },
);
export type CustomTemplateBody = Static<typeof CustomTemplateBody>;

export const CustomTemplate = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    platform: Nullable(Type.String()),
    command: Nullable(Type.String()),
    description: Nullable(Type.String()),
    content: Type.String(),
    values: Type.Array(Type.String(), { description: 'Value names; record keys are these, lower-cased' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const CustomTemplateQuery = Type.Object(
  { platform: Type.Optional(Type.String({ maxLength: 200 })), sort: sortQuery(['name', 'platform', 'created_at', 'updated_at']), ...PageQuery },
  { additionalProperties: false },
);
export type CustomTemplateQuery = Static<typeof CustomTemplateQuery>;
export const CustomTemplatePage = Page(CustomTemplate);
