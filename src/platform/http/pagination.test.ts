import { describe, expect, it, beforeAll } from 'vitest';
import { DIALECTS, useTestDatabase } from '../../../test/helpers/db.js';
import { columnTypes } from '../db/columns.js';
import { newId } from '../ids.js';
import { applyPage, camelValue, pageResult, parseSort, type SortKey } from './pagination.js';
import { applyFilters, parseFilters, type FilterFields } from './filters.js';
import { AppError } from '../errors.js';

type Items = { items: { id: string; name: string; score: number | null; createdAt: string } };
type Item = Items['items'];

const SORTABLE = { name: 'name', score: 'score', created_at: 'createdAt' };
const FIELDS: FilterFields = {
  name: { type: 'string', column: 'name' },
  score: { type: 'number', column: 'score' },
  created_at: { type: 'date', column: 'createdAt' },
};

// The order the database must produce: NULLs last in both directions, id breaking ties.
function expectedOrder(rows: Item[], keys: SortKey[]): string[] {
  const cmp = (a: Item, b: Item): number => {
    for (const k of keys) {
      const av = camelValue(a, k) as string | number | null;
      const bv = camelValue(b, k) as string | number | null;
      if (av === bv) continue;
      if (av === null) return 1;
      if (bv === null) return -1;
      const c = av < bv ? -1 : 1;
      return k.desc ? -c : c;
    }
    return 0;
  };
  return [...rows].sort(cmp).map((r) => r.id);
}

describe.each(DIALECTS)('cursor pagination and filters on %s', (dialect) => {
  const t = useTestDatabase(dialect);
  const rows: Item[] = [];
  const db = () => t().database.db.withTables<Items>();

  beforeAll(async () => {
    const types = columnTypes(t().database.db);
    await db()
      .schema.createTable('items')
      .addColumn('id', types.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(50)', (c) => c.notNull())
      .addColumn('score', 'integer')
      .addColumn('created_at', types.timestamp, (c) => c.notNull())
      .execute();
    const names = ['alpha', 'Bravo', 'charlie', 'delta_1', 'delta%2', 'echo'];
    for (let i = 0; i < 61; i++) {
      rows.push({
        id: newId(),
        name: `${names[i % names.length]}`,
        score: i % 5 === 0 ? null : (i * 7) % 13,
        createdAt: new Date(Date.UTC(2026, 0, 1 + (i % 20))).toISOString(),
      });
    }
    await db().insertInto('items').values(rows).execute();
  });

  async function collect(sort: string, limit: number): Promise<string[]> {
    const keys = parseSort(sort, SORTABLE, 'id');
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const q = applyPage(db().selectFrom('items').select(['id', 'name', 'score', 'createdAt']), keys, cursor, limit);
      const page = pageResult(await q.execute(), keys, limit, camelValue);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((r) => r.id));
      if (!page.next_cursor) return ids;
      cursor = page.next_cursor;
    }
    throw new Error('pagination did not terminate');
  }

  it.each(['id', 'name', '-name', 'score', '-score', 'score,-name', '-created_at,score', 'created_at,-id'])(
    'walks every row exactly once in order for sort=%s',
    async (sort) => {
      const ids = await collect(sort, 7);
      expect(ids).toEqual(expectedOrder(rows, parseSort(sort, SORTABLE, 'id')));
    },
  );

  it.each(['name', '-name', 'created_at,-id'])('walks NOT NULL keys (row-value cursor, no NULLS clause) in order for sort=%s', async (sort) => {
    const keys = parseSort(sort, SORTABLE, 'id', 'id', ['name', 'created_at']);
    expect(keys.every((k) => k.nullable === false)).toBe(true);
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = pageResult(await applyPage(db().selectFrom('items').select(['id', 'name', 'createdAt']), keys, cursor, 7).execute(), keys, 7, camelValue);
      ids.push(...page.items.map((r) => r.id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    expect(ids).toEqual(expectedOrder(rows, keys));
  });

  it('rejects unknown sort fields and foreign cursors with 400 naming the parameter', async () => {
    expect(() => parseSort('colour', SORTABLE, 'id')).toThrow(AppError);
    try {
      parseSort('name,colour', SORTABLE, 'id');
    } catch (e) {
      expect((e as AppError).errors[0]?.path).toBe('query.sort');
    }
    const keys = parseSort('name', SORTABLE, 'id');
    expect(() => applyPage(db().selectFrom('items').select('id'), keys, 'not-a-cursor', 5)).toThrow(/cursor/);
    const otherSort = parseSort('score,name', SORTABLE, 'id');
    const page = pageResult(
      await applyPage(db().selectFrom('items').select(['id', 'name', 'score']), otherSort, undefined, 2).execute(),
      otherSort,
      2,
      camelValue,
    );
    expect(() => applyPage(db().selectFrom('items').select('id'), keys, page.next_cursor!, 5)).toThrow(/cursor/);
  });

  async function filtered(query: Record<string, unknown>): Promise<string[]> {
    const conditions = parseFilters(query, FIELDS);
    const out = await applyFilters(db().selectFrom('items').select('id'), conditions, dialect).orderBy('id').execute();
    return out.map((r) => r.id);
  }
  const ids = (pred: (r: Item) => boolean) =>
    rows
      .filter(pred)
      .map((r) => r.id)
      .sort();

  it.each<[string, Record<string, unknown>, (r: Item) => boolean]>([
    ['exact OR', { name: ['alpha', 'echo'] }, (r) => r.name === 'alpha' || r.name === 'echo'],
    ['not', { name__n: ['alpha'] }, (r) => r.name !== 'alpha'],
    ['contains, case-insensitive', { name__ic: ['RAV'] }, (r) => r.name.toLowerCase().includes('rav')],
    ['wildcards are literal', { name__ic: ['_'] }, (r) => r.name.includes('_')],
    ['percent is literal', { name__ic: ['%'] }, (r) => r.name.includes('%')],
    ['not contains', { name__nic: ['delta'] }, (r) => !r.name.includes('delta')],
    ['iexact', { name__ie: ['bravo'] }, (r) => r.name.toLowerCase() === 'bravo'],
    ['starts with', { name__isw: ['DEL'] }, (r) => r.name.startsWith('del')],
    ['ends with', { name__iew: ['LIE'] }, (r) => r.name.endsWith('lie')],
    ['number range', { score__gte: ['3'], score__lte: ['8'] }, (r) => r.score !== null && r.score >= 3 && r.score <= 8],
    ['number gt', { score__gt: ['10'] }, (r) => r.score !== null && r.score > 10],
    [
      'date range',
      { created_at__gte: ['2026-01-05'], created_at__lt: ['2026-01-10T00:00:00Z'] },
      (r) => r.createdAt >= '2026-01-05' && r.createdAt < '2026-01-10',
    ],
    ['fields AND', { name: ['alpha'], score__lt: ['5'] }, (r) => r.name === 'alpha' && r.score !== null && r.score < 5],
    ['isnull true', { score__isnull: ['true'] }, (r) => r.score === null],
    ['isnull false', { score__isnull: ['false'] }, (r) => r.score !== null],
  ])('filters: %s', async (_label, query, pred) => {
    expect(await filtered(query)).toEqual(ids(pred));
  });

  it('rejects a bad filter value with 400 naming the parameter', () => {
    try {
      parseFilters({ score__gte: ['many'], created_at: ['yesterday'] }, FIELDS);
      throw new Error('expected failure');
    } catch (e) {
      expect((e as AppError).status).toBe(400);
      expect((e as AppError).errors.map((x) => x.path).sort()).toEqual(['query.created_at', 'query.score__gte']);
    }
  });
});
