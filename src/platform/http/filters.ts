import { Type, type TSchema } from 'typebox';
import { sql, type Expression, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { BadRequestError, type FieldError } from '../errors.js';
import { ilike, likeEscape } from '../db/columns.js';
import type { Dialect } from '../db/database.js';
import { isUuid } from '../ids.js';

/**
 * NetBox-style list filters shared by all modules: `?name=a&name=b` (OR), `name__n` (not),
 * `name__ic` (contains, case-insensitive), `name__nic`, `name__ie` (iexact), `name__isw`,
 * `name__iew`, and `__gte`/`__lte`/`__gt`/`__lt` on numbers and dates. A module declares its
 * fields once; the query-string schema (hence OpenAPI) and the SQL are derived from that.
 */
export type FilterType = 'string' | 'number' | 'date' | 'bool' | 'uuid' | 'enum';

export interface FilterField {
  type: FilterType;
  /** Kysely column reference, e.g. `devices.name` */
  column: string;
  /** for `enum` */
  values?: readonly string[];
  /** for `number` over an integer column: values must be whole and within the column's range */
  integer?: 'int32' | 'int64';
}

const INTEGER_RANGE = { int32: [-2_147_483_648, 2_147_483_647], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] } as const;

export type FilterFields = Record<string, FilterField>;

const LOOKUPS: Record<FilterType, readonly string[]> = {
  string: ['', 'n', 'ic', 'nic', 'ie', 'isw', 'iew', 'isnull'],
  number: ['', 'n', 'gte', 'lte', 'gt', 'lt', 'isnull'],
  date: ['', 'n', 'gte', 'lte', 'gt', 'lt', 'isnull'],
  bool: [''],
  uuid: ['', 'n', 'isnull'],
  enum: ['', 'n'],
};

/** What each lookup suffix means (parameter descriptions and the OpenAPI document). */
export const LOOKUP_HELP: Readonly<Record<string, string>> = {
  '': 'equals (repeat for OR)',
  n: 'not equal',
  ic: 'contains, case-insensitive',
  nic: 'does not contain, case-insensitive',
  ie: 'equals, case-insensitive',
  isw: 'starts with, case-insensitive',
  iew: 'ends with, case-insensitive',
  gte: 'greater than or equal',
  lte: 'less than or equal',
  gt: 'greater than',
  lt: 'less than',
  isnull: 'true: has no value; false: has a value',
};

/** The keyword on each generated filter property: which field, lookup and kind of value it takes. */
export const FILTER_MARKER = 'x-filter';
export interface FilterMarker {
  field: string;
  lookup: string;
  /** the value's kind: the field's type, `integer` for whole-number fields, `isnull` for the `__isnull` lookup */
  type: FilterType | 'integer' | 'isnull';
}

/** Query-string properties for the declared fields (merge into the route's querystring schema). */
export function filterQuerySchema(fields: FilterFields): Record<string, TSchema> {
  const out: Record<string, TSchema> = {};
  for (const [name, f] of Object.entries(fields)) {
    for (const lookup of LOOKUPS[f.type]) {
      const key = lookup ? `${name}__${lookup}` : name;
      const item =
        f.type === 'enum' && f.values
          ? Type.Union(f.values.map((v) => Type.Literal(v)))
          : f.type === 'bool' || lookup === 'isnull'
            ? Type.Union([Type.Literal('true'), Type.Literal('false')])
            : Type.String({ maxLength: 500 });
      // `x-filter` lets the OpenAPI document describe each field's lookups once (platform/http/openapi.ts).
      const marker: FilterMarker = { field: name, lookup, type: lookup === 'isnull' ? 'isnull' : f.integer ? 'integer' : f.type };
      out[key] = Type.Optional(Type.Array(item, { maxItems: 100, description: `${name}: ${LOOKUP_HELP[lookup]}`, [FILTER_MARKER]: marker }));
    }
  }
  return out;
}

export interface FilterCondition {
  field: string;
  column: string;
  type: FilterType;
  lookup: string;
  values: (string | number)[];
}

