import { Type } from 'typebox';
import { sql, type ExpressionBuilder, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { BadRequestError } from '../errors.js';

/**
 * Cursor (keyset) pagination shared by every list: `?limit=` (default 50, max 1000), an
 * opaque `?cursor=` and `?sort=field,-other`. The cursor holds the sort values of the last
 * row served, so a deep page costs what the first one does (no OFFSET). NULLs sort last in
 * both directions on both dialects.
 */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Page size' })),
  cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'Opaque cursor from a previous page' })),
};

export const sortQuery = (fields: readonly string[]) =>
  Type.Optional(
    Type.String({
      maxLength: 500,
      pattern: '^-?[a-z0-9_]+(,-?[a-z0-9_]+)*$',
      description: `Comma-separated fields, '-' for descending. One of: ${fields.join(', ')}`,
    }),
  );

export interface SortKey {
  /** API field name (snake_case) */
  field: string;
  /** Kysely column reference (camelCase under CamelCasePlugin), e.g. `devices.name` or `name` */
  column: string;
  desc: boolean;
  /**
   * false when the column is NOT NULL (the id always is): the cursor condition and ORDER BY
   * then need no NULL handling, so an index on the sort columns serves every page.
   */
  nullable?: boolean;
}

/**
 * Parses `?sort=` against an allow-list of `{ apiField: column }`; always ends with the id
 * column so the order is total and the cursor unambiguous.
 */
export function parseSort(
  sort: string | undefined,
  allowed: Record<string, string>,
  idColumn: string,
  fallback = 'id',
  notNull: readonly string[] = [],
): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of (sort ?? fallback).split(',')) {
    const desc = part.startsWith('-');
    const field = desc ? part.slice(1) : part;
    const column = field === 'id' ? idColumn : allowed[field];
    if (!column) {
      throw new BadRequestError('INVALID_SORT', `Cannot sort by '${field}'`, [
        { path: 'query.sort', message: `unknown sort field '${field}'; allowed: ${['id', ...Object.keys(allowed)].join(', ')}` },
      ]);
    }
    if (!keys.some((k) => k.column === column)) keys.push({ field, column, desc, nullable: !(field === 'id' || notNull.includes(field)) });
  }
  if (!keys.some((k) => k.column === idColumn)) keys.push({ field: 'id', column: idColumn, desc: keys[0]?.desc ?? false, nullable: false });
  return keys;
}

type CursorValue = string | number | boolean | null;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, expectedLength: number): CursorValue[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === expectedLength && values.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) {
      return values as CursorValue[];
    }
  } catch {
    // reported below
  }
  throw new BadRequestError('INVALID_CURSOR', 'The cursor is invalid or belongs to another sort order', [
    { path: 'query.cursor', message: 'invalid cursor; start again without it or with the same sort' },
  ]);
}

// Rows after `value` on one key, NULLs last: (col > v OR col IS NULL) ascending, col < v descending… each
// combined with equality on earlier keys. Built recursively: after(k0..kn) = strictlyAfter(k0) OR (k0 = v0 AND after(k1..kn)).
function after<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, keys: SortKey[], values: CursorValue[], i: number): Expression<SqlBool> {
  const key = keys[i]!;
  const value = values[i] ?? null;
  const col = eb.ref(key.column as never) as Expression<unknown>;
  const last = i === keys.length - 1;
  if (value === null) {
    // Nulls are last, so only more nulls with a later tie-breaker follow.
    return last ? sql<SqlBool>`false` : eb.and([sql<SqlBool>`${col} is null`, after(eb, keys, values, i + 1)]);
  }
  const beyond = key.desc ? sql<SqlBool>`${col} < ${value}` : sql<SqlBool>`${col} > ${value}`;
  const strictly = key.nullable === false ? beyond : eb.or([beyond, sql<SqlBool>`${col} is null`]);
  if (last) return strictly;
  return eb.or([strictly, eb.and([sql<SqlBool>`${col} = ${value}`, after(eb, keys, values, i + 1)])]);
}

/**
 * Applies sort, cursor and limit (+1 row to know whether another page exists).
 * Call `pageResult` on the rows it returns.
 */
export function applyPage<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  keys: SortKey[],
  cursor: string | undefined,
  limit: number,
): SelectQueryBuilder<DB, TB, O> {
  let q = qb;
  if (cursor) {
    const values = decodeCursor(cursor, keys.length);
    // NOT NULL keys all in one direction: a row-value comparison, which both planners turn
    // into an index range scan, so a deep page costs what the first one does.
    const simple = keys.every((k) => k.nullable === false && k.desc === keys[0]!.desc) && values.every((v) => v !== null);
    q = simple
      ? q.where(sql<SqlBool>`(${sql.join(keys.map((k) => sql.ref(k.column)))}) ${sql.raw(keys[0]!.desc ? '<' : '>')} (${sql.join(values)})`)
      : q.where((eb) => after(eb, keys, values, 0));
  }
  for (const key of keys) {
    // A NULLS clause on a NOT NULL column would stop the planner from reading the order off an index.
    const nulls = key.nullable === false ? '' : ' nulls last';
    q = q.orderBy(sql`${sql.ref(key.column)} ${sql.raw(key.desc ? 'desc' : 'asc')}${sql.raw(nulls)}`);
  }
  return q.limit(limit + 1);
}

/**
 * Trims the extra row and builds `next_cursor` from the last row served. `valueOf` reads a
 * sort key's value from a row (rows are usually camelCase).
 */
export function pageResult<R>(
  rows: R[],
  keys: SortKey[],
  limit: number,
  valueOf: (row: R, key: SortKey) => unknown,
): { items: R[]; next_cursor: string | null } {
  if (rows.length <= limit) return { items: rows, next_cursor: null };
  const items = rows.slice(0, limit);
  const lastRow = items[items.length - 1]!;
  return { items, next_cursor: encodeCursor(keys.map((k) => normaliseCursorValue(valueOf(lastRow, k)))) };
}

function normaliseCursorValue(v: unknown): CursorValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Reads a sort key from a camelCase row by its column's last segment. */
export function camelValue(row: object, key: SortKey): unknown {
  const col = key.column.includes('.') ? key.column.slice(key.column.lastIndexOf('.') + 1) : key.column;
  return (row as Record<string, unknown>)[col];
}
