import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ConflictError, NotFoundError, ValidationError, AppError, UnauthorizedError, type FieldError } from '../../platform/errors.js';
import { verifyWebhook, type WebhookHeaders } from './webhook.fns.js';
import { requirePermission, SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor, parseSort } from '../../platform/http/pagination.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { AuditRecorder, ResolvedCredential } from '../credentials/index.js';
import { checkGitUrl, checkRepoPath, checkRef, joinRepoPath, maskSecrets, type GitScheme } from './git-url.fns.js';
import type { GitAuth } from './git.js';
import type { GitStore, Remote } from './git-store.js';
import type { FeedReport, FeedSnapshot, RepositoryFeed } from '../../platform/repository-feed.js';
import { createRepositoriesRepository, type RepositoryRow } from './repositories.repository.js';
import { compareTexts } from './diff.fns.js';
import type {
  CommitsQuery,
  CompareBody,
  CreateRepositoryBody,
  DiffBody,
  Repository,
  TestConnectionBody,
  UpdateRepositoryBody,
} from './repositories.schemas.js';

export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** What the configs module needs from the vault and the jobs module (wired in modules.ts). */
export interface ConfigsPorts {
  /** Whether the actor may see (hence use) the credential: one outside its teams is "not found". */
  credentialVisible(actor: Actor, id: string): Promise<boolean>;
  /** The credential's plaintext for a git command, checked for `actor` (credentials:use and team scope). */
  resolveCredential(id: string, purpose: string, runId: string | null, actor: Actor): Promise<ResolvedCredential>;
  /** Stores a `git_sync` run as `actor` (jobs' createRun); `scheduled`: triggered by the repository's interval (trigger kind `system`, id the repository). */
  createSyncRun(actor: Actor, repositoryId: string, scheduled?: boolean): Promise<{ id: string; status: string }>;
  /** Whether a run is still queued or running (scheduled syncs skip a repository whose last sync is). */
  syncRunActive(runId: string): Promise<boolean>;
}

export interface RepositoriesDeps {
  db: Db;
  store: GitStore;
  schemes: readonly GitScheme[];
  audit: AuditRecorder;
  ports: ConfigsPorts;
  logger: Logger;
  /** File extensions the file list shows when the repository names none: the live `git` settings section (OPSDECK_GIT_ALLOWED_EXTENSIONS below it), read at each use. */
  allowedExtensions: () => readonly string[];
  /** Called after a sync moved the branch head (the history index). */
  onSynced?: (repo: RepositoryRow, before: string | null, after: string, inTx?: (db: Db) => Promise<void>) => Promise<void>;
  /** Modules fed by repositories of a category (`textfsm` → parsers, `templates` → templates), wired in modules.ts. */
  feeds?: Partial<Record<string, RepositoryFeed>>;
}

const notFound = (id: string) => new NotFoundError('GIT_REPOSITORY_NOT_FOUND', `Git repository ${id} does not exist`);
const invalid = (path: string, message: string, code = 'GIT_REPOSITORY_INVALID') => new ValidationError(code, `${path}: ${message}`, [{ path, message }]);

