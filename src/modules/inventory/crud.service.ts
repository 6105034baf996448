import { writeAtomically } from '../../platform/db/database.js';
import { BadRequestError, ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters } from '../../platform/http/filters.js';
import { DEFAULT_LIMIT, camelValue, pageResult, parseSort, type SortKey } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import { timeSlicer } from '../../platform/time-slice.js';
import type { Row } from './crud.repository.js';
import type { InventoryCore } from './inventory.core.js';
import type { InventoryRepos } from './inventory.repos.js';
import { createWriteContext, type ResourceDef, type WriteContext } from './resource.js';

export interface ListQuery extends Record<string, unknown> {
  limit?: number;
  cursor?: string;
  sort?: string;
  q?: string;
  fields?: string;
  include?: string;
}

type Item = { id: string } & Record<string, unknown>;
/** Inventory fields naming a team-scoped object of the credential vault. */
const REF_FIELDS = ['credential_id', 'credential_profile_id'] as const;

function parseList(value: string | undefined, allowed: readonly string[], param: string): Set<string> | null {
  if (!value) return null;
  const names = value.split(',');
  const bad = names.filter((n) => !allowed.includes(n));
  if (bad.length > 0) {
    throw new BadRequestError('INVALID_QUERY', `Unknown ${param}: ${bad.join(', ')}`, [
      { path: `query.${param}`, message: `unknown: ${bad.join(', ')}; allowed: ${allowed.join(', ')}` },
    ]);
  }
  return new Set(names);
}

/** Maps database constraint violations (a race past the checks) to 409. */
export function isConstraintViolation(err: unknown): boolean {
  const e = err as { code?: unknown };
  return typeof e?.code === 'string' && (e.code === '23505' || e.code === '23503' || e.code.startsWith('SQLITE_CONSTRAINT'));
}

/**
 * Generic list/get/create/update/delete and bulk operations for any ResourceDef: permission
 * checks, per-operation write contexts, all-or-nothing transactions, domain events and audit.
 */
export function createCrudService<Out extends Item, R extends Row, P>(def: ResourceDef<Out, R, P>, core: InventoryCore) {
  const CODE = def.kind.toUpperCase();
  const itemFields = Object.keys(def.schemas.item.properties);
  const includeNames = Object.keys(def.includes ?? {});

  /**
   * A reference to another team's credential or profile reads as null with
   * `credential_restricted: true` (docs/architecture.md "Team scoping").
   */
  async function redactRefs(actor: Actor, items: Item[]): Promise<void> {
    if (!core.hiddenRefs || !('credential_restricted' in def.schemas.item.properties)) return;
    const hidden = await core.hiddenRefs(
      actor,
      items.flatMap((it) => [it.credential_id as string | null, it.credential_profile_id as string | null]),
    );
    if (hidden.size === 0) return;
    for (const it of items) {
      for (const key of REF_FIELDS) {
        if (typeof it[key] === 'string' && hidden.has((it[key] as string).toLowerCase())) {
          it[key] = null;
          it.credential_restricted = true;
        }
      }
    }
  }

  /** Whether a list filters by a credential reference the actor may not see: then it matches nothing. */
  async function filtersByHiddenRef(actor: Actor, query: ListQuery): Promise<boolean> {
    if (!core.hiddenRefs) return false;
    const values = Object.entries(query)
      .filter(([k]) => REF_FIELDS.some((f) => k === f || k.startsWith(`${f}__`)))
      .flatMap(([, v]) => [v].flat().flatMap((x) => (typeof x === 'string' ? x.split(',') : [])));
    return values.length > 0 && (await core.hiddenRefs(actor, values)).size > 0;
  }

  /** API objects for rows, decorated and with the requested includes (batch-loaded). */
  async function present(
    actor: Actor,
    repos: InventoryRepos,
    rows: R[],
    fields: Set<string> | null,
    includes: Set<string> | null,
    storedRefs = false,
  ): Promise<Out[]> {
    const items = rows.map((r) => def.toApi(r));
    if (!storedRefs) await redactRefs(actor, items);
    await def.decorate?.(repos, items, fields);
    for (const name of includes ?? []) await def.includes![name]!(repos, items);
    if (!fields) return items;
    fields.add('id');
    for (const name of includes ?? []) fields.add(name);
    return items.map((it) => Object.fromEntries(Object.entries(it).filter(([k]) => fields.has(k))) as Out);
  }

  async function loadOrThrow(repos: InventoryRepos, id: string): Promise<R> {
    const row = await def.repo(repos).get(id);
    if (!row) throw new NotFoundError(`${CODE}_NOT_FOUND`, `${def.title} ${id} does not exist`);
    return row;
  }

  async function preloadUnique(ctx: WriteContext, inputs: Record<string, unknown>[]): Promise<void> {
    for (const u of def.unique) {
      const values = inputs.map((i) => i[u.field]).filter((v): v is string => typeof v === 'string');
      await ctx.preload(def.repo(ctx.repos), u.column, values);
    }
  }

  /** `afterWrite` of one row, bound to what its `toDb` handed over. */
  type After = (ctx: WriteContext, id: string) => Promise<void>;
  type CreatePlan = { inputs: Record<string, unknown>[]; values: Record<string, unknown>[]; after: After[]; pathOf: (i: number) => string };
  type UpdatePlan = {
    patches: { id: string; input: Record<string, unknown> }[];
    /** `name`: the stored row's, for the audit record. */
    changes: { id: string; index: number; name: string | null; values: Record<string, unknown>; after: After }[];
    pathOf: (i: number) => string;
  };

  /** Validates new rows (problems collect on ctx); writes nothing. */
  async function prepareCreates(ctx: WriteContext, inputs: Record<string, unknown>[], pathOf: (i: number) => string): Promise<CreatePlan> {
    await preloadUnique(ctx, inputs);
    const values: Record<string, unknown>[] = [];
    const after: After[] = [];
    const now = nowIso();
    const slice = timeSlicer();
    for (const [i, input] of inputs.entries()) {
      await slice();
      ctx.row(pathOf(i), `new#${i}`);
      const written = await def.toDb(ctx, input, null);
      const id = newId();
      values.push({ id, ...written.values, createdAt: now, updatedAt: now });
      after.push(async (c, rowId) => def.afterWrite?.(c, rowId, input, null, written.pending));
      const selfName = def.selfRef ? input[def.selfRef.field] : undefined;
      if (def.selfRef && typeof selfName === 'string') ctx.rememberRef(def.selfRef.kind, selfName, id);
    }
    return { inputs, values, after, pathOf };
  }

  async function writeCreates(actor: Actor, ctx: WriteContext, plan: CreatePlan, auditEach = true): Promise<string[]> {
    await def.repo(ctx.repos).insert(plan.values);
    const slice = timeSlicer();
    for (const [i, after] of plan.after.entries()) {
      await slice();
      ctx.row(plan.pathOf(i), `new#${i}`);
      await after(ctx, plan.values[i]!.id as string);
    }
    ctx.fail(CODE, def.title);
    await record(
      actor,
      ctx.repos,
      'created',
      plan.values.map((v) => ({ id: v.id as string, name: v.name ?? v.model ?? v.address ?? null })),
      auditEach,
    );
    return plan.values.map((v) => v.id as string);
  }

  /** Validates changes to existing rows (problems collect on ctx); writes nothing. */
  async function prepareUpdates(
    ctx: WriteContext,
    patches: { id: string; input: Record<string, unknown> }[],
    pathOf: (i: number) => string,
  ): Promise<UpdatePlan> {
    const existing = new Map((await def.repo(ctx.repos).getMany(patches.map((p) => p.id))).map((r) => [r.id, r]));
    await preloadUnique(
      ctx,
      patches.map((p) => p.input),
    );
    const changes: UpdatePlan['changes'] = [];
    const slice = timeSlicer();
    for (const [i, p] of patches.entries()) {
      await slice();
      ctx.row(pathOf(i), p.id);
      const row = existing.get(p.id);
      if (!row) {
        if (patches.length === 1) throw new NotFoundError(`${CODE}_NOT_FOUND`, `${def.title} ${p.id} does not exist`);
        ctx.error('id', `${def.title.toLowerCase()} ${p.id} does not exist`);
        continue;
      }
      const written = await def.toDb(ctx, p.input, row);
      changes.push({
        id: p.id,
        index: i,
        name: typeof row.name === 'string' ? row.name : null,
        values: written.values,
        after: async (c, rowId) => def.afterWrite?.(c, rowId, p.input, row, written.pending),
      });
    }
    return { patches, changes, pathOf };
  }

  async function writeUpdates(actor: Actor, ctx: WriteContext, plan: UpdatePlan, auditEach = true): Promise<string[]> {
    const repo = def.repo(ctx.repos);
    const now = nowIso();
    const slice = timeSlicer();
    for (const c of plan.changes) {
      await slice();
      await repo.update(c.id, { ...c.values, updatedAt: now });
      ctx.row(plan.pathOf(c.index), c.id);
      await c.after(ctx, c.id);
    }
    ctx.fail(CODE, def.title);
    const changed = plan.changes.map((c) => ({ id: c.id, name: c.name, fields: Object.keys(plan.patches[c.index]!.input) }));
    await record(actor, ctx.repos, 'updated', changed, auditEach);
    return plan.changes.map((c) => c.id);
  }

  /** Validates every row, then writes them all; nothing is written when any row fails. */
  async function createRows(actor: Actor, ctx: WriteContext, inputs: Record<string, unknown>[], pathOf: (i: number) => string): Promise<string[]> {
    const plan = await prepareCreates(ctx, inputs, pathOf);
    ctx.fail(CODE, inputs.length > 1 ? `One or more ${def.plural}` : def.title);
    return writeCreates(actor, ctx, plan);
  }

  async function updateRows(actor: Actor, ctx: WriteContext, patches: { id: string; input: Record<string, unknown> }[], pathOf: (i: number) => string) {
    const plan = await prepareUpdates(ctx, patches, pathOf);
    ctx.fail(CODE, patches.length > 1 ? `One or more ${def.plural}` : def.title);
    return writeUpdates(actor, ctx, plan);
  }

  async function deleteRows(actor: Actor, ctx: WriteContext, ids: string[]): Promise<void> {
    const repo = def.repo(ctx.repos);
    const rows = await repo.getMany(ids);
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0 && ids.length === 1) throw new NotFoundError(`${CODE}_NOT_FOUND`, `${def.title} ${ids[0]} does not exist`);
    for (const [i, id] of ids.entries()) {
      if (!found.has(id)) ctx.errors.push({ path: `body.ids.${i}`, message: `${def.title.toLowerCase()} ${id} does not exist` });
    }
    await def.beforeDelete?.(ctx, rows);
    ctx.fail(CODE, ids.length > 1 ? `One or more ${def.plural}` : def.title);
    await repo.delete(ids);
    await record(
      actor,
      ctx.repos,
      'deleted',
      rows.map((r) => ({ id: r.id, name: (r.name as string | undefined) ?? null })),
    );
  }

  /**
   * The domain events and (unless the caller audits itself) the audit entries of a change, in the
   * change's transaction: one statement on PostgreSQL, however many objects (`writeAtomically`).
   */
  async function record(
    actor: Actor,
    repos: InventoryRepos,
    verb: string,
    objects: { id: string; name: unknown; fields?: string[] }[],
    auditEach = true,
  ): Promise<void> {
    const name = `${def.kind}.${verb}`;
    const actorRef = { kind: actor.kind, id: actor.id };
    const audits =
      auditEach && core.audit
        ? objects.map((o) => ({
            actor,
            action: name,
            resourceType: def.kind,
            resourceId: o.id,
            outcome: 'success' as const,
            changes: { name: o.name, ...(o.fields ? { fields: o.fields } : {}) },
          }))
        : [];
    await writeAtomically(repos.db, [
      core.events.recordWrite(objects.map((o) => ({ name, payload: { ...o, actor: actorRef } }))),
      ...(core.audit && audits.length > 0 ? [core.audit.recordWrite(audits)] : []),
    ]);
  }

  /** One transaction; constraint violations that raced past the checks become 409. */
  async function write<T>(actor: Actor, work: (ctx: WriteContext) => Promise<T>): Promise<T> {
    try {
      return await core.uow(async (repos, tx) => {
        const result = await work(createWriteContext(repos, actor, core.credentialExists, core.profileExists));
        tx.afterCommit(() => void core.events.relay());
        return result;
      });
    } catch (err) {
      if (isConstraintViolation(err)) {
        throw new ConflictError(`${CODE}_CONFLICT`, `The ${def.title.toLowerCase()} conflicts with existing data or is still in use`);
      }
      throw err;
    }
  }

  const read = (actor: Actor) => requirePermission(actor, `${def.permission}:read`);
  const mutate = (actor: Actor) => requirePermission(actor, `${def.permission}:write`);
  const includesOf = (q: { include?: string }) => parseList(q.include, includeNames, 'include');

  return {
    def,
    async list(actor: Actor, query: ListQuery): Promise<{ items: Out[]; next_cursor: string | null }> {
      read(actor);
      const repo = def.repo(core.repos);
      const { spec } = repo;
      const fields = parseList(query.fields, itemFields, 'fields');
      const includes = includesOf(query);
      const keys = parseSort(query.sort, spec.sort, spec.idColumn, spec.defaultSort, spec.notNullSort);
      const limit = query.limit ?? DEFAULT_LIMIT;
      if (await filtersByHiddenRef(actor, query)) return { items: [], next_cursor: null };
      const rows = await repo.list({ conditions: parseFilters(query, def.filters), keys, cursor: query.cursor, limit, q: query.q, query });
      const valueOf = (row: Row, key: SortKey) => (spec.sortRowKey?.[key.field] ? row[spec.sortRowKey[key.field]!] : camelValue(row, key));
      const page = pageResult(rows, keys, limit, valueOf);
      return { items: await present(actor, core.repos, page.items, fields, includes), next_cursor: page.next_cursor };
    },
    async get(actor: Actor, id: string, query: { include?: string } = {}): Promise<Out> {
      read(actor);
      const includes = includesOf(query);
      return (await present(actor, core.repos, [await loadOrThrow(core.repos, id)], null, includes))[0]!;
    },
    /** Ids matching list filters (dynamic groups, exports, job targets). */
    async matchingIds(actor: Actor, query: Record<string, unknown>): Promise<string[]> {
      read(actor);
      return def.repo(core.repos).ids({ conditions: parseFilters(query, def.filters), q: typeof query.q === 'string' ? query.q : undefined, query });
    },
    async create(actor: Actor, input: Record<string, unknown>): Promise<Out> {
      mutate(actor);
      const [id] = await write(actor, (ctx) => createRows(actor, ctx, [input], () => 'body'));
      return this.get(actor, id!);
    },
    async update(actor: Actor, id: string, input: Record<string, unknown>): Promise<Out> {
      mutate(actor);
      await write(actor, (ctx) => updateRows(actor, ctx, [{ id, input }], () => 'body'));
      return this.get(actor, id);
    },
    async remove(actor: Actor, id: string): Promise<void> {
      mutate(actor);
      await write(actor, (ctx) => deleteRows(actor, ctx, [id]));
    },
    async bulkCreate(actor: Actor, inputs: Record<string, unknown>[]): Promise<{ items: Out[] }> {
      mutate(actor);
      const ids = await write(actor, (ctx) => createRows(actor, ctx, inputs, (i) => `body.items.${i}`));
      return { items: await this.getMany(actor, ids) };
    },
    async bulkUpdate(actor: Actor, items: ({ id: string } & Record<string, unknown>)[]): Promise<{ items: Out[] }> {
      mutate(actor);
      const ids = new Set<string>();
      for (const [i, it] of items.entries()) {
        if (ids.has(it.id)) {
          throw new ValidationError(`${CODE}_INVALID`, 'An id appears twice', [{ path: `body.items.${i}.id`, message: 'appears twice in this request' }]);
        }
        ids.add(it.id);
      }
      const patches = items.map(({ id, ...input }) => ({ id, input }));
      await write(actor, (ctx) => updateRows(actor, ctx, patches, (i) => `body.items.${i}`));
      return { items: await this.getMany(actor, [...ids]) };
    },
    async bulkDelete(actor: Actor, ids: string[]): Promise<void> {
      mutate(actor);
      await write(actor, (ctx) => deleteRows(actor, ctx, [...new Set(ids)]));
    },
    /**
     * `storedRefs`: credential references as stored, not redacted — for job targets only
     * (target-selectors.service.ts), whose credentials the jobs module then checks against the
     * run's initiator (CREDENTIAL_FORBIDDEN). Never for a response.
     */
    async getMany(actor: Actor, ids: string[], options: { storedRefs?: boolean } = {}): Promise<Out[]> {
      read(actor);
      const rows = new Map((await def.repo(core.repos).getMany(ids)).map((r) => [r.id, r]));
      return present(
        actor,
        core.repos,
        ids.map((id) => rows.get(id)).filter((r): r is R => r !== undefined),
        null,
        null,
        options.storedRefs === true,
      );
    },
    /** For imports: runs creates and updates through the same rules inside the caller's context. */
    internal: { prepareCreates, writeCreates, prepareUpdates, writeUpdates, write, code: CODE },
  };
}

export type CrudService<Out extends Item = Item, R extends Row = Row, P = unknown> = ReturnType<typeof createCrudService<Out, R, P>>;