function convert(field: string, key: string, f: FilterField, raw: string, lookup: string): { value: string | number } | FieldError {
  if (lookup === 'isnull') {
    return raw === 'true' || raw === 'false' ? { value: raw === 'true' ? 1 : 0 } : { path: `query.${key}`, message: `'${raw}' is not true or false` };
  }
  switch (f.type) {
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) return { path: `query.${key}`, message: `'${raw}' is not a number` };
      if (!f.integer) return { value: n };
      const [min, max] = INTEGER_RANGE[f.integer];
      return Number.isInteger(n) && n >= min && n <= max
        ? { value: n }
        : { path: `query.${key}`, message: `'${raw}' is not a whole number from ${min} to ${max}` };
    }
    case 'date': {
      const d = new Date(raw);
      return /^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(d.getTime())
        ? { value: d.toISOString() }
        : { path: `query.${key}`, message: `'${raw}' is not an ISO 8601 date or date-time` };
    }
    case 'uuid':
      return isUuid(raw) ? { value: raw.toLowerCase() } : { path: `query.${key}`, message: `'${raw}' is not a UUID` };
    case 'bool':
      return { value: raw === 'true' ? 1 : 0 };
    default:
      return { value: raw };
  }
}

/** Picks the declared filters out of a parsed query string; unknown keys are left to the schema. */
export function parseFilters(query: Record<string, unknown>, fields: FilterFields): FilterCondition[] {
  const conditions: FilterCondition[] = [];
  const errors: FieldError[] = [];
  for (const [key, rawValue] of Object.entries(query)) {
    if (rawValue === undefined) continue;
    const sep = key.lastIndexOf('__');
    const name = sep > 0 ? key.slice(0, sep) : key;
    const lookup = sep > 0 ? key.slice(sep + 2) : '';
    const f = fields[name];
    if (!f || !LOOKUPS[f.type].includes(lookup)) continue;
    const raws = (Array.isArray(rawValue) ? rawValue : [rawValue]).map(String);
    const values: (string | number)[] = [];
    for (const raw of raws) {
      const r = convert(name, key, f, raw, lookup);
      if ('path' in r) errors.push(r);
      else values.push(r.value);
    }
    if (values.length > 0) conditions.push({ field: name, column: f.column, type: f.type, lookup, values });
  }
  if (errors.length > 0) throw new BadRequestError('INVALID_FILTER', 'One or more filters are invalid', errors);
  return conditions;
}

function conditionExpr<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, c: FilterCondition, dialect: Dialect): Expression<SqlBool> {
  const col = eb.ref(c.column as never) as Expression<unknown>;
  const likeAny = (make: (v: string) => string, negate: boolean) => {
    const parts = c.values.map((v) => ilike(dialect, col, make(likeEscape(String(v)))));
    return negate ? eb.not(eb.or(parts)) : eb.or(parts);
  };
  switch (c.lookup) {
    case '':
      return c.values.length === 1 ? sql<SqlBool>`${col} = ${c.values[0]}` : sql<SqlBool>`${col} in (${sql.join(c.values)})`;
    case 'n':
      return sql<SqlBool>`(${col} is null or ${col} not in (${sql.join(c.values)}))`;
    case 'ic':
      return likeAny((v) => `%${v}%`, false);
    case 'nic':
      return eb.or([sql<SqlBool>`${col} is null`, likeAny((v) => `%${v}%`, true)]);
    case 'ie':
      return likeAny((v) => v, false);
    case 'isnull':
      // Several values (true and false) mean either: no constraint.
      return new Set(c.values).size > 1 ? sql<SqlBool>`1 = 1` : c.values[0] ? sql<SqlBool>`${col} is null` : sql<SqlBool>`${col} is not null`;
    case 'isw':
      return likeAny((v) => `${v}%`, false);
    case 'iew':
      return likeAny((v) => `%${v}`, false);
    default: {
      const op = { gte: '>=', lte: '<=', gt: '>', lt: '<' }[c.lookup] ?? '=';
      // Several values of a range lookup must all hold (a range, not an OR).
      return eb.and(c.values.map((v) => sql<SqlBool>`${col} ${sql.raw(op)} ${v}`));
    }
  }
}

/** Adds the parsed filters to a query (AND between fields, OR between values of one field). */
export function applyFilters<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  conditions: FilterCondition[],
  dialect: Dialect,
): SelectQueryBuilder<DB, TB, O> {
  if (conditions.length === 0) return qb;
  return qb.where((eb) => eb.and(conditions.map((c) => conditionExpr(eb, c, dialect))));
}
