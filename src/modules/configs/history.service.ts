import path from 'node:path';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/observability/logger.js';
import { compareTexts } from './diff.fns.js';
import type { GitStore } from './git-store.js';
import { createHistoryRepository, type CommitRow, type VersionRow } from './history.repository.js';
import type { RepositoryRow } from './repositories.repository.js';
import { MAX_FILE_BYTES } from './repositories.service.js';

export interface HistoryDeps {
  db: Db;
  store: GitStore;
  logger: Logger;
  /** The registered `configs` repositories (the repositories service). */
  repositories: { byCategory(category: string): Promise<RepositoryRow[]> };
  /** Inventory: a device's name as `actor` may see it (404 otherwise). */
  deviceName(actor: Actor, deviceId: string): Promise<string>;
  /** After new versions committed: the devices they belong to (compliance evaluates them). Must not throw. */
  onIndexed?: (deviceNames: string[]) => void;
}

/** `configs/core-rtr-1.cfg` → `core-rtr-1`: a configuration file is named after its device. */
export function deviceNameOf(file: string): string {
  const base = path.posix.basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export function toVersionView(v: VersionRow) {
  return {
    id: v.id,
    device: v.deviceName,
    repository_id: v.repositoryId,
    commit: v.commitSha,
    path: v.path,
    change: v.change,
    old_path: v.oldPath,
    author: v.authorName,
    committed_at: v.committedAt,
    size: Number(v.size),
    content_hash: v.contentHash,
  };
}

/**
 * The history index: commits and per-file versions of `configs` repositories, written when a
 * sync moves a branch (and by `opsdeck configs reindex`), so that "versions of this device" and
 * "what changed since yesterday" are one indexed query, never a walk of Git.
 */
export function createHistoryService(deps: HistoryDeps) {
  const repo = createHistoryRepository(deps.db);
  const uow = createUnitOfWork(
    deps.db,
    (db) => Object.assign(createHistoryRepository(db), { db }),
    (err) => deps.logger.error({ err }, 'history after-commit step failed'),
  );

  /** Indexes commits after `before` up to `after`; `inTx` writes more in the same transaction (a backup's `config.changed`). */
  async function index(r: RepositoryRow, before: string | null, after: string, inTx?: (db: Db) => Promise<void>): Promise<number> {
    if (r.category !== 'configs') return 0;
    const commits = await deps.store.changesSince(r.id, before, after);
    const prefix = r.path ? `${r.path}/` : '';
    const commitRows: CommitRow[] = [];
    const pending: Omit<VersionRow, 'size'>[] = [];
    for (const c of commits) {
      commitRows.push({
        repositoryId: r.id,
        sha: c.sha,
        authorName: c.author_name.slice(0, 255),
        authorEmail: c.author_email.slice(0, 255),
        committedAt: c.committed_at,
        message: c.message,
      });
      for (const ch of c.changes) {
        if (!ch.path.startsWith(prefix) || ch.path.length > 1024) continue;
        pending.push({
          id: newId(),
          repositoryId: r.id,
          commitSha: c.sha,
          path: ch.path,
          deviceName: deviceNameOf(ch.path).slice(0, 255),
          change: ch.status,
          oldPath: ch.old_path,
          authorName: c.author_name.slice(0, 255),
          committedAt: c.committed_at,
          contentHash: ch.status === 'deleted' ? '' : ch.blob,
        });
      }
    }
    const sizes = await deps.store.blobSizes(r.id, pending.map((p) => p.contentHash).filter(Boolean));
    const rows: VersionRow[] = pending.map((p) => ({ ...p, size: sizes.get(p.contentHash) ?? 0 }));
    await uow(async (h) => {
      await h.insert(commitRows, rows);
      if (inTx) await inTx(h.db);
    });
    if (rows.length) deps.onIndexed?.([...new Set(rows.map((v) => v.deviceName))]);
    return rows.length;
  }

  async function versionOf(actor: Actor, deviceId: string, versionId: string): Promise<VersionRow> {
    const name = await deps.deviceName(actor, deviceId);
    const v = await repo.version(versionId);
    if (!v || v.deviceName !== name) throw new NotFoundError('CONFIG_VERSION_NOT_FOUND', `Device ${deviceId} has no configuration version ${versionId}`);
    return v;
  }

  async function textOf(v: VersionRow): Promise<string> {
    if (!v.contentHash) return '';
    return (await deps.store.readBlob(v.repositoryId, v.contentHash, MAX_FILE_BYTES)).toString('utf8');
  }

  return {
    index,

    /** Rebuilds the index of every `configs` repository from its mirror (`opsdeck configs reindex`). */
    async reindex(): Promise<{ repositories: number; versions: number }> {
      let versions = 0;
      let repositories = 0;
      for (const r of await deps.repositories.byCategory('configs')) {
        if (!(await deps.store.exists(r.id))) continue;
        const head = await deps.store.resolve(r.id, r.branch).catch(() => null);
        await repo.clear(r.id);
        if (head) versions += await index(r, null, head);
        repositories++;
      }
      return { repositories, versions };
    },

    async deviceVersions(actor: Actor, deviceId: string, q: { limit?: number; cursor?: string }) {
      requirePermission(actor, 'configs:read');
      const page = await repo.deviceVersions(await deps.deviceName(actor, deviceId), q.cursor, q.limit ?? 50);
      return { items: page.items.map(toVersionView), next_cursor: page.next_cursor };
    },

    async deviceVersion(actor: Actor, deviceId: string, versionId: string) {
      requirePermission(actor, 'configs:read');
      const v = await versionOf(actor, deviceId, versionId);
      return { ...toVersionView(v), message: (await repo.commitMessage(v.repositoryId, v.commitSha)) ?? '', content: await textOf(v) };
    },

    /** Diff of two versions of a device (default: the latest against the one before it). */
    async deviceDiff(actor: Actor, deviceId: string, q: { from?: string; to?: string }) {
      requirePermission(actor, 'configs:read');
      const name = await deps.deviceName(actor, deviceId);
      const to = q.to ? await versionOf(actor, deviceId, q.to) : await repo.latest(name);
      if (!to) throw new NotFoundError('CONFIG_VERSION_NOT_FOUND', `Device ${deviceId} has no configuration versions`);
      const from = q.from ? await versionOf(actor, deviceId, q.from) : await repo.previous(name, to);
      if (!from) {
        throw new ValidationError('CONFIG_DIFF_NO_BASE', 'The device has a single version; name `from` to compare', [
          { path: 'query.from', message: 'no earlier version' },
        ]);
      }
      const { unified, file } = compareTexts({ path: from.path, text: await textOf(from) }, { path: to.path, text: await textOf(to) });
      return { from: toVersionView(from), to: toVersionView(to), unified, file };
    },

    async changes(actor: Actor, q: { since: string; until?: string; limit?: number; cursor?: string }) {
      requirePermission(actor, 'configs:read');
      const page = await repo.changes(new Date(q.since).toISOString(), q.until ? new Date(q.until).toISOString() : undefined, q.cursor, q.limit ?? 50);
      return { items: page.items.map(toVersionView), next_cursor: page.next_cursor };
    },
  };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
