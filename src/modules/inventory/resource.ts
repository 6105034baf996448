import type { TObject } from 'typebox';
import type { Db } from '../../platform/db/database.js';
import { ConflictError, ValidationError, type FieldError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/auth.js';
import type { FilterFields } from '../../platform/http/filters.js';
import { isUuid } from '../../platform/ids.js';
import type { CrudRepository, Row } from './crud.repository.js';
import type { InventoryRepos } from './inventory.repos.js';
import type { InventoryTable } from './inventory.tables.js';
import { validateCustomFields, type CustomFieldDef } from './custom-field.fns.js';
import type { ObjectType } from './inventory.schemas.js';

/**
 * The business half of a resource (the repository half is its TableSpec): how input becomes
 * column values, how rows become API objects, what a page embeds. `crud.service.ts` runs
 * every object type's list/get/create/update/delete/bulk through these definitions.
 */
/**
 * What `toDb` makes of one input: the column values to write and, for writes that need the row's
 * id (tags, memberships), what `afterWrite` then writes.
 */
export interface Written<P> {
  values: Record<string, unknown>;
  pending?: P;
}

/**
 * `Out` is the API object, `R` the row the repository's query selects (`RowOf<typeof spec>`), `P`
 * what `toDb` hands `afterWrite` for the same row.
 */
export interface ResourceDef<Out extends { id: string } = { id: string } & Record<string, unknown>, R extends Row = Row, P = never> {
  /** singular, snake_case: events are `<kind>.created`; error codes `<KIND>_NOT_FOUND` */
  kind: string;
  /** URL segment, e.g. `devices` */
  plural: string;
  title: string;
  /** permission resource: `<permission>:read` and `<permission>:write` */
  permission: string;
  /** OpenAPI tag */
  tag: string;
  repo(repos: InventoryRepos): CrudRepository<R>;
  schemas: { item: TObject; create: TObject; update: TObject; bulkCreate: TObject; bulkUpdate: TObject };
  filters: FilterFields;
  sortFields: readonly string[];
  /** Unique fields preloaded in one query per batch: API field → column. */
  unique: readonly { field: string; column: string }[];
  /** Validates input against the rules and maps it to column values; problems go on ctx. */
  toDb(ctx: WriteContext, input: Record<string, unknown>, existing: R | null): Promise<Written<P>>;
  /** Rows of one batch may name rows created earlier in it (a site naming its region). */
  selfRef?: { kind: RefKind; field: string };
  /** Writes that need the row's id (tags, memberships). */
  afterWrite?(ctx: WriteContext, id: string, input: Record<string, unknown>, existing: R | null, pending: P | undefined): Promise<void>;
  /** Refuses deletes that would orphan or break something (reports on ctx). */
  beforeDelete?(ctx: WriteContext, rows: R[]): Promise<void>;
  toApi(row: R): Out;
  /** Adds page-level data (one query per page, never per row); `fields` null means all. */
  decorate?(repos: InventoryRepos, items: Out[], fields: ReadonlySet<string> | null): Promise<void>;
  /** `?include=` loaders: each embeds related rows for the whole page in one query. */
  includes?: Record<string, (repos: InventoryRepos, items: Out[]) => Promise<void>>;
}

/** Kinds a request body may reference by id or unique name, and where to look. */
export const REF_KINDS = {
  manufacturer: ['manufacturers', 'name'],
  platform: ['platforms', 'name'],
  role: ['deviceRoles', 'name'],
  status: ['statuses', 'name'],
  tag: ['tags', 'name'],
  device_type: ['deviceTypes', 'model'],
  location: ['locations', 'name'],
  device: ['devices', 'name'],
  interface: ['interfaces', null],
  device_group: ['deviceGroups', 'name'],
} as const satisfies Record<string, readonly [InventoryTable, string | null]>;
export type RefKind = keyof typeof REF_KINDS;

/**
 * Per-operation state: where errors are reported (`body`, `body.items.3`, `rows.12`), memoised
 * reference lookups and custom-field definitions, uniqueness claims within the batch. One
 * context spans a whole bulk request or import, so 100,000 rows naming the same platform cost
 * one lookup.
 */
export function createWriteContext(
  repos: InventoryRepos,
  actor: Actor,
  credentialExists?: (id: string, db: Db, actor: Actor) => Promise<boolean>,
  profileExists?: (id: string, db: Db, actor: Actor) => Promise<boolean>,
) {
  const refMemo = new Map<string, string | undefined>();
  const credentialMemo = new Map<string, boolean>();
  const cfMemo = new Map<ObjectType, CustomFieldDef[]>();
  const claims = new Map<string, string>();
  const preloaded = new Map<string, Map<string, string>>();
  const errors: FieldError[] = [];
  const conflicts: FieldError[] = [];
  let rowKey = '';

  const ctx = {
    repos,
    path: 'body',
    errors,
    conflicts,
    /** Starts a new row (bulk, import): errors are reported under `path`. */
    row(path: string, key: string) {
      ctx.path = path;
      rowKey = key;
    },
    error(field: string, message: string) {
      errors.push({ path: field ? `${ctx.path}.${field}` : ctx.path, message });
    },
    hasErrors: () => errors.length > 0 || conflicts.length > 0,
    /** Resolves a reference given by id or unique name; undefined when absent, null when cleared. */
    async ref(kind: RefKind, value: unknown, field: string): Promise<string | null | undefined> {
      if (value === undefined) return undefined;
      if (value === null || value === '') return null;
      const text = String(value);
      const memoKey = `${kind}\0${text}`;
      if (!refMemo.has(memoKey)) {
        const [table, column] = REF_KINDS[kind];
        let id = isUuid(text) ? await repos.refs.byId(table, text.toLowerCase()) : undefined;
        if (id === undefined && column) id = await repos.refs.byName(table, column, text);
        refMemo.set(memoKey, id);
      }
      const id = refMemo.get(memoKey);
      if (id === undefined) ctx.error(field, `no ${kind.replace('_', ' ')} '${text.slice(0, 100)}'`);
      return id ?? undefined;
    },
    /** Checks that a credential id names a stored credential in the writer's team scope (the vault's check, once per id). */
    async credential(id: string, field: string): Promise<void> {
      if (!credentialExists) return;
      // Within this write's transaction: on SQLite the one connection is held by it.
      if (!credentialMemo.has(id)) credentialMemo.set(id, await credentialExists(id, repos.db, actor));
      if (!credentialMemo.get(id)) ctx.error(field, `no credential '${id.slice(0, 100)}'`);
    },
    /** Lower-cases `v.credentialProfileId` and checks it names a stored credential profile (once per id). */
    async credentialProfile(v: Record<string, unknown>, field: string): Promise<void> {
      if (typeof v.credentialProfileId !== 'string') return;
      const id = v.credentialProfileId.toLowerCase();
      v.credentialProfileId = id;
      if (!profileExists) return;
      const key = `profile\0${id}`;
      if (!credentialMemo.has(key)) credentialMemo.set(key, await profileExists(id, repos.db, actor));
      if (!credentialMemo.get(key)) ctx.error(field, `no credential profile '${id.slice(0, 100)}'`);
    },
    /** Remembers ids of objects created earlier in this operation (so later rows can name them). */
    rememberRef(kind: RefKind, name: string, id: string) {
      refMemo.set(`${kind}\0${name}`, id);
    },
    /** Preloads value → id for a unique column over a whole batch (one query per chunk). */
    async preload(repo: CrudRepository, column: string, values: readonly string[]) {
      if (values.length === 0) return;
      const map = preloaded.get(`${repo.spec.table}.${column}`) ?? new Map<string, string>();
      for (const [k, v] of await repo.existing(column, values)) map.set(k, v);
      preloaded.set(`${repo.spec.table}.${column}`, map);
    },
    /**
     * Reports a conflict when `value` is taken by another row or claimed earlier in this batch.
     * `lookup` finds the current holder's id when nothing was preloaded.
     */
    async unique(field: string, claimKey: string, selfId: string | null, lookup: () => Promise<string | undefined>) {
      const key = `${field}\0${claimKey}`;
      const claimedBy = claims.get(key);
      if (claimedBy !== undefined && claimedBy !== (selfId ?? rowKey)) {
        conflicts.push({ path: `${ctx.path}.${field}`, message: `'${claimKey.slice(0, 100)}' appears twice in this request` });
        return;
      }
      claims.set(key, selfId ?? rowKey);
      const holder = await lookup();
      if (holder !== undefined && holder !== selfId) conflicts.push({ path: `${ctx.path}.${field}`, message: `'${claimKey.slice(0, 100)}' is already taken` });
    },
    /** Looks a unique column value up in the preloaded batch, or in the database. */
    async holder(repo: CrudRepository, column: string, value: string): Promise<string | undefined> {
      // A preloaded map holds every value of the batch, so a miss there means "free".
      const map = preloaded.get(`${repo.spec.table}.${column}`);
      if (map) return map.get(value);
      return (await repo.existing(column, [value])).get(value);
    },
    /** Validates custom-field values (create: with defaults; update: merged over the stored ones). */
    async customFields(objectType: ObjectType, input: unknown, existing: unknown): Promise<string | undefined> {
      if (input === undefined && existing !== null) return undefined;
      if (!cfMemo.has(objectType)) cfMemo.set(objectType, await repos.customFields.definitions(objectType));
      const r = validateCustomFields(cfMemo.get(objectType)!, (input ?? {}) as Record<string, unknown>, existing as Record<string, unknown> | null);
      for (const e of r.errors) ctx.error(`custom_fields${e.name ? `.${e.name}` : ''}`, e.message);
      return JSON.stringify(r.values);
    },
    /** Throws what was collected: 409 when every problem is a conflict, else 422 listing all. */
    fail(code: string, title: string) {
      if (errors.length === 0 && conflicts.length === 0) return;
      const all = [...errors, ...conflicts].slice(0, 1000);
      if (errors.length === 0) throw new ConflictError(`${code}_CONFLICT`, `${title} conflicts with an existing one`, all);
      throw new ValidationError(`${code}_INVALID`, `${title} is invalid`, all);
    },
  };
  return ctx;
}

export type WriteContext = ReturnType<typeof createWriteContext>;

/** Copies an optional text field: absent stays absent, '' or null stores `empty`. */
/** A left-joined reference as the API shows it, `{ id, name }`, or null when the row has none. */
export function joinedRef(id: string | null, name: string | null): { id: string; name: string } | null {
  return id !== null && name !== null ? { id, name } : null;
}

/** Rows grouped by the column they were selected by (`byColumn`), each as its API object. */
export function groupRows<R extends Row, O>(rows: readonly R[], key: keyof R & string, toApi: (row: R) => O): Map<string, O[]> {
  const groups = new Map<string, O[]>();
  for (const r of rows) {
    const k = r[key];
    if (typeof k !== 'string') continue;
    const group = groups.get(k);
    if (group) group.push(toApi(r));
    else groups.set(k, [toApi(r)]);
  }
  return groups;
}

export function text(values: Record<string, unknown>, input: Record<string, unknown>, field: string, column: string, empty: '' | null = null): void {
  if (!(field in input)) return;
  const v = input[field];
  values[column] = v === null || v === undefined || v === '' ? empty : String(v);
}
