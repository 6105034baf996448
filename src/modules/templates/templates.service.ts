import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import { MASK as REDACTED } from '../../platform/secret-scrubber.js';
import { createJinja, PRODUCT_OPTIONS, TemplateError, type TemplateAst } from './engine/index.js';
import type { RenderFailure } from './render-job.fns.js';
import type { RenderPool } from './render-pool.js';
import { createTemplatesRepository, type TemplateRow, type TemplatesRepository, type VersionRow } from './templates.repository.js';
import type {
  ConfigTemplate,
  ConfigTemplateQuery,
  CreateConfigTemplateBody,
  RenderBody,
  RenderContentBody,
  RenderResponse,
  UpdateConfigTemplateBody,
} from './templates.schemas.js';
import { referencedTemplates, templateVariables } from './variables.fns.js';
import { maskSecretVariables, secretValues, secretVariablePaths, setVariable } from './secret-variables.fns.js';
import { compileVariablesSchema, type VariablesValidator } from './variables-schema.js';

/**
 * Configuration templates: CRUD with immutable versions (every content change is a new version:
 * number, SHA-256, author, notes), syntax check on save, variable inference, and rendering in the
 * worker pool with stored templates as the only includes and the device's inventory data merged in.
 */
export interface AuditPort {
  record(
    db: Db,
    entry: { actor: Actor; action: string; resourceType: string; resourceId?: string | null; outcome: 'success'; changes?: Record<string, unknown> | null },
  ): Promise<void>;
}

export interface TemplatesServiceDeps {
  db: Db;
  pool: RenderPool;
  /** The device's inventory data, read as the actor (inventory's permission rules apply). */
  deviceData: (actor: Actor, deviceId: string) => Promise<Record<string, unknown>>;
  audit?: AuditPort;
  onError?: (err: unknown) => void;
  clock?: () => number;
  /**
   * Rewrites stored job params of an executor type (jobs' `rewriteStoredParams`, wired in
   * modules.ts): a schema newly marking variables secret masks them in `config_push` runs and job
   * templates stored before.
   */
  storedParams?: (type: string, rewrite: (params: Record<string, unknown>) => Record<string, unknown> | null) => Promise<number>;
}

interface Tx {
  templates: TemplatesRepository;
  db: Db;
}

/** Includes reachable from one render, at most (a chain of literal names). */
const MAX_REFERENCED = 200;
const SORT = {
  name: 'configTemplates.name',
  category: 'configTemplates.category',
  created_at: 'configTemplates.createdAt',
  updated_at: 'configTemplates.updatedAt',
};
const VERSION_SORT = { version: 'configTemplateVersions.version' };

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

function view(r: TemplateRow): ConfigTemplate {
  return {
    id: r.id,
    name: r.name,
    source: r.source as ConfigTemplate['source'],
    source_path: r.sourcePath,
    source_repository_id: r.sourceRepositoryId,
    source_commit: r.sourceCommit,
    type: r.type as ConfigTemplate['type'],
    category: r.category,
    description: r.description,
    tags: r.tags,
    variables_schema: r.variablesSchema,
    active: r.active,
    content: r.content,
    version: r.version,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function versionView(v: VersionRow) {
  return { version: v.version, content_hash: v.contentHash, author: { id: v.authorId, name: v.authorName }, notes: v.notes, created_at: v.createdAt };
}

const where = (f: { lineno: number | null; column?: number | null; template: string | null }): string =>
  `${f.template && f.template !== 'template' ? `'${f.template}' ` : ''}${f.lineno !== null ? `line ${f.lineno}${f.column ? `, column ${f.column}` : ''}` : ''}`.trim();

const FAILURE_CODES: Record<RenderFailure['kind'], [string, number]> = {
  syntax: ['TEMPLATE_SYNTAX_ERROR', 422],
  undefined: ['TEMPLATE_UNDEFINED_VARIABLE', 422],
  template_not_found: ['TEMPLATE_INCLUDE_NOT_FOUND', 422],
  runtime: ['TEMPLATE_RENDER_ERROR', 422],
  limit: ['TEMPLATE_LIMIT', 422],
  internal: ['TEMPLATE_ENGINE_FAILED', 500],
};

/** A render failure as a 422 naming where it happened (template, line) and why. */
export function renderError(f: RenderFailure, path: string): AppError {
  const [code, status] = FAILURE_CODES[f.kind];
  const at = where(f);
  const message = at ? `${at}: ${f.message}` : f.message;
  return new AppError(code, status, `The template could not be rendered: ${message}`, status < 500 ? [{ path, message }] : []);
}

export function createTemplatesService(deps: TemplatesServiceDeps) {
  const repo = createTemplatesRepository(deps.db);
  const clock = deps.clock ?? Date.now;
  const jinja = createJinja(PRODUCT_OPTIONS);
  const unitOfWork = createUnitOfWork<Tx>(deps.db, (trx) => ({ templates: createTemplatesRepository(trx), db: trx }), deps.onError ?? (() => undefined));
  const validators = new Map<string, VariablesValidator>();

  /** Values the new schema marks secret, held in plain by `config_push` params stored before it, are masked there. */
  async function maskStoredSecrets(actor: Actor, templateId: string, schema: Record<string, unknown>): Promise<void> {
    if (!deps.storedParams) return;
    const changed = await deps.storedParams('config_push', (params) => {
      const vars = params.variables;
      if (params.template_id !== templateId || vars === null || typeof vars !== 'object' || Array.isArray(vars)) return null;
      const masked = maskSecretVariables(vars as Record<string, unknown>, schema, REDACTED);
      return masked.masked ? { ...params, variables: masked.vars } : null;
    });
    if (changed) await unitOfWork((t) => audited(t, actor, 'config_template.stored_secrets_masked', templateId, { params_rewritten: changed }));
  }

  const notFound = (id: string): NotFoundError => new NotFoundError('TEMPLATE_NOT_FOUND', `Template ${id} not found`);
  /** Git owns a synced template's content, name, type and existence: the API may change only its metadata. */
  const refuseGitManaged = (row: TemplateRow, fields: string[]): void => {
    if (row.source !== 'git' || fields.length === 0) return;
    throw new ConflictError(
      'TEMPLATE_MANAGED_BY_GIT',
      `Template '${row.name}' is managed by Git (repository ${row.sourceRepositoryId ?? '?'}, ${row.sourcePath ?? '?'}): change it in the repository and sync`,
      fields.map((f) => ({ path: f, message: 'is managed by Git; change the file in the repository and sync it' })),
    );
  };
  const nameTaken = (name: string): ConflictError =>
    new ConflictError('TEMPLATE_NAME_TAKEN', `An active template named '${name}' already exists`, [
      { path: 'body.name', message: 'is already used by another active template' },
    ]);
  const audited = async (t: Tx, actor: Actor, action: string, id: string, changes: Record<string, unknown>): Promise<void> => {
    await deps.audit?.record(t.db, { actor, action, resourceType: 'config_template', resourceId: id, outcome: 'success', changes });
  };

  /** Parses jinja2 content; a syntax error is a 422 on `path` with line and column. */
  function parseChecked(content: string, path: string): TemplateAst {
    try {
      return jinja.parse(content);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      throw renderError({ kind: 'syntax', message: err.message, lineno: err.lineno, column: err.column, template: null }, path);
    }
  }

  function checkSchema(schema: Record<string, unknown> | null | undefined): void {
    if (schema) compileVariablesSchema(schema, 'body.variables_schema');
  }

  function validatorFor(row: TemplateRow): VariablesValidator | null {
    if (!row.variablesSchema) return null;
    const key = `${row.id}:${row.updatedAt}`;
    let v = validators.get(key);
    if (!v) {
      v = compileVariablesSchema(row.variablesSchema, 'variables_schema');
      if (validators.size > 200) validators.clear();
      validators.set(key, v);
    }
    return v;
  }

  async function load(id: string): Promise<TemplateRow> {
    const row = await repo.byId(id);
    if (row === null) throw notFound(id);
    return row;
  }

  /** Stored templates reachable by literal include/import/extends names (active ones only). */
  async function referenced(ast: TemplateAst): Promise<Record<string, string>> {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    const queue = referencedTemplates(ast);
    while (queue.length > 0 && Object.keys(out).length < MAX_REFERENCED) {
      const name = queue.shift() as string;
      if (Object.prototype.hasOwnProperty.call(out, name)) continue;
      const row = await repo.activeByName(name);
      if (!row || row.type !== 'jinja2') continue;
      out[name] = row.content;
      try {
        queue.push(...referencedTemplates(jinja.parse(row.content)));
      } catch {
        // A stored template that no longer parses fails when the render reaches it, with its name and line.
      }
    }
    return out;
  }

  async function run(source: string, name: string, ast: TemplateAst, vars: Record<string, unknown>, path: string): Promise<string> {
    const result = await deps.pool.render({ source, name, vars, templates: await referenced(ast) });
    if (!result.ok) throw renderError(result.error, path);
    return result.output;
  }

  /** A stored template rendered with the device's inventory data under the explicit variables. */
  async function renderStored(actor: Actor, row: TemplateRow, input: RenderBody, vault: Record<string, string> = {}) {
    const secrets = [...secretValues(input.variables ?? {}, row.variablesSchema), ...Object.values(vault).filter((v) => v !== '')];
    if (row.type !== 'jinja2') return { output: row.content, template_id: row.id, version: row.version, secrets };
    const vars: Record<string, unknown> = { ...(input.device_id ? await deps.deviceData(actor, input.device_id) : {}) };
    for (const [k, v] of Object.entries(input.variables ?? {})) {
      Object.defineProperty(vars, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    for (const [path, v] of Object.entries(vault)) {
      try {
        setVariable(vars, path, v);
      } catch (err) {
        throw new ValidationError('TEMPLATE_VARIABLES_INVALID', 'A secret variable cannot be set', [
          { path: `body.secret_variables.${path}`, message: (err as Error).message },
        ]);
      }
    }
    validatorFor(row)?.(vars, 'body.variables');
    const output = await run(row.content, row.name, parseChecked(row.content, 'content'), vars, 'content');
    return { output, template_id: row.id, version: row.version, secrets };
  }

  return {
    async list(actor: Actor, query: ConfigTemplateQuery) {
      requirePermission(actor, 'templates:read');
      const keys = parseSort(query.sort, SORT, 'configTemplates.id', 'name', ['name', 'created_at', 'updated_at']);
      const filter = {
        ...(query.type ? { type: query.type } : {}),
        ...(query.category ? { category: query.category } : {}),
        ...(query.active !== undefined ? { active: query.active } : {}),
        ...(query.q ? { q: query.q } : {}),
      };
      const page = await repo.page(filter, keys, query.cursor, query.limit ?? 50);
      return { items: page.items.map(view), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string): Promise<ConfigTemplate> {
      requirePermission(actor, 'templates:read');
      return view(await load(id));
    },

    /** `origin`: the uploaded file's name (`source: 'file'`, `POST /templates/upload`). */
    async create(actor: Actor, input: CreateConfigTemplateBody, origin?: { sourcePath: string }): Promise<ConfigTemplate> {
      requirePermission(actor, 'templates:write');
      const type = input.type ?? 'jinja2';
      if (type === 'jinja2') parseChecked(input.content, 'body.content');
      checkSchema(input.variables_schema);
      const now = nowIso(clock);
      const row: TemplateRow = {
        id: newId(),
        name: input.name,
        source: input.source ?? 'webeditor',
        sourcePath: origin?.sourcePath ?? null,
        sourceRepositoryId: null,
        sourceCommit: null,
        type,
        category: input.category ?? null,
        description: input.description ?? null,
        tags: input.tags ?? [],
        variablesSchema: input.variables_schema ?? null,
        active: input.active ?? true,
        content: input.content,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await unitOfWork(async (t) => {
        if (row.active && (await t.templates.activeByName(row.name)) !== null) throw nameTaken(row.name);
        await t.templates.insert(row);
        await t.templates.insertVersion(newVersion(row.id, 1, row.content, actor, input.notes ?? null, now));
        await audited(t, actor, 'config_template.created', row.id, { name: row.name, type: row.type, version: 1 });
      });
      return view(row);
    },

    /** Partial update; a content change (or a restore) adds a version, other fields do not. */
    async update(actor: Actor, id: string, input: UpdateConfigTemplateBody): Promise<ConfigTemplate> {
      requirePermission(actor, 'templates:write');
      checkSchema(input.variables_schema);
      const now = nowIso(clock);
      const updated = await unitOfWork(async (t) => {
        const current = await t.templates.byId(id);
        if (current === null) throw notFound(id);
        refuseGitManaged(
          current,
          (['name', 'content', 'type', 'active'] as const).filter((k) => input[k] !== undefined).map((k) => `body.${k}`),
        );
        const next: TemplateRow = {
          ...current,
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.content !== undefined ? { content: input.content } : {}),
          ...(input.type !== undefined ? { type: input.type } : {}),
          ...(input.category !== undefined ? { category: input.category } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.tags !== undefined ? { tags: input.tags } : {}),
          ...(input.variables_schema !== undefined ? { variablesSchema: input.variables_schema } : {}),
          ...(input.active !== undefined ? { active: input.active } : {}),
          updatedAt: now,
        };
        if (next.type === 'jinja2' && (input.content !== undefined || input.type !== undefined)) parseChecked(next.content, 'body.content');
        if (next.active && (next.name !== current.name || !current.active)) {
          const other = await t.templates.activeByName(next.name);
          if (other !== null && other.id !== id) throw nameTaken(next.name);
        }
        const contentChanged = next.content !== current.content;
        if (contentChanged) {
          next.version = current.version + 1;
          await t.templates.insertVersion(newVersion(id, next.version, next.content, actor, input.notes ?? null, now));
        }
        const { id: _id, createdAt: _c, ...changes } = next;
        await t.templates.update(id, changes);
        await audited(t, actor, 'config_template.updated', id, {
          fields: Object.keys(input).filter((k) => k !== 'notes'),
          version: next.version,
          content_changed: contentChanged,
        });
        return view(next);
      });
      // After the commit: a failure here is reported, the update stands (the next schema change retries).
      if (input.variables_schema) await maskStoredSecrets(actor, id, input.variables_schema).catch((err: unknown) => deps.onError?.(err));
      return updated;
    },

    async delete(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'templates:write');
      await unitOfWork(async (t) => {
        const current = await t.templates.byId(id);
        if (current === null) throw notFound(id);
        // An inactive one (its file left Git) may go; an active one would come back with the next sync.
        if (current.active) refuseGitManaged(current, ['params.id']);
        if (!(await t.templates.delete(id))) throw notFound(id);
        await audited(t, actor, 'config_template.deleted', id, { name: current.name });
      });
    },

    async versions(actor: Actor, id: string, query: { limit?: number; cursor?: string }) {
      requirePermission(actor, 'templates:read');
      await load(id);
      const keys = parseSort('-version', VERSION_SORT, 'configTemplateVersions.id', '-version', ['version']);
      const page = await repo.versions(id, keys, query.cursor, query.limit ?? 50);
      return { items: page.items.map((v) => versionView({ ...v, content: '' })), next_cursor: page.next_cursor };
    },

    async version(actor: Actor, id: string, version: number) {
      requirePermission(actor, 'templates:read');
      await load(id);
      const v = await repo.version(id, version);
      if (v === null) throw new NotFoundError('TEMPLATE_VERSION_NOT_FOUND', `Template ${id} has no version ${version}`);
      return { ...versionView(v), content: v.content };
    },

    async diff(actor: Actor, id: string, from: number, to?: number) {
      requirePermission(actor, 'templates:read');
      const row = await load(id);
      const target = to ?? row.version;
      const [a, b] = await Promise.all([repo.version(id, from), repo.version(id, target)]);
      if (a === null) throw new NotFoundError('TEMPLATE_VERSION_NOT_FOUND', `Template ${id} has no version ${from}`);
      if (b === null) throw new NotFoundError('TEMPLATE_VERSION_NOT_FOUND', `Template ${id} has no version ${target}`);
      return { from, to: target, diff: createTwoFilesPatch(`${row.name}@${from}`, `${row.name}@${target}`, a.content, b.content) };
    },

    /** Makes an old version's content current again, as a new version. */
    async restore(actor: Actor, id: string, version: number, notes?: string): Promise<ConfigTemplate> {
      requirePermission(actor, 'templates:write');
      const v = await repo.version(id, version);
      if (v === null) {
        await load(id);
        throw new NotFoundError('TEMPLATE_VERSION_NOT_FOUND', `Template ${id} has no version ${version}`);
      }
      return this.update(actor, id, { content: v.content, notes: notes ?? `Restored version ${version}` });
    },

    async variables(actor: Actor, id: string) {
      requirePermission(actor, 'templates:read');
      const row = await load(id);
      if (row.type !== 'jinja2') {
        return { variables: [], proposed_schema: { type: 'object', properties: {}, required: [] }, variables_schema: row.variablesSchema };
      }
      const found = templateVariables(parseChecked(row.content, 'content'));
      return { variables: found.variables, proposed_schema: found.schema, variables_schema: row.variablesSchema };
    },

    async render(actor: Actor, id: string, input: RenderBody): Promise<RenderResponse> {
      requirePermission(actor, 'templates:render');
      const r = await renderStored(actor, await load(id), input);
      return { output: r.output, template_id: r.template_id, version: r.version };
    },

    /**
     * The render `config_push` sends to a device: the same as `render` (device data, variables
     * schema, worker pool), optionally of a pinned version, with the values the executor read
     * from the credential vault set at their paths (`secret_variables`, after the inventory data
     * and variables); answers the values of secret variables (`secret-variables.fns.ts`) for the
     * caller to mask. Plain `variables` the schema marks secret are refused (422
     * `TEMPLATE_SECRET_VARIABLE`), so no secret rides in a run's stored params.
     */
    async renderForPush(
      actor: Actor,
      id: string,
      input: RenderBody & { version?: number; secret_variables?: Record<string, string> },
    ): Promise<RenderResponse & { version: number; secrets: string[] }> {
      requirePermission(actor, 'templates:render');
      let row = await load(id);
      if (input.version !== undefined && input.version !== row.version) {
        const v = await repo.version(id, input.version);
        if (v === null) throw new NotFoundError('TEMPLATE_VERSION_NOT_FOUND', `Template ${id} has no version ${input.version}`);
        row = { ...row, content: v.content, version: v.version };
      }
      // A secret in the run's stored params: by name it was refused when the run was created; the schema's marks are known here.
      const plain = secretVariablePaths(input.variables ?? {}, row.variablesSchema);
      if (plain.length > 0) {
        throw new ValidationError(
          'TEMPLATE_SECRET_VARIABLE',
          'Secret variables cannot be given in plain variables (they would be stored with the run): give them in secret_variables, from the credential vault',
          plain.map((p) => ({ path: `body.variables.${p}`, message: 'secret by the template’s variables schema: use secret_variables' })),
        );
      }
      return renderStored(actor, row, input, input.secret_variables);
    },

    /**
     * Paths of `variables` the template's variables schema marks secret (`config_push` refuses
     * them when a run is created). No permission is checked: the answer names only variables the
     * caller sent, and is empty for a template that does not exist.
     */
    async schemaSecretPaths(id: string, variables: Record<string, unknown>): Promise<string[]> {
      const row = await repo.byId(id);
      return row?.variablesSchema ? secretVariablePaths(variables, row.variablesSchema) : [];
    },

    async renderContent(actor: Actor, input: RenderContentBody): Promise<RenderResponse> {
      requirePermission(actor, 'templates:render');
      const ast = parseChecked(input.content, 'body.content');
      return { output: await run(input.content, 'template', ast, input.variables ?? {}, 'body.content'), template_id: null, version: null };
    },
  };
}
export type TemplatesService = ReturnType<typeof createTemplatesService>;

export function newVersion(templateId: string, version: number, content: string, actor: Actor, notes: string | null, now: string): VersionRow {
  return {
    id: newId(),
    templateId,
    version,
    content,
    contentHash: sha256(content),
    authorId: actor.userId ?? actor.id,
    authorName: actor.name,
    notes,
    createdAt: now,
  };
}

export { ValidationError };
