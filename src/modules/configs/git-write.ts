import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError, UpstreamError } from '../../platform/errors.js';
import { GitCommandError, type Git } from './git.js';
import type { GitStore, Remote } from './git-store.js';

export interface WrittenFile {
  /** The branch head the file was compared against (null: the remote branch had no commit yet). */
  parent: string | null;
  /** The new commit; null when the content was already there (no empty commits). */
  commit: string | null;
  /** The file's previous content ('' when it is new). */
  previous: string;
}

const IDENTITY = { GIT_AUTHOR_NAME: 'Opsdeck', GIT_AUTHOR_EMAIL: 'opsdeck@localhost', GIT_COMMITTER_NAME: 'Opsdeck', GIT_COMMITTER_EMAIL: 'opsdeck@localhost' };
const ATTEMPTS = 4;
const rejected = (err: unknown) =>
  err instanceof GitCommandError && /\[rejected\]|fetch first|non-fast-forward|stale info|failed to update ref|cannot lock ref/i.test(err.stderr);

/**
 * Commits files into a bare mirror without a work tree (hash-object, a temporary index,
 * write-tree, commit-tree) and pushes them: the remote is fetched first and the commit made on
 * its head, so a remote that moved is built upon, never overwritten. Commits to one repository
 * are serialised in this process; across workers the remote's fast-forward check and the
 * mirror's `update-ref <new> <old>` are the compare-and-swap, and a lost race starts over from
 * a fresh fetch.
 */
export function createGitWriter(deps: { git: Git; store: GitStore }) {
  const { git, store } = deps;
  const queues = new Map<string, Promise<unknown>>();

  function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, settled);
    void settled.then(() => queues.get(key) === settled && queues.delete(key));
    return next;
  }

  /** Fetches the remote; answers its branch head, or null for a remote without that branch (a new, empty repository). */
  async function fetchHead(id: string, remote: Remote, signal?: AbortSignal): Promise<string | null> {
    try {
      return (await store.sync(id, remote, signal)).after;
    } catch (err) {
      if (err instanceof AppError && err.code === 'GIT_BRANCH_NOT_FOUND') return null;
      throw err;
    }
  }

  async function contentAt(id: string, commit: string | null, file: string): Promise<string> {
    if (!commit) return '';
    const dir = store.dirOf(id);
    const out = await git.text(['ls-tree', '-z', '--full-tree', '--end-of-options', commit, '--', file], { gitDir: dir });
    const blob = out
      .split('\0')
      .find((r) => r.slice(r.indexOf('\t') + 1) === file && r.split(/\s+/)[1] === 'blob')
      ?.split(/\s+/)[2];
    return blob ? (await git.run(['cat-file', 'blob', blob], { gitDir: dir })).toString('utf8') : '';
  }

  async function commitTree(id: string, parent: string | null, file: string, content: string, message: string): Promise<string> {
    const gitDir = store.dirOf(id);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'opsdeck-index-'));
    try {
      const env = { ...IDENTITY, GIT_INDEX_FILE: path.join(tmp, 'index') };
      const blob = (await git.text(['hash-object', '-w', '--stdin'], { gitDir, input: content })).trim();
      await git.run(parent ? ['read-tree', '--end-of-options', parent] : ['read-tree', '--empty'], { gitDir, env });
      await git.run(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], { gitDir, env });
      const tree = (await git.text(['write-tree'], { gitDir, env })).trim();
      return (await git.text(['commit-tree', tree, ...(parent ? ['-p', parent] : [])], { gitDir, env, input: message })).trim();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  return {
    /** Writes `content` to `file` on the remote's branch unless it is already there; one commit, pushed. */
    writeFile(id: string, remote: Remote, file: string, content: string, message: string, signal?: AbortSignal): Promise<WrittenFile> {
      return serial(id, async () => {
        for (let attempt = 1; ; attempt++) {
          const parent = await fetchHead(id, remote, signal);
          const previous = await contentAt(id, parent, file);
          if (parent && previous === content) return { parent, commit: null, previous };
          const commit = await commitTree(id, parent, file, content, message);
          try {
            await git.run(['push', '--', remote.url, `${commit}:refs/heads/${remote.branch}`], {
              gitDir: store.dirOf(id),
              auth: remote.auth,
              tls: remote.tls,
              ...(signal ? { signal } : {}),
            });
          } catch (err) {
            if (rejected(err) && attempt < ATTEMPTS) continue;
            if (err instanceof GitCommandError) {
              throw new UpstreamError(err.kind === 'auth' ? 'GIT_AUTH_FAILED' : 'GIT_PUSH_FAILED', `push failed: ${err.message}`);
            }
            throw err;
          }
          // The remote took it; the mirror follows unless another worker moved it meanwhile (its next fetch catches up).
          await git
            .run(['update-ref', `refs/heads/${remote.branch}`, commit, parent ?? ''], { gitDir: store.dirOf(id) })
            .catch(() => fetchHead(id, remote, signal));
          return { parent, commit, previous };
        }
      });
    },
  };
}

export type GitWriter = ReturnType<typeof createGitWriter>;
