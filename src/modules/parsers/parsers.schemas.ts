import { Type, type Static } from 'typebox';

/**
 * Request/response schemas for the parsers routes (POST /api/v1/parsers/parse,
 * GET /api/v1/parsers, GET /api/v1/parsers/templates). The route plugin is written elsewhere;
 * these mirror parsers.service.ts so the wiring stays thin.
 */
const Name = Type.String({ minLength: 1, maxLength: 255 });
/** Output size is checked by the service (maxInputBytes); this bound only stops absurd bodies early. */
const Output = Type.String({ maxLength: 16 * 1024 * 1024 });

export const ParseByCommandBody = Type.Object({
  platform: Type.String({ minLength: 1, maxLength: 100 }),
  command: Type.String({ minLength: 1, maxLength: 500 }),
  output: Output,
}, { additionalProperties: false });

export const ParseByTemplateBody = Type.Object({ template: Name, output: Output }, { additionalProperties: false });
export const ParseByParserBody = Type.Object({ parser: Type.String({ minLength: 1, maxLength: 300 }), output: Output }, { additionalProperties: false });
export const ParseBody = Type.Union([ParseByCommandBody, ParseByTemplateBody, ParseByParserBody]);
export type ParseBody = Static<typeof ParseBody>;

export const ParseResponse = Type.Object({
  template: Type.Union([Type.String(), Type.Null()]),
  parser: Type.String(),
  records: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});

const ParserCommand = Type.Object({ platform: Type.String(), command: Type.String() });

export const ParserSummary = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('native'), Type.Literal('textfsm'), Type.Literal('custom')]),
  description: Type.Union([Type.String(), Type.Null()]),
  commands: Type.Array(ParserCommand),
});

export const TemplateSummary = Type.Object({
  name: Type.String(),
  source: Type.Union([Type.Literal('custom'), Type.Literal('library')]),
  platform: Type.Union([Type.String(), Type.Null()]),
  command: Type.Union([Type.String(), Type.Null()]),
  dir: Type.Union([Type.String(), Type.Null()]),
});

export const ListParsersQuery = Type.Object({ platform: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });
