import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { parseFilters } from '../../platform/http/filters.js';
import { parseSort } from '../../platform/http/pagination.js';
import { newId, nowIso } from '../../platform/ids.js';
import type { ExecutorSettings } from './executors/executor.js';
import { TEMPLATE_FILTERS, TEMPLATE_SORTS, type CreateRunBody, type CreateTemplateBody, type UpdateTemplateBody } from './jobs.schemas.js';
import type { JobsService } from './jobs.service.js';
import type { CreateRunOptions } from './run-plan.fns.js';
import { templateView } from './jobs.views.fns.js';
import { runSettingsOf, validateParams } from './run-input.fns.js';
import type { TemplateRow, TemplatesRepository } from './templates.repository.js';
import { isUuid } from '../../platform/ids.js';
import type { Db } from '../../platform/db/database.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import { inTeamScope, teamScope } from '../../platform/db/team-scope.js';

export interface TemplatesServiceDeps {
  templates: TemplatesRepository;
  jobs: JobsService;
  settings: ExecutorSettings;
  /** Writes run in one transaction with their domain event (`job_template.created|updated|deleted`). */
  unitOfWork: UnitOfWork<{ templates: TemplatesRepository; db: Db }>;
  events?: { record(trx: Db, name: string, payload: unknown): Promise<unknown>; relay(): Promise<void> } | undefined;
}

/** Who acted, as domain event payloads carry it (the audit subscriber writes it back). */
function actorRef(actor: Actor) {
  return {
    kind: actor.kind,
    id: actor.id,
    name: actor.name,
    ...(actor.ip ? { ip: actor.ip } : {}),
    ...(actor.requestId ? { request_id: actor.requestId } : {}),
  };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint/.test(e.message ?? '');
}

/** Saved run definitions: CRUD, and running one with overrides. */
export function createTemplatesService(deps: TemplatesServiceDeps) {
  /** The template if it exists and is in the actor's team scope; 404 otherwise (another team's template is absent). */
  async function load(actor: Actor, id: string): Promise<TemplateRow> {
    const t = await deps.templates.find(id);
    if (!t || !inTeamScope(teamScope(actor), t.teamId)) throw new NotFoundError('JOB_TEMPLATE_NOT_FOUND', `Job template ${id} does not exist`);
    return t;
  }

  /** A template can be given only to a team the actor belongs to (admins: any). */
  function checkTeam(actor: Actor, teamId: string | null | undefined): void {
    if (teamId && !inTeamScope(teamScope(actor), teamId)) {
      throw new ValidationError('JOB_TEMPLATE_TEAM_FORBIDDEN', 'You can only assign a job template to a team you are a member of', [
        { path: 'body.team_id', message: 'not one of your teams' },
      ]);
    }
  }

  /** A template's credential reference, hidden (null + `credential_restricted`) when it names another team's credential. */
  async function present(actor: Actor, rows: TemplateRow[]) {
    const hidden = await deps.jobs.hiddenCredentials(
      actor,
      rows.map((t) => t.credentialId),
    );
    return rows.map((t) => deps.jobs.redactRun(templateView(t), hidden));
  }

  async function checkDefinition(actor: Actor, type: string, params: unknown): Promise<Record<string, unknown>> {
    const executor = deps.jobs.executor(type);
    const checked = validateParams(executor, params, deps.settings);
    if (!checked.ok) throw new ValidationError('JOB_PARAMS_INVALID', `Parameters do not match the '${type}' schema`, checked.errors);
    const errors = (await executor.validate?.(actor, checked.params)) ?? [];
    if (errors.length > 0) throw new ValidationError('JOB_PARAMS_INVALID', `Parameters do not match the '${type}' rules`, errors);
    return checked.params;
  }

  /** The change and its event commit together; the event is relayed after commit. */
  function write<T>(name: string, payload: (result: T) => Record<string, unknown> | null, work: (templates: TemplatesRepository) => Promise<T>): Promise<T> {
    return deps.unitOfWork(async (repos, tx) => {
      const result = await work(repos.templates);
      const p = payload(result);
      if (deps.events && p) {
        await deps.events.record(repos.db, name, p);
        const events = deps.events;
        tx.afterCommit(() => void events.relay());
      }
      return result;
    });
  }

  const duplicate = (name: string) =>
    new ConflictError('JOB_TEMPLATE_NAME_TAKEN', `A job template named '${name}' already exists`, [{ path: 'body.name', message: 'already taken' }]);

  return {
    async create(actor: Actor, body: CreateTemplateBody) {
      requirePermission(actor, 'jobs:write');
      checkTeam(actor, body.team_id);
      const params = await checkDefinition(actor, body.type, body.params);
      await deps.jobs.checkSelectors(actor, body.targets ?? []);
      if (body.credential_id) await deps.jobs.checkCredentialUse(actor, body.credential_id);
      const now = nowIso();
      const row: TemplateRow = {
        id: newId(),
        name: body.name,
        description: body.description ?? null,
        type: body.type,
        params,
        targets: body.targets ?? [],
        credentialId: body.credential_id ?? null,
        ...runSettingsOf(body),
        tags: body.tags ?? [],
        folder: body.folder ?? null,
        teamId: body.team_id ?? null,
        createdAt: now,
        updatedAt: now,
      };
      if (await deps.templates.findByName(body.name)) throw duplicate(body.name);
      try {
        await write(
          'job_template.created',
          () => ({ id: row.id, name: row.name, actor: actorRef(actor) }),
          (templates) => templates.insert(row),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate(body.name);
        throw err;
      }
      return templateView(row);
    },
    async get(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:read');
      return (await present(actor, [await load(actor, id)]))[0]!;
    },
    async list(actor: Actor, query: Record<string, unknown> & { limit?: number; cursor?: string; sort?: string }) {
      requirePermission(actor, 'jobs:read');
      const keys = parseSort(query.sort, TEMPLATE_SORTS, 'id', 'name');
      const page = await deps.templates.list(teamScope(actor), parseFilters(query, TEMPLATE_FILTERS), keys, query.cursor, query.limit ?? 50);
      return { items: await present(actor, page.items), next_cursor: page.next_cursor };
    },
    async update(actor: Actor, id: string, body: UpdateTemplateBody) {
      requirePermission(actor, 'jobs:write');
      const current = await load(actor, id);
      if (body.team_id !== undefined && body.team_id !== current.teamId) checkTeam(actor, body.team_id);
      const type = body.type ?? current.type;
      const params = body.params !== undefined || body.type !== undefined ? await checkDefinition(actor, type, body.params ?? current.params) : undefined;
      if (body.name && body.name !== current.name && (await deps.templates.findByName(body.name))) throw duplicate(body.name);
      if (body.targets) await deps.jobs.checkSelectors(actor, body.targets);
      if (body.credential_id) await deps.jobs.checkCredentialUse(actor, body.credential_id);
      const fields: Partial<TemplateRow> = {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.type !== undefined ? { type } : {}),
        ...(params !== undefined ? { params } : {}),
        ...(body.targets !== undefined ? { targets: body.targets } : {}),
        ...(body.credential_id !== undefined ? { credentialId: body.credential_id } : {}),
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
        ...(body.timeout_ms !== undefined ? { timeoutMs: body.timeout_ms } : {}),
        ...(body.target_timeout_ms !== undefined ? { targetTimeoutMs: body.target_timeout_ms } : {}),
        ...(body.target_concurrency !== undefined ? { targetConcurrency: body.target_concurrency } : {}),
        ...(body.max_attempts !== undefined ? { maxAttempts: body.max_attempts } : {}),
        ...(body.backoff_ms !== undefined ? { backoffMs: body.backoff_ms } : {}),
        ...(body.tags !== undefined ? { tags: body.tags } : {}),
        ...(body.folder !== undefined ? { folder: body.folder } : {}),
        ...(body.team_id !== undefined ? { teamId: body.team_id } : {}),
        updatedAt: nowIso(),
      };
      const changed = Object.keys(body).sort();
      try {
        await write(
          'job_template.updated',
          (ok) => (ok ? { id, name: fields.name ?? current.name, fields: changed, actor: actorRef(actor) } : null),
          (templates) => templates.update(id, fields),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate(body.name ?? current.name);
        throw err;
      }
      return (await present(actor, [await load(actor, id)]))[0]!;
    },
    async remove(actor: Actor, id: string) {
      requirePermission(actor, 'jobs:write');
      const current = await load(actor, id);
      const deleted = await write(
        'job_template.deleted',
        (ok) => (ok ? { id, name: current.name, actor: actorRef(actor) } : null),
        (templates) => templates.delete(id),
      );
      if (!deleted) throw new NotFoundError('JOB_TEMPLATE_NOT_FOUND', `Job template ${id} does not exist`);
    },
    /** Runs a template; body values override the template's (params are merged shallowly). */
    async run(actor: Actor, id: string, body: Omit<CreateRunBody, 'template_id'>, options: Omit<CreateRunOptions, 'templateId'> = {}) {
      requirePermission(actor, 'jobs:run');
      const t = await load(actor, id);
      if (body.type !== undefined && body.type !== t.type) {
        throw new ValidationError('JOB_TEMPLATE_TYPE_MISMATCH', `The template runs '${t.type}'`, [
          { path: 'body.type', message: `must be '${t.type}' or omitted` },
        ]);
      }
      return deps.jobs.createRun(
        actor,
        {
          type: t.type,
          params: { ...(t.params as Record<string, unknown>), ...(body.params ?? {}) },
          targets: body.targets ?? (t.targets as never),
          ...((body.credential_id ?? t.credentialId) ? { credential_id: body.credential_id ?? t.credentialId! } : {}),
          priority: body.priority ?? t.priority,
          max_attempts: body.max_attempts ?? t.maxAttempts,
          backoff_ms: body.backoff_ms ?? t.backoffMs,
          timeout_ms: body.timeout_ms ?? t.timeoutMs,
          target_timeout_ms: body.target_timeout_ms ?? t.targetTimeoutMs,
          target_concurrency: body.target_concurrency ?? t.targetConcurrency,
          ...(body.not_before ? { not_before: body.not_before } : {}),
          ...(body.expires_at ? { expires_at: body.expires_at } : {}),
        },
        { ...options, templateId: t.id, templateTeamId: t.teamId },
      );
    },
    /**
     * Whether the actor could run the template as it stands (schedules ask when they are created,
     * changed or enabled): 404 when it is not there for them, 403 without `jobs:run`, 422
     * `JOB_CREDENTIAL_NOT_FOUND` when its credential is not theirs to use.
     */
    async checkRunnable(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'jobs:run');
      const t = await load(actor, id);
      if (t.credentialId) await deps.jobs.checkCredentialUse(actor, t.credentialId, 'body.template_id');
    },
    /** A template by id or by name (for `runs/latest?template=`). */
    async resolve(actor: Actor, idOrName: string): Promise<string> {
      requirePermission(actor, 'jobs:read');
      const t = isUuid(idOrName) ? await deps.templates.find(idOrName) : await deps.templates.findByName(idOrName);
      if (!t || !inTeamScope(teamScope(actor), t.teamId)) throw new NotFoundError('JOB_TEMPLATE_NOT_FOUND', `No job template '${idOrName}'`);
      return t.id;
    },
  };
}

export type TemplatesService = ReturnType<typeof createTemplatesService>;
