import { shareResponseSchemas, type Operation as ResponsesOf } from './openapi-shared.js';
import { FILTER_MARKER, LOOKUP_HELP, type FilterMarker } from './filters.js';

/**
 * The finishing pass over the generated OpenAPI document (@fastify/swagger's `transformObject`):
 * list filters described once per field, repeated response schemas as shared components
 * (`openapi-shared.ts`), and the wildcard path parameter given a name.
 * It changes the document only: request validation still runs on each route's own schema.
 */
type Json = Record<string, unknown>;
type Parameter = { name: string; in: string; description?: string; schema?: Json };
type Operation = ResponsesOf & { parameters?: Parameter[] };
type Document = { paths?: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Json> } };

/** The query parameter that stands for every filter of a list operation. */
export const FILTERS_PARAMETER = 'filters';

const COMPONENT: Record<Exclude<FilterMarker['type'], 'enum'>, { name: string; help: string }> = {
  string: { name: 'FilterText', help: 'Text values.' },
  number: { name: 'FilterNumber', help: 'Numbers.' },
  integer: { name: 'FilterInteger', help: 'Whole numbers within the column’s range.' },
  date: { name: 'FilterDate', help: 'ISO 8601 dates or date-times.' },
  uuid: { name: 'FilterUuid', help: 'UUIDs.' },
  bool: { name: 'FilterBool', help: '`true` or `false`.' },
  isnull: { name: 'FilterIsNull', help: '`true`: has no value; `false`: has a value.' },
};

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternatives = (items: string[]): string => `(?:${items.map(escape).join('|')})`;

/** `^name(?:__(?:n|ic))?$` when the bare field is a filter too, else `^name__(?:gte|lte)$`. */
function fieldPattern(field: string, lookups: string[]): string {
  const suffixes = lookups.filter((l) => l !== '');
  if (suffixes.length === 0) return `^${escape(field)}$`;
  return lookups.includes('') ? `^${escape(field)}(?:__${alternatives(suffixes)})?$` : `^${escape(field)}__${alternatives(suffixes)}$`;
}

/** The schema of a filter parameter, without its per-parameter description and marker; a union of literals as one `enum`. */
function valueSchema(param: Parameter): Json {
  const { [FILTER_MARKER]: _marker, description: _description, ...rest } = param.schema ?? {};
  const literals = (rest.items as { anyOf?: { type?: string; enum?: unknown[] }[] } | undefined)?.anyOf;
  if (literals?.every((l) => l.type === 'string' && l.enum?.length === 1)) return { ...rest, items: { type: 'string', enum: literals.flatMap((l) => l.enum) } };
  return rest;
}

/** Replaces an operation's filter parameters (one per field × lookup) by one object parameter with a pattern per field. */
function compactFilters(op: Operation, schemas: Record<string, Json>, where: string): void {
  const filters = (op.parameters ?? []).filter((p) => p.in === 'query' && p.schema?.[FILTER_MARKER]);
  if (filters.length === 0) return;
  if (op.parameters?.some((p) => p.name === FILTERS_PARAMETER)) throw new Error(`${where}: a query parameter is already named '${FILTERS_PARAMETER}'`);
  const fields = new Map<string, { type: FilterMarker['type']; lookups: string[]; schema: Json }>();
  const isNull: string[] = [];
  const lookupsUsed = new Set<string>();
  for (const p of filters) {
    const marker = p.schema![FILTER_MARKER] as FilterMarker;
    lookupsUsed.add(marker.lookup);
    if (marker.type === 'isnull') {
      isNull.push(marker.field);
      addComponent(schemas, 'isnull', valueSchema(p), where);
      continue;
    }
    const entry = fields.get(marker.field) ?? { type: marker.type, lookups: [], schema: valueSchema(p) };
    entry.lookups.push(marker.lookup);
    fields.set(marker.field, entry);
    if (marker.type !== 'enum') addComponent(schemas, marker.type, valueSchema(p), where);
  }
  const patternProperties: Json = {};
  const lines: string[] = [];
  for (const [field, f] of fields) {
    patternProperties[fieldPattern(field, f.lookups)] = f.type === 'enum' ? f.schema : { $ref: `#/components/schemas/${COMPONENT[f.type].name}` };
    const lookups = [...f.lookups, ...(isNull.includes(field) ? ['isnull'] : [])].map((l) => (l ? `\`__${l}\`` : 'equals'));
    lines.push(`- \`${field}\` (${f.type}): ${lookups.join(', ')}`);
  }
  if (isNull.length > 0) patternProperties[`^${alternatives(isNull)}__isnull$`] = { $ref: `#/components/schemas/${COMPONENT.isnull.name}` };
  const legend = Object.keys(LOOKUP_HELP)
    .filter((l) => l !== '' && lookupsUsed.has(l))
    .map((l) => `\`__${l}\` ${LOOKUP_HELP[l]}`);
  const description = [
    'Filters, each its own query parameter: `field=value` (equals; repeat for OR) or `field__lookup=value`. Different filters must all hold.',
    `Lookups: ${legend.join('; ')}.`,
    lines.join('\n'),
  ].join('\n\n');
  op.parameters = [
    ...(op.parameters ?? []).filter((p) => !filters.includes(p)),
    {
      name: FILTERS_PARAMETER,
      in: 'query',
      description,
      style: 'form',
      explode: true,
      schema: { type: 'object', additionalProperties: false, patternProperties },
    } as Parameter,
  ];
}

function addComponent(schemas: Record<string, Json>, type: Exclude<FilterMarker['type'], 'enum'>, schema: Json, where: string): void {
  const { name, help } = COMPONENT[type];
  const component = { ...schema, description: help };
  const existing = schemas[name];
  if (!existing) schemas[name] = component;
  else if (JSON.stringify(existing) !== JSON.stringify(component)) {
    throw new Error(`${where}: ${type} filters take different values than elsewhere; give them their own component`);
  }
}

/** Fastify's wildcard `*` becomes the path parameter `{path}` (an OpenAPI parameter needs a name). */
function nameWildcard(paths: NonNullable<Document['paths']>): NonNullable<Document['paths']> {
  for (const [url, item] of Object.entries(paths)) {
    if (!url.includes('{*}')) continue;
    for (const op of Object.values(item)) {
      for (const p of op.parameters ?? []) if (p.in === 'path' && p.name === '*') p.name = 'path';
    }
  }
  return Object.fromEntries(Object.entries(paths).map(([url, item]) => [url.replace('{*}', '{path}'), item]));
}

/** The document as served and committed. */
export function finishOpenApi<T extends object>(doc: T): T {
  const d = doc as Document;
  const paths = (d.paths = nameWildcard(d.paths ?? {}));
  const schemas = ((d.components ??= {}).schemas ??= {});
  for (const [url, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) compactFilters(op, schemas, `${method.toUpperCase()} ${url}`);
  }
  shareResponseSchemas(paths, schemas);
  return doc;
}