function toView(r: RepositoryRow): Repository {
  return {
    id: r.id,
    name: r.name,
    category: r.category as Repository['category'],
    url: r.url,
    branch: r.branch,
    path: r.path,
    credential_id: r.credentialId,
    verify_tls: r.verifyTls,
    ca_cert_set: r.caCert !== null,
    sync_interval_seconds: r.syncIntervalSeconds,
    description: r.description,
    active: r.active,
    last_sync_at: r.lastSyncAt,
    last_sync_status: r.lastSyncStatus as Repository['last_sync_status'],
    last_sync_error: r.lastSyncError,
    last_sync_run_id: r.lastSyncRunId,
    head_commit: r.headCommit,
    webhook_credential_id: r.webhookCredentialId,
    allowed_extensions: r.allowedExtensions,
    next_sync_at: r.nextSyncAt,
    sync_owner_id: r.syncOwnerId,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** Whether a file's extension (case-insensitive, after the last dot of its name) is one of `extensions`. */
export function allowedFile(extensions: readonly string[]): (path: string) => boolean {
  const allowed = new Set(extensions.map((e) => e.toLowerCase()));
  return (path) => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const dot = name.lastIndexOf('.');
    return dot >= 0 && allowed.has(name.slice(dot).toLowerCase());
  };
}

/** A vault credential as git authentication: basic and API tokens over HTTPS, SSH keys or passwords over SSH. */
export function gitAuthOf(c: ResolvedCredential): GitAuth {
  const username = c.attributes.username ?? '';
  if (c.type === 'ssh') {
    return {
      kind: 'ssh',
      username,
      ...(c.secrets.private_key ? { privateKey: c.secrets.private_key } : {}),
      ...((c.secrets.passphrase ?? c.secrets.password) ? { password: c.secrets.passphrase ?? c.secrets.password! } : {}),
    };
  }
  if (c.type === 'basic') return { kind: 'userpass', username, password: c.secrets.password ?? '' };
  if (c.type === 'api_token') return { kind: 'userpass', username: username || 'x-access-token', password: c.secrets.token ?? '' };
  throw new ValidationError('GIT_CREDENTIAL_TYPE', `A ${c.type} credential cannot authenticate to git; use basic, api_token or ssh`, [
    { path: 'body.credential_id', message: `type ${c.type} is not usable for git` },
  ]);
}

/** The repository registry, sync bookkeeping and read operations over the mirrors. */
export function createRepositoriesService(deps: RepositoriesDeps) {
  const repo = createRepositoriesRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (db) => ({ db, repos: createRepositoriesRepository(db) }),
    (err) => deps.logger.error({ err }, 'configs after-commit step failed'),
  );

  async function load(id: string): Promise<RepositoryRow> {
    const row = await repo.find(id);
    if (!row) throw notFound(id);
    return row;
  }

  async function checkConnection(
    actor: Actor,
    input: {
      url?: string | undefined;
      branch?: string | undefined;
      credential_id?: string | null | undefined;
      path?: string | undefined;
      webhook_credential_id?: string | null | undefined;
    },
  ): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    if (input.url !== undefined) {
      const u = checkGitUrl(input.url, deps.schemes);
      if (!u.ok) errors.push({ path: 'body.url', message: u.reason });
    }
    if (input.branch !== undefined) {
      const b = checkRef(input.branch);
      if (b) errors.push({ path: 'body.branch', message: b });
    }
    if (input.path !== undefined) {
      const p = checkRepoPath(input.path);
      if (!p.ok) errors.push({ path: 'body.path', message: p.reason });
    }
    if (input.credential_id && !(await deps.ports.credentialVisible(actor, input.credential_id))) {
      errors.push({ path: 'body.credential_id', message: 'no such credential' });
    }
    if (input.webhook_credential_id && !(await deps.ports.credentialVisible(actor, input.webhook_credential_id))) {
      errors.push({ path: 'body.webhook_credential_id', message: 'no such credential' });
    }
    return errors;
  }

  async function remoteOf(
    actor: Actor,
    r: { url: string; branch: string; credentialId: string | null; verifyTls: boolean; caCert: string | null },
    purpose: string,
    runId: string | null,
  ): Promise<Remote> {
    const auth = r.credentialId ? gitAuthOf(await deps.ports.resolveCredential(r.credentialId, purpose, runId, actor)) : null;
    return { url: r.url, branch: r.branch, auth, tls: { verify: r.verifyTls, caCert: r.caCert } };
  }

  /** Withdraws what a repository fed (after its change committed); a failure is logged, never undoes the change. */
  async function unfeed(r: RepositoryRow): Promise<void> {
    await deps.feeds?.[r.category]?.removed(r.id).catch((err: unknown) => deps.logger.error({ err, repositoryId: r.id }, 'repository feed removal failed'));
  }

  /** The registration's regular files at `commit`, relative to its path, read from the mirror by blob (links and submodules left out). */
  async function snapshotOf(r: RepositoryRow, commit: string): Promise<FeedSnapshot> {
    const prefix = r.path ? `${r.path}/` : '';
    const entries = new Map(
      (await deps.store.tree(r.id, commit, r.path))
        .filter((e) => e.type === 'file' && e.path.startsWith(prefix))
        .map((e) => [e.path.slice(prefix.length), { blob: e.blob, size: e.size ?? 0 }]),
    );
    return {
      commit,
      files: [...entries].map(([path, e]) => ({ path, size: e.size })),
      async read(paths) {
        const wanted = paths.flatMap((p) => (entries.has(p) ? [[p, entries.get(p)!] as const] : []));
        const blobs = await deps.store.readBlobs(
          r.id,
          wanted.map(([, e]) => e.blob),
          wanted.reduce((n, [, e]) => n + e.size + 128, 1024),
        );
        return new Map(wanted.flatMap(([p, e]) => (blobs.has(e.blob) ? [[p, blobs.get(e.blob)!] as const] : [])));
      },
    };
  }

  const service = {
    async list(actor: Actor, query: { limit?: number; cursor?: string; category?: string[]; active?: boolean }) {
      requirePermission(actor, 'git:read');
      const keys = parseSort('name', { name: 'name' }, 'id', 'name', ['name']);
      const page = await repo.list({ category: query.category, active: query.active }, keys, query.cursor, query.limit ?? 50);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string): Promise<Repository> {
      requirePermission(actor, 'git:read');
      return toView(await load(id));
    },

    async create(actor: Actor, body: CreateRepositoryBody): Promise<Repository> {
      requirePermission(actor, 'git:write');
      const errors = await checkConnection(actor, {
        url: body.url,
        branch: body.branch ?? 'main',
        credential_id: body.credential_id,
        path: body.path ?? '',
        webhook_credential_id: body.webhook_credential_id,
      });
      if (errors.length) throw new ValidationError('GIT_REPOSITORY_INVALID', 'The repository settings are invalid', errors);
      if (await repo.nameTaken(body.name)) {
        throw new ConflictError('GIT_REPOSITORY_NAME_TAKEN', `A repository named '${body.name}' exists`, [{ path: 'body.name', message: 'already taken' }]);
      }
      const now = new Date().toISOString();
      const row: RepositoryRow = {
        id: newId(),
        name: body.name,
        category: body.category,
        url: body.url,
        branch: body.branch ?? 'main',
        path: (checkRepoPath(body.path ?? '') as { path: string }).path,
        credentialId: body.credential_id?.toLowerCase() ?? null,
        verifyTls: body.verify_tls ?? true,
        caCert: body.ca_cert ?? null,
        syncIntervalSeconds: body.sync_interval_seconds ?? null,
        description: body.description ?? null,
        active: body.active ?? true,
        lastSyncAt: null,
        lastSyncStatus: 'never',
        lastSyncError: null,
        lastSyncRunId: null,
        headCommit: null,
        webhookCredentialId: body.webhook_credential_id?.toLowerCase() ?? null,
        nextSyncAt: null,
        syncOwnerId: body.sync_interval_seconds ? actor.id : null,
        allowedExtensions: body.allowed_extensions?.map((e) => e.toLowerCase()) ?? null,
        createdBy: actor.id,
        createdAt: now,
        updatedAt: now,
      };
      await uow(async ({ db, repos }) => {
        await repos.insert(row);
        await deps.audit.record(db, {
          actor,
          action: 'git_repository.created',
          resourceType: 'git_repository',
          resourceId: row.id,
          outcome: 'success',
          changes: { name: row.name, category: row.category, url: row.url, branch: row.branch },
        });
      });
      return toView(row);
    },

    async update(actor: Actor, id: string, body: UpdateRepositoryBody): Promise<Repository> {
      requirePermission(actor, 'git:write');
      const current = await load(id);
      const errors = await checkConnection(actor, body);
      if (errors.length) throw new ValidationError('GIT_REPOSITORY_INVALID', 'The repository settings are invalid', errors);
      if (body.name !== undefined && (await repo.nameTaken(body.name, id))) {
        throw new ConflictError('GIT_REPOSITORY_NAME_TAKEN', `A repository named '${body.name}' exists`, [{ path: 'body.name', message: 'already taken' }]);
      }
      const patch: Partial<RepositoryRow> = { updatedAt: new Date().toISOString() };
      if (body.name !== undefined) patch.name = body.name;
      if (body.category !== undefined) patch.category = body.category;
      if (body.url !== undefined) patch.url = body.url;
      if (body.branch !== undefined) patch.branch = body.branch;
      if (body.path !== undefined) patch.path = (checkRepoPath(body.path) as { path: string }).path;
      if (body.credential_id !== undefined) patch.credentialId = body.credential_id?.toLowerCase() ?? null;
      if (body.verify_tls !== undefined) patch.verifyTls = body.verify_tls;
      if (body.ca_cert !== undefined) patch.caCert = body.ca_cert;
      if (body.sync_interval_seconds !== undefined) {
        patch.syncIntervalSeconds = body.sync_interval_seconds;
        // Whoever sets the interval owns the scheduled syncs: they run as that user, re-checked at each fire.
        patch.syncOwnerId = body.sync_interval_seconds ? actor.id : null;
      }
      // A new interval, or a repository switched on, is due at the next scheduler pass.
      if (body.sync_interval_seconds !== undefined || body.active !== undefined) patch.nextSyncAt = null;
      if (body.allowed_extensions !== undefined) patch.allowedExtensions = body.allowed_extensions?.map((e) => e.toLowerCase()) ?? null;
      if (body.description !== undefined) patch.description = body.description;
      if (body.active !== undefined) patch.active = body.active;
      if (body.webhook_credential_id !== undefined) patch.webhookCredentialId = body.webhook_credential_id?.toLowerCase() ?? null;
      await uow(async ({ db, repos }) => {
        if (!(await repos.update(id, patch))) throw notFound(id);
        const { ca_cert: ca, ...changes } = body;
        await deps.audit.record(db, {
          actor,
          action: 'git_repository.updated',
          resourceType: 'git_repository',
          resourceId: id,
          outcome: 'success',
          changes: { ...changes, ...(ca !== undefined ? { ca_cert: ca === null ? null : 'set' } : {}) },
        });
      });
      const next = { ...current, ...patch };
      // What the repository fed stops applying when it moves elsewhere; the next sync feeds it again.
      if (current.active && (!next.active || next.category !== current.category || next.path !== current.path)) await unfeed(current);
      return toView(next);
    },

    async remove(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'git:write');
      const current = await repo.find(id);
      await uow(async ({ db, repos }) => {
        if (!(await repos.remove(id))) throw notFound(id);
        await deps.audit.record(db, { actor, action: 'git_repository.deleted', resourceType: 'git_repository', resourceId: id, outcome: 'success' });
      });
      if (current) await unfeed(current);
      await deps.store.remove(id);
    },

    /** Tries the remote with the given settings (before saving): branches it has, whether the branch is among them. */
    async testConnection(actor: Actor, body: TestConnectionBody) {
      requirePermission(actor, 'git:write');
      const errors = await checkConnection(actor, body);
      if (errors.length) throw new ValidationError('GIT_REPOSITORY_INVALID', 'The repository settings are invalid', errors);
      const remote = await remoteOf(
        actor,
        {
          url: body.url,
          branch: body.branch ?? 'main',
          credentialId: body.credential_id ?? null,
          verifyTls: body.verify_tls ?? true,
          caCert: body.ca_cert ?? null,
        },
        `git connection test ${maskSecrets(body.url)}`,
        null,
      );
      return service.probe(remote);
    },

    async testSaved(actor: Actor, id: string) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      return service.probe(await remoteOf(actor, r, `git connection test of repository ${r.name}`, null));
    },

    async probe(remote: Remote) {
      try {
        const branches = await deps.store.remoteBranches(remote);
        return { ok: true, branch_found: branches.some((b) => b.name === remote.branch), branches, error: null, code: null };
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 502) throw err;
        return { ok: false, branch_found: false, branches: [], error: err.message, code: err.code };
      }
    },

    /** Queues a sync as a `git_sync` job run (202); the run's id is the repository's last_sync_run_id. */
    async requestSync(actor: Actor, id: string) {
      requirePermission(actor, 'git:sync');
      const r = await load(id);
      if (!r.active) throw new ConflictError('GIT_REPOSITORY_INACTIVE', `Repository '${r.name}' is inactive; activate it to sync`);
      if (r.credentialId && !(await deps.ports.credentialVisible(actor, r.credentialId))) {
        throw new NotFoundError('CREDENTIAL_NOT_FOUND', `Credential ${r.credentialId} does not exist`);
      }
      const run = await deps.ports.createSyncRun(actor, id);
      await repo.update(id, { lastSyncStatus: 'queued', lastSyncRunId: run.id });
      return { run_id: run.id, status: run.status, repository_id: id };
    },

    /**
     * A push webhook from the Git host: verified against the repository's webhook secret (its
     * `webhook_credential_id`, an api_token), then a sync run as the system. Every refusal is the
     * same 401, so the route tells nothing about which repositories exist.
     */
    async webhook(id: string, headers: WebhookHeaders, body: string) {
      const rejected = () => new UnauthorizedError('GIT_WEBHOOK_REJECTED', 'The webhook is not signed with this repository’s secret');
      const r = await repo.find(id);
      if (!r?.webhookCredentialId || !r.active) throw rejected();
      const cred = await deps.ports.resolveCredential(r.webhookCredentialId, `git webhook of repository ${r.name}`, null, SYSTEM_ACTOR).catch(() => null);
      const secret = cred?.secrets.token ?? cred?.secrets.password;
      const scheme = secret ? verifyWebhook(secret, headers, body) : null;
      if (!scheme) throw rejected();
      const run = await deps.ports.createSyncRun(SYSTEM_ACTOR, id);
      await repo.update(id, { lastSyncStatus: 'queued', lastSyncRunId: run.id });
      return { run_id: run.id, scheme };
    },

    /**
     * The sync itself (the `git_sync` executor): fetch into the mirror, record the outcome, hand
     * new commits to the history index. It acts for the run's initiator as they are now (the
     * system for a webhook's run): `git:sync`, and the credential resolved for them (the vault
     * checks `credentials:use` and team scope, and audits the use as theirs) — checked when the
     * run executes, not only when it was requested.
     */
    async syncNow(actor: Actor, id: string, runId: string | null, signal?: AbortSignal): Promise<{ before: string | null; after: string; feed?: FeedReport }> {
      const r = await load(id);
      await repo.update(id, { lastSyncStatus: 'running', ...(runId ? { lastSyncRunId: runId } : {}) });
      try {
        requirePermission(actor, 'git:sync');
        const remote = await remoteOf(actor, r, `git sync of repository ${r.name}`, runId);
        const result = await deps.store.sync(id, remote, signal);
        // From the head last indexed (not the mirror's previous head): a sync whose indexing failed is caught up by the next one.
        if (deps.onSynced && result.after !== r.headCommit) await deps.onSynced(r, r.headCommit, result.after);
        // Every sync: the feed skips a commit it already applied, and catches up one it missed.
        const feed = r.active ? deps.feeds?.[r.category] : undefined;
        const report = feed ? await feed.synced({ id: r.id, name: r.name, path: r.path }, await snapshotOf(r, result.after)) : undefined;
        await repo.update(id, { lastSyncStatus: 'ok', lastSyncError: null, lastSyncAt: new Date().toISOString(), headCommit: result.after });
        return { ...result, ...(report ? { feed: report } : {}) };
      } catch (err) {
        await repo.update(id, {
          lastSyncStatus: 'failed',
          lastSyncError: maskSecrets(err instanceof Error ? err.message : String(err)).slice(0, 2000),
          lastSyncAt: new Date().toISOString(),
        });
        throw err;
      }
    },

    async status(actor: Actor, id: string) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      const synced = await deps.store.exists(id);
      const head = synced ? await deps.store.resolve(id, r.branch).catch(() => null) : null;
      let remoteCommit: string | null = null;
      let remoteError: string | null = null;
      try {
        const branches = await deps.store.remoteBranches(await remoteOf(actor, r, `git status of repository ${r.name}`, null));
        remoteCommit = branches.find((b) => b.name === r.branch)?.commit ?? null;
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 502) throw err;
        remoteError = err.message;
      }
      const counts = head && remoteCommit ? await deps.store.aheadBehind(id, head, remoteCommit) : null;
      return {
        synced,
        head_commit: head,
        remote_commit: remoteCommit,
        ahead: counts?.ahead ?? 0,
        behind: counts?.behind ?? (remoteCommit && remoteCommit !== head ? 1 : 0),
        dirty: false,
        remote_error: remoteError,
        last_sync_at: r.lastSyncAt,
        last_sync_status: r.lastSyncStatus,
      };
    },

    async branches(actor: Actor, id: string) {
      requirePermission(actor, 'git:read');
      await load(id);
      return { items: await deps.store.branches(id) };
    },

    /** A checked user path inside the registration's path. */
    scoped(r: RepositoryRow, raw: string | undefined, field: string): string {
      const p = checkRepoPath(raw ?? '');
      if (!p.ok) throw invalid(field, p.reason, 'GIT_PATH_INVALID');
      return joinRepoPath(r.path, p.path);
    },

    async commits(actor: Actor, id: string, q: CommitsQuery) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      const commit = await deps.store.resolve(id, q.ref ?? r.branch);
      const limit = q.limit ?? 50;
      const skip = q.cursor ? Number(decodeCursor(q.cursor, 1)[0]) : 0;
      const file = service.scoped(r, q.path, 'query.path');
      const items = await deps.store.log(id, commit, {
        ...(file ? { path: file } : {}),
        ...(q.author ? { author: q.author } : {}),
        ...(q.since ? { since: q.since } : {}),
        ...(q.until ? { until: q.until } : {}),
        skip,
        limit: limit + 1,
      });
      return { items: items.slice(0, limit), next_cursor: items.length > limit ? encodeCursor([skip + limit]) : null };
    },

    async files(actor: Actor, id: string, q: { ref?: string; path?: string }) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      const commit = await deps.store.resolve(id, q.ref ?? r.branch);
      const dir = service.scoped(r, q.path, 'query.path');
      const strip = r.path ? r.path.length + 1 : 0;
      const shown = allowedFile(r.allowedExtensions ?? deps.allowedExtensions());
      const items = (await deps.store.tree(id, commit, dir))
        .filter((e) => e.type === 'directory' || shown(e.path))
        .map((e) => ({ path: e.path.slice(strip), type: e.type, size: e.size }));
      return { commit, items };
    },

    async content(actor: Actor, id: string, rawPath: string, ref?: string) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      const commit = await deps.store.resolve(id, ref ?? r.branch);
      const file = service.scoped(r, rawPath, 'params.path');
      const f = await deps.store.readFile(id, commit, file, MAX_FILE_BYTES);
      const text = f.content.toString('utf8');
      const utf8 = !text.includes('\uFFFD') && !text.includes('\u0000');
      return {
        path: rawPath,
        commit,
        blob: f.blob,
        size: f.size,
        encoding: utf8 ? ('utf8' as const) : ('base64' as const),
        content: utf8 ? text : f.content.toString('base64'),
      };
    },

    async history(actor: Actor, id: string, rawPath: string, q: { ref?: string; limit?: number }) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      const commit = await deps.store.resolve(id, q.ref ?? r.branch);
      const file = service.scoped(r, rawPath, 'params.path');
      const strip = r.path ? r.path.length + 1 : 0;
      const items = await deps.store.history(id, commit, file, q.limit ?? 200);
      return { path: rawPath, items: items.map(({ status, path, ...c }) => ({ ...c, path: path.slice(strip), change: status })) };
    },

    async diff(actor: Actor, id: string, body: DiffBody) {
      requirePermission(actor, 'git:read');
      const r = await load(id);
      const [from, to] = [await deps.store.resolve(id, body.from, 'body.from'), await deps.store.resolve(id, body.to, 'body.to')];
      const file = service.scoped(r, body.path, 'body.path');
      return { from, to, ...(await deps.store.diff(id, from, to, file || r.path || undefined)) };
    },

    /** One side of a comparison: the text of a file at a ref. */
    async textAt(actor: Actor, side: { repository_id: string; path: string; ref?: string | undefined }, field: string) {
      requirePermission(actor, 'configs:read');
      const r = await repo.find(side.repository_id);
      if (!r) throw invalid(`${field}.repository_id`, 'no such repository', 'GIT_REPOSITORY_NOT_FOUND');
      const commit = await deps.store.resolve(r.id, side.ref ?? r.branch, `${field}.ref`);
      const file = service.scoped(r, side.path, `${field}.path`);
      const f = await deps.store.readFile(r.id, commit, file, MAX_FILE_BYTES);
      return { repository_id: r.id, path: side.path, commit, text: f.content.toString('utf8') };
    },

    /** Two different files compared (device A against device B), each at its own ref. */
    async compare(actor: Actor, body: CompareBody) {
      const a = await service.textAt(actor, body.a, 'body.a');
      const b = await service.textAt(actor, body.b, 'body.b');
      const { unified, file } = compareTexts({ path: a.path, text: a.text }, { path: b.path, text: b.text });
      return {
        a: { repository_id: a.repository_id, path: a.path, commit: a.commit },
        b: { repository_id: b.repository_id, path: b.path, commit: b.commit },
        identical: a.text === b.text,
        unified,
        file,
      };
    },

    /** The remote of a repository with its credential resolved for `actor` (backups push with it). */
    remoteFor: remoteOf,

    /**
     * After Opsdeck itself moved the branch (a backup pushed `after`): index from the last indexed
     * head and move `head_commit`; `inTx` runs in the index transaction (or its own when a sync
     * indexed the commit first).
     */
    async advance(id: string, after: string, inTx?: (db: Db) => Promise<void>): Promise<void> {
      const r = await load(id);
      if (deps.onSynced && r.headCommit !== after) await deps.onSynced(r, r.headCommit, after, inTx);
      else if (inTx) await deps.db.transaction().execute((trx) => inTx(trx));
      await repo.update(id, { headCommit: after });
    },

    /** Repositories by category, for other parts of the module (textfsm, history index). */
    byCategory: (category: string) => repo.byCategory(category),
    load,
  };
  return service;
}

export type RepositoriesService = ReturnType<typeof createRepositoriesService>;
