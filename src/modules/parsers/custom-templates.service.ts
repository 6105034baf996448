import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js';
import type { Cache } from '../../platform/cache/index.js';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { CustomTemplate, CustomTemplateStore } from './custom-template.store.js';
import { createParsersRepository, type CustomTemplateRow, type ParsersRepository } from './parsers.repository.js';
import { isSafeTemplateName } from './template-library.js';
import { expandCompletion } from './textfsm/clitable.fns.js';
import { compilePyRegex, PyRegexError } from './textfsm/py-regex.fns.js';
import { compileTemplate } from './textfsm/textfsm-template.fns.js';
import { TemplateError } from './textfsm/textfsm.errors.js';

/**
 * User TextFSM templates kept in the database (`parser_templates`). Writes are checked the way a
 * parse would load them (the template compiles, `platform`/`command` are valid index-row
 * regexes) and answered with the failing field and line; readers get a cached list that every
 * write invalidates on every node (cache tag), so parses do not query the database.
 */
export interface AuditPort {
  record(
    db: Db,
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}

export interface CustomTemplatesServiceDeps {
  db: Db;
  cache?: Pick<Cache, 'wrap' | 'invalidateTag'>;
  audit?: AuditPort;
  onError?: (err: unknown) => void;
  clock?: () => number;
}

export interface CustomTemplateInput {
  name: string;
  platform?: string | null;
  command?: string | null;
  description?: string | null;
  content: string;
}

export interface CustomTemplateView {
  id: string;
  name: string;
  platform: string | null;
  command: string | null;
  description: string | null;
  content: string;
  /** Value names in order: the record keys, lower-cased. */
  values: string[];
  created_at: string;
  updated_at: string;
}

const CACHE_KEY = 'parsers:custom-templates';
const CACHE_TAG = 'parsers:custom-templates';
// NOTE: invalidation is what keeps nodes current; the TTL only bounds staleness if a message is lost.
const CACHE_TTL_MS = 60_000;
interface Tx {
  templates: ParsersRepository;
  db: Db;
}

const SORT = {
  name: 'parserTemplates.name',
  platform: 'parserTemplates.platform',
  created_at: 'parserTemplates.createdAt',
  updated_at: 'parserTemplates.updatedAt',
};

/** Checks a template body, returning its Value names; 422 naming `body.content` and the line. */
export function checkTemplateContent(content: string): string[] {
  try {
    return [...compileTemplate(content).header];
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const where = err.line === null ? '' : `line ${err.line}: `;
    const reason = err.detail ? `${err.message} (${err.detail})` : err.message;
    throw new ValidationError(err.code, `The template is invalid: ${where}${reason}`, [{ path: 'body.content', message: `${where}${reason}` }]);
  }
}

function checkInput(input: CustomTemplateInput): string[] {
  const errors: FieldError[] = [];
  if (!isSafeTemplateName(input.name)) errors.push({ path: 'body.name', message: 'must be a file name: letters, digits, _ . - and not starting with a dot' });
  const regex = (path: string, source: string | null | undefined): void => {
    if (!source) return;
    try {
      compilePyRegex(source);
    } catch (err) {
      if (!(err instanceof PyRegexError)) throw err;
      errors.push({ path, message: `is not a valid regular expression: ${err.message}` });
    }
  };
  regex('body.platform', input.platform);
  regex('body.command', input.command ? expandCompletion(input.command) : null);
  if (errors.length > 0) throw new ValidationError('PARSER_TEMPLATE_FIELDS_INVALID', 'The custom template is invalid', errors);
  return checkTemplateContent(input.content);
}

function view(row: CustomTemplateRow, values?: string[]): CustomTemplateView {
  let names = values;
  if (names === undefined) {
    try {
      names = [...compileTemplate(row.content).header];
    } catch {
      names = []; // NOTE: rows are checked on write; this only guards rows written by older versions.
    }
  }
  return {
    id: row.id,
    name: row.name,
    platform: row.platform,
    command: row.command,
    description: row.description,
    content: row.content,
    values: names,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** CRUD over user templates, and the store the parse service reads them through. */
export function createCustomTemplatesService(deps: CustomTemplatesServiceDeps) {
  const repo = createParsersRepository(deps.db);
  const clock = deps.clock ?? Date.now;
  const unitOfWork = createUnitOfWork<Tx>(deps.db, (trx) => ({ templates: createParsersRepository(trx), db: trx }), deps.onError ?? (() => undefined));

  const loadAll = async (): Promise<CustomTemplate[]> =>
    (await repo.all()).map((r) => ({
      name: r.name,
      ...(r.platform ? { platform: r.platform } : {}),
      ...(r.command ? { command: r.command } : {}),
      content: r.content,
    }));
  const all = (): Promise<CustomTemplate[]> => (deps.cache ? deps.cache.wrap(CACHE_KEY, { tags: [CACHE_TAG], ttlMs: CACHE_TTL_MS }, loadAll) : loadAll());
  const invalidate = async (): Promise<void> => {
    await deps.cache?.invalidateTag(CACHE_TAG);
  };

  const store: CustomTemplateStore = {
    list: all,
    async get(name) {
      return (await all()).find((t) => t.name === name) ?? null;
    },
  };

  const nameTaken = (name: string): ConflictError =>
    new ConflictError('PARSER_TEMPLATE_EXISTS', `A custom template named '${name}' already exists`, [
      { path: 'body.name', message: 'is already used by another custom template' },
    ]);
  const notFound = (id: string): NotFoundError => new NotFoundError('PARSER_TEMPLATE_NOT_FOUND', `Custom template ${id} not found`);
  // Audit records commit or roll back with the change they describe.
  const audited = async (t: Tx, actor: Actor, action: string, id: string, changes: Record<string, unknown>): Promise<void> => {
    await deps.audit?.record(t.db, { actor, action, resourceType: 'parser_template', resourceId: id, outcome: 'success', changes });
  };

  return {
    store,

    async list(actor: Actor, query: { platform?: string; sort?: string; limit?: number; cursor?: string }) {
      requirePermission(actor, 'parsers:read');
      const keys = parseSort(query.sort, SORT, 'parserTemplates.id', 'name', ['name', 'created_at', 'updated_at']);
      const page = await repo.page({ ...(query.platform !== undefined ? { platform: query.platform } : {}) }, keys, query.cursor, query.limit ?? 50);
      return { items: page.items.map((r) => view(r)), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string): Promise<CustomTemplateView> {
      requirePermission(actor, 'parsers:read');
      const row = await repo.byId(id);
      if (row === null) throw notFound(id);
      return view(row);
    },

    async create(actor: Actor, input: CustomTemplateInput): Promise<CustomTemplateView> {
      requirePermission(actor, 'parsers:write');
      const values = checkInput(input);
      const now = nowIso(clock);
      const row: CustomTemplateRow = {
        id: newId(),
        name: input.name,
        platform: input.platform || null,
        command: input.command || null,
        description: input.description ?? null,
        content: input.content,
        createdAt: now,
        updatedAt: now,
      };
      await unitOfWork(async (t, tx) => {
        if ((await t.templates.idByName(row.name)) !== null) throw nameTaken(row.name);
        await t.templates.insert(row);
        await audited(t, actor, 'parser_template.created', row.id, { name: row.name, platform: row.platform, command: row.command });
        tx.afterCommit(invalidate);
      });
      return view(row, values);
    },

    /** Replaces a template (PUT semantics: omitted optional fields become null). */
    async update(actor: Actor, id: string, input: CustomTemplateInput): Promise<CustomTemplateView> {
      requirePermission(actor, 'parsers:write');
      const values = checkInput(input);
      const now = nowIso(clock);
      const row = await unitOfWork(async (t, tx) => {
        const current = await t.templates.byId(id);
        if (current === null) throw notFound(id);
        const other = await t.templates.idByName(input.name);
        if (other !== null && other !== id) throw nameTaken(input.name);
        const changes = {
          name: input.name,
          platform: input.platform || null,
          command: input.command || null,
          description: input.description ?? null,
          content: input.content,
        };
        await t.templates.update(id, changes, now);
        await audited(t, actor, 'parser_template.updated', id, {
          name: changes.name,
          platform: changes.platform,
          command: changes.command,
          content_changed: current.content !== input.content,
        });
        tx.afterCommit(invalidate);
        return { ...current, ...changes, updatedAt: now };
      });
      return view(row, values);
    },

    async delete(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'parsers:write');
      await unitOfWork(async (t, tx) => {
        const current = await t.templates.byId(id);
        if (current === null || !(await t.templates.delete(id))) throw notFound(id);
        await audited(t, actor, 'parser_template.deleted', id, { name: current.name });
        tx.afterCommit(invalidate);
      });
    },
  };
}
export type CustomTemplatesService = ReturnType<typeof createCustomTemplatesService>;
