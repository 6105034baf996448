import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Dialect } from '../../platform/db/database.js';
import { ilike, likeEscape } from '../../platform/db/columns.js';
import { applyFilters, type FilterCondition, type FilterFields } from '../../platform/http/filters.js';
import { applyPage, type SortKey } from '../../platform/http/pagination.js';
import type { InventoryDb, InventoryTable } from './inventory.tables.js';

// NOTE: this file is generic over the inventory's tables: filters, sorts and references name
// their columns at run time (`devices.name`), so the tables joined are loose (`any`) here and only
// here, while each TableSpec's query fixes the row type `R` every read returns.
export type SpecSelect<R> = SelectQueryBuilder<any, any, R>;
/** Any query over the inventory's tables (extra filters). */
export type AnySelect = SpecSelect<any>;
type AnyDb = Kysely<any>;
export type Row = Record<string, unknown> & { id: string };

/** How one object type is stored and listed: the repository half of a resource; `R` is the row its query selects. */
export interface TableSpec<R extends Row = Row> {
  table: InventoryTable;
  /** The list/get query: the table, its brief joins and the named columns the API serves. */
  query(db: InventoryDb): SpecSelect<R>;
  /** e.g. `devices.id` */
  idColumn: string;
  filters: FilterFields;
  /** API sort field → column reference */
  sort: Record<string, string>;
  /** Sort fields whose column is NOT NULL (lets the planner page off an index). */
  notNullSort: readonly string[];
  /** API sort field → key of that value in a row, when it is not the column's last segment. */
  sortRowKey?: Record<string, string>;
  defaultSort: string;
  /** Columns `?q=` searches (case-insensitive contains). */
  search: readonly string[];
  /** Filters the generic ones cannot express (many-to-many, custom fields). */
  extraFilters?(qb: AnySelect, query: Record<string, unknown>, dialect: Dialect): AnySelect;
}

/** The row a TableSpec's query selects. */
export type RowOf<S> = S extends TableSpec<infer R> ? R : never;

/** A TableSpec whose row type is inferred from its query. */
export const tableSpec = <R extends Row>(spec: TableSpec<R>): TableSpec<R> => spec;

export interface ListArgs {
  conditions: FilterCondition[];
  keys: SortKey[];
  cursor: string | undefined;
  limit: number;
  q: string | undefined;
  query: Record<string, unknown>;
}

// `in (...)` lists stay short; multi-row inserts may bind more (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMS = 900;
const INSERT_PARAMS = 16_000;

/** List, get, insert, update and delete for one table, from its spec. */
export function createCrudRepository<R extends Row>(db: InventoryDb, dialect: Dialect, spec: TableSpec<R>) {
  const any = db as unknown as AnyDb;
  const idCol = spec.idColumn;

  /** Filters, search and extra filters, without paging: shared by lists, exports and dynamic groups. */
  function filtered(args: Pick<ListArgs, 'conditions' | 'q' | 'query'>): SpecSelect<R> {
    let qb = applyFilters(spec.query(db), args.conditions, dialect);
    const q = args.q?.trim();
    if (q) qb = qb.where((eb) => eb.or(spec.search.map((c) => ilike(dialect, eb.ref(c), `%${likeEscape(q)}%`))));
    if (spec.extraFilters) qb = spec.extraFilters(qb, args.query, dialect);
    return qb;
  }

  return {
    spec,
    filtered,
    async list(args: ListArgs): Promise<R[]> {
      return applyPage(filtered(args), args.keys, args.cursor, args.limit).execute();
    },
    /** Ids of every row matching the filters (dynamic groups, job targets). */
    async ids(args: Pick<ListArgs, 'conditions' | 'q' | 'query'>): Promise<string[]> {
      const rows = (await filtered(args).clearSelect().select(sql.ref<string>(idCol).as('id')).execute()) as { id: string }[];
      return rows.map((r) => r.id);
    },
    async getMany(ids: readonly string[]): Promise<R[]> {
      const out: R[] = [];
      for (let i = 0; i < ids.length; i += MAX_PARAMS) {
        out.push(
          ...(await spec
            .query(db)
            .where(idCol, 'in', ids.slice(i, i + MAX_PARAMS))
            .execute()),
        );
      }
      return out;
    },
    /** Rows whose column is one of the values, in the default order (page includes). */
    async byColumn(column: string, values: readonly string[]): Promise<R[]> {
      const out: R[] = [];
      const order = spec.sort[spec.defaultSort] ?? idCol;
      for (let i = 0; i < values.length; i += MAX_PARAMS) {
        const chunk = values.slice(i, i + MAX_PARAMS);
        out.push(...(await spec.query(db).where(column, 'in', chunk).orderBy(order).orderBy(idCol).execute()));
      }
      return out;
    },
    async get(id: string): Promise<R | undefined> {
      return spec.query(db).where(idCol, '=', id).executeTakeFirst();
    },
    async insert(given: readonly Record<string, unknown>[]): Promise<void> {
      let rows = given;
      if (rows.length === 0) return;
      // Rows of one statement must name the same columns; an absent optional column is NULL.
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      rows = rows.map((r) => (Object.keys(r).length === columns.length ? r : Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))));
      const per = Math.max(1, Math.floor(INSERT_PARAMS / Object.keys(rows[0]!).length));
      for (let i = 0; i < rows.length; i += per) {
        await any
          .insertInto(spec.table)
          .values(rows.slice(i, i + per))
          .execute();
      }
    },
    async update(id: string, values: Record<string, unknown>): Promise<void> {
      await any.updateTable(spec.table).set(values).where('id', '=', id).execute();
    },
    async delete(ids: readonly string[]): Promise<number> {
      let n = 0;
      for (let i = 0; i < ids.length; i += MAX_PARAMS) {
        const r = await any
          .deleteFrom(spec.table)
          .where('id', 'in', ids.slice(i, i + MAX_PARAMS))
          .executeTakeFirst();
        n += Number(r.numDeletedRows);
      }
      return n;
    },
    /** value → id for the given values of a column (uniqueness checks before writing). */
    async existing(column: string, values: readonly (string | number)[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (let i = 0; i < values.length; i += MAX_PARAMS) {
        const rows = (await any
          .selectFrom(spec.table)
          .select(['id', `${column} as v`])
          .where(column, 'in', values.slice(i, i + MAX_PARAMS))
          .execute()) as {
          id: string;
          v: unknown;
        }[];
        for (const r of rows) out.set(String(r.v), r.id);
      }
      return out;
    },
  };
}

export type CrudRepository<R extends Row = Row> = ReturnType<typeof createCrudRepository<R>>;

/** Looks up an object's id by id or by its unique name (request bodies accept either). */
export function createRefRepository(db: InventoryDb) {
  const any = db as unknown as AnyDb;
  return {
    async byId(table: InventoryTable, id: string): Promise<string | undefined> {
      const r = (await any.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst()) as { id: string } | undefined;
      return r?.id;
    },
    async byName(table: InventoryTable, column: string, value: string): Promise<string | undefined> {
      const r = (await any.selectFrom(table).select('id').where(column, '=', value).executeTakeFirst()) as { id: string } | undefined;
      return r?.id;
    },
  };
}
