import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, UpstreamError, ValidationError } from '../../platform/errors.js';
import { GitCommandError, type Git, type GitAuth, type GitTls } from './git.js';
import { checkRef } from './git-url.fns.js';
import { parseGitDiff, type DiffFile } from './diff.fns.js';

/** What reaching a remote needs; the URL was checked when the repository was saved. */
export interface Remote {
  url: string;
  branch: string;
  auth: GitAuth | null;
  tls: GitTls;
}

export interface CommitInfo {
  sha: string;
  author_name: string;
  author_email: string;
  committed_at: string;
  message: string;
}

export interface TreeEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'submodule';
  size: number | null;
  blob: string;
}

export interface RawChange {
  status: 'added' | 'modified' | 'deleted' | 'renamed';
  path: string;
  old_path: string | null;
  blob: string;
}

const SEP = '\x1f';
const REC = '\x1e';
const LOG_FORMAT = `--format=${REC}%H${SEP}%an${SEP}%ae${SEP}%cI${SEP}%s`;
const NULL_SHA = /^0+$/;

function parseCommit(line: string): CommitInfo {
  const [sha, name, email, date, message] = line.split(SEP);
  return {
    sha: sha!,
    author_name: name ?? '',
    author_email: email ?? '',
    committed_at: new Date(date!).toISOString(),
    message: (message ?? '').slice(0, 2000),
  };
}

/** `:100644 100644 <old> <new> M\0path\0` records of `git log --raw -z`. */
function parseRaw(fields: string[]): RawChange[] {
  const out: RawChange[] = [];
  for (let i = 0; i < fields.length; ) {
    const meta = fields[i++]!;
    if (!meta.startsWith(':')) continue;
    const [, , , newBlob, statusRaw] = meta.slice(1).split(' ');
    const code = statusRaw?.[0];
    if (code === 'R' || code === 'C') {
      const from = fields[i++]!;
      const to = fields[i++]!;
      out.push({ status: code === 'R' ? 'renamed' : 'added', path: to, old_path: code === 'R' ? from : null, blob: newBlob! });
    } else {
      const p = fields[i++]!;
      out.push({ status: code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified', path: p, old_path: null, blob: newBlob! });
    }
  }
  return out;
}

/** Records of `git log <LOG_FORMAT> --raw -z`: `\x1e<header>\0\n:<raw>\0<path>\0…`. */
function parseLogRaw(out: string): (CommitInfo & { changes: RawChange[] })[] {
  return out
    .split(REC)
    .filter((r) => r.length > 0)
    .map((rec) => {
      const [head, ...fields] = rec.split('\0');
      return { ...parseCommit(head!.trim()), changes: parseRaw(fields.map((f) => f.replace(/^\n/, ''))) };
    });
}

function upstream(err: unknown, what: string): never {
  if (err instanceof GitCommandError) {
    if (err.kind === 'auth') throw new UpstreamError('GIT_AUTH_FAILED', `${what}: the remote refused the credentials (${err.message})`);
    if (err.kind === 'not_found') throw new UpstreamError('GIT_REMOTE_NOT_FOUND', `${what}: ${err.message}`);
    if (err.kind === 'timeout') throw new UpstreamError('GIT_TIMEOUT', `${what}: ${err.message}`);
    if (err.kind === 'too_large') throw new UpstreamError('GIT_TOO_LARGE', `${what}: ${err.message}`);
    throw new UpstreamError('GIT_FAILED', `${what}: ${err.message}`);
  }
  throw err;
}

/**
 * Bare mirrors of registered repositories under one directory (`<root>/<id>.git`), and the
 * read operations on them. Nothing is ever checked out: files are read from the object
 * database, so no path a repository contains can point outside it.
 */
export function createGitStore(deps: { git: Git; rootDir: string; maxRepoBytes: number }) {
  const { git } = deps;
  const dirOf = (id: string) => path.join(deps.rootDir, `${id}.git`);

  async function exists(id: string): Promise<boolean> {
    return stat(path.join(dirOf(id), 'HEAD')).then(
      () => true,
      () => false,
    );
  }

  async function packBytes(id: string): Promise<number> {
    const out = await git.text(['count-objects', '-v'], { gitDir: dirOf(id) });
    const kib = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
    return (kib('size') + kib('size-pack')) * 1024;
  }

  const store = {
    dirOf,
    exists,

    /** Branches of the remote (`git ls-remote --heads`): the connection test. */
    async remoteBranches(remote: Remote): Promise<{ name: string; commit: string }[]> {
      const out = await git
        .text(['ls-remote', '--heads', '--end-of-options', remote.url], { auth: remote.auth, tls: remote.tls })
        .catch((e: unknown) => upstream(e, 'connection test failed'));
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .map(([commit, ref]) => ({ name: ref!.replace(/^refs\/heads\//, ''), commit: commit! }));
    },

    /** Fetches every branch into the mirror (created on first use); answers the branch head before and after. */
    async sync(id: string, remote: Remote, signal?: AbortSignal): Promise<{ before: string | null; after: string }> {
      const dir = dirOf(id);
      if (!(await exists(id))) {
        await mkdir(deps.rootDir, { recursive: true, mode: 0o700 });
        await git.run(['init', '-q', '--bare', '--', dir]);
      }
      const before = await store.resolve(id, remote.branch).catch(() => null);
      try {
        await git.run(['fetch', '--prune', '--no-tags', '--no-recurse-submodules', '--', remote.url, '+refs/heads/*:refs/heads/*'], {
          gitDir: dir,
          auth: remote.auth,
          tls: remote.tls,
          ...(signal ? { signal } : {}),
        });
      } catch (e) {
        upstream(e, 'fetch failed');
      }
      const bytes = await packBytes(id);
      if (bytes > deps.maxRepoBytes) {
        await rm(dir, { recursive: true, force: true });
        throw new UpstreamError(
          'GIT_TOO_LARGE',
          `the repository takes ${Math.ceil(bytes / 1048576)} MiB, over the limit of ${Math.floor(deps.maxRepoBytes / 1048576)} MiB (OPSDECK_GIT_MAX_REPO_MB)`,
        );
      }
      const after = await store.resolve(id, remote.branch).catch(() => {
        throw new UpstreamError('GIT_BRANCH_NOT_FOUND', `the remote has no branch '${remote.branch}'`);
      });
      return { before, after };
    },

    async remove(id: string): Promise<void> {
      await rm(dirOf(id), { recursive: true, force: true });
    },

    /** A checked ref to a full commit id; unknown → 404 naming the field. */
    async resolve(id: string, ref: string, field = 'query.ref'): Promise<string> {
      const bad = checkRef(ref);
      if (bad) throw new ValidationError('GIT_REF_INVALID', `ref ${bad}`, [{ path: field, message: bad }]);
      if (!(await exists(id))) throw new NotFoundError('GIT_NOT_SYNCED', 'The repository has not been synced yet');
      try {
        return (await git.text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { gitDir: dirOf(id) })).trim();
      } catch {
        throw new NotFoundError('GIT_REF_NOT_FOUND', `No commit '${ref}' in the repository`);
      }
    },

    async branches(id: string): Promise<{ name: string; commit: string }[]> {
      if (!(await exists(id))) return [];
      const out = await git.text(['for-each-ref', '--format=%(refname:short)%09%(objectname)', 'refs/heads/'], { gitDir: dirOf(id) });
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .map(([name, commit]) => ({ name: name!, commit: commit! }));
    },

    /** Commits reachable from `commit`, newest first, filtered as asked; `skip` pages. */
    async log(
      id: string,
      commit: string,
      q: { path?: string; author?: string; since?: string; until?: string; skip: number; limit: number; follow?: boolean },
    ): Promise<CommitInfo[]> {
      const args = ['-c', 'core.quotePath=false', 'log', LOG_FORMAT, `--skip=${q.skip}`, `--max-count=${q.limit}`, '--fixed-strings'];
      if (q.author) args.push(`--author=${q.author}`);
      if (q.since) args.push(`--since=${q.since}`);
      if (q.until) args.push(`--until=${q.until}`);
      if (q.follow) args.push('--follow');
      args.push('--end-of-options', commit, '--');
      if (q.path) args.push(q.path);
      const out = await git.text(args, { gitDir: dirOf(id) });
      return out
        .split(REC)
        .filter((r) => r.trim())
        .map((r) => parseCommit(r.trim()));
    },

    /** History of one file following renames: each commit with the path the file had then. */
    async history(id: string, commit: string, file: string, limit: number): Promise<(CommitInfo & { path: string; status: RawChange['status'] })[]> {
      const out = await git.text(
        ['log', LOG_FORMAT, '--follow', '-M', '--raw', '--no-abbrev', '-z', `--max-count=${limit}`, '--end-of-options', commit, '--', file],
        { gitDir: dirOf(id) },
      );
      return parseLogRaw(out).map(({ changes, ...c }) => ({ ...c, path: changes[0]?.path ?? file, status: changes[0]?.status ?? 'modified' }));
    },

    /** Files under `dir` at a commit (recursive), with sizes. */
    async tree(id: string, commit: string, dir: string): Promise<TreeEntry[]> {
      // NOTE: `ls-tree <commit> --` with no path after `--` lists nothing (git 2.39): the whole tree takes no `--`.
      const out = await git.text(['ls-tree', '-r', '-l', '-z', '--full-tree', '--end-of-options', commit, ...(dir ? ['--', dir] : [])], { gitDir: dirOf(id) });
      return out
        .split('\0')
        .filter(Boolean)
        .map((rec) => {
          const tab = rec.indexOf('\t');
          const [mode, type, blob, size] = rec.slice(0, tab).split(/\s+/);
          const kind: TreeEntry['type'] = type === 'commit' ? 'submodule' : mode === '120000' ? 'symlink' : 'file';
          return { path: rec.slice(tab + 1), type: kind, size: size === '-' ? null : Number(size), blob: blob! };
        });
    },

    /** A regular file's content at a commit; symlinks, submodules and directories are refused. */
    async readFile(id: string, commit: string, file: string, maxBytes: number): Promise<{ content: Buffer; blob: string; size: number }> {
      const entries = await git.text(['ls-tree', '-l', '-z', '--full-tree', '--end-of-options', commit, '--', file], { gitDir: dirOf(id) });
      const rec = entries.split('\0').find((r) => r.slice(r.indexOf('\t') + 1) === file);
      if (!rec) throw new NotFoundError('GIT_FILE_NOT_FOUND', `No file '${file}' at ${commit.slice(0, 12)}`);
      const [mode, type, blob, size] = rec.slice(0, rec.indexOf('\t')).split(/\s+/);
      if (type !== 'blob') throw new NotFoundError('GIT_FILE_NOT_FOUND', `'${file}' is a ${type === 'tree' ? 'directory' : 'submodule'}, not a file`);
      if (mode === '120000') {
        throw new ValidationError('GIT_SYMLINK_REFUSED', `'${file}' is a symbolic link; links are not followed`, [
          { path: 'params.path', message: 'is a symbolic link' },
        ]);
      }
      if (Number(size) > maxBytes) {
        throw new ValidationError('GIT_FILE_TOO_LARGE', `'${file}' has ${size} bytes, over the ${maxBytes} served`, [
          { path: 'params.path', message: 'file too large' },
        ]);
      }
      const content = await git.run(['cat-file', 'blob', blob!], { gitDir: dirOf(id), maxOutputBytes: maxBytes + 1 });
      return { content, blob: blob!, size: Number(size) };
    },

    /** Unified diff text between two commits (optionally one path), and its structured form. */
    async diff(id: string, from: string, to: string, file?: string): Promise<{ unified: string; files: DiffFile[] }> {
      const unified = await git
        .text(['diff', '--no-color', '--no-ext-diff', '--no-textconv', '-M', '--end-of-options', from, to, '--', ...(file ? [file] : [])], {
          gitDir: dirOf(id),
        })
        .catch((e: unknown) => upstream(e, 'diff failed'));
      return { unified, files: parseGitDiff(unified) };
    },

    /** Commits after `since` (exclusive; all when null) up to `head`, oldest first, with their file changes. */
    async changesSince(id: string, since: string | null, head: string): Promise<(CommitInfo & { changes: RawChange[] })[]> {
      const range = since && !NULL_SHA.test(since) ? `${since}..${head}` : head;
      const out = await git.text(['log', '--reverse', LOG_FORMAT, '-M', '--raw', '--no-abbrev', '-z', '--no-merges', '--end-of-options', range, '--'], {
        gitDir: dirOf(id),
        maxOutputBytes: 512 * 1024 * 1024,
      });
      return parseLogRaw(out);
    },

    /** A blob's bytes by id (a version's content hash). */
    async readBlob(id: string, blob: string, maxBytes: number): Promise<Buffer> {
      if (!/^[0-9a-f]{40,64}$/.test(blob)) throw new NotFoundError('GIT_OBJECT_NOT_FOUND', 'No such content');
      return git.run(['cat-file', 'blob', blob], { gitDir: dirOf(id), maxOutputBytes: maxBytes }).catch(() => {
        throw new NotFoundError('GIT_OBJECT_NOT_FOUND', `Content ${blob.slice(0, 12)} is not in the mirror (sync the repository)`);
      });
    },

    /** Many blobs at once (`cat-file --batch`): id → bytes; missing ones are left out. */
    async readBlobs(id: string, blobs: readonly string[], maxTotalBytes: number): Promise<Map<string, Buffer>> {
      const out = new Map<string, Buffer>();
      const wanted = [...new Set(blobs.filter((b) => /^[0-9a-f]{40,64}$/.test(b)))];
      if (wanted.length === 0) return out;
      const buf = await git.run(['cat-file', '--batch'], { gitDir: dirOf(id), input: `${wanted.join('\n')}\n`, maxOutputBytes: maxTotalBytes });
      let pos = 0;
      while (pos < buf.length) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) break;
        const [sha, type, size] = buf.subarray(pos, nl).toString('latin1').split(' ');
        if (type === 'missing' || size === undefined) {
          pos = nl + 1;
          continue;
        }
        const n = Number(size);
        out.set(sha!, buf.subarray(nl + 1, nl + 1 + n));
        pos = nl + 1 + n + 1;
      }
      return out;
    },

    /** Commits only in `a` and only in `b`; null when `b` is not fetched yet. */
    async aheadBehind(id: string, a: string, b: string): Promise<{ ahead: number; behind: number } | null> {
      if (!/^[0-9a-f]{40,64}$/.test(a) || !/^[0-9a-f]{40,64}$/.test(b)) return null;
      try {
        const [ahead, behind] = (await git.text(['rev-list', '--left-right', '--count', `${a}...${b}`, '--'], { gitDir: dirOf(id) }))
          .trim()
          .split(/\s+/)
          .map(Number);
        return { ahead: ahead ?? 0, behind: behind ?? 0 };
      } catch {
        return null;
      }
    },

    /** Sizes of blobs, in one `cat-file --batch-check`. */
    async blobSizes(id: string, blobs: string[]): Promise<Map<string, number>> {
      const sizes = new Map<string, number>();
      const wanted = [...new Set(blobs.filter((b) => !NULL_SHA.test(b)))];
      if (wanted.length === 0) return sizes;
      const out = await git.text(['cat-file', '--batch-check=%(objectname) %(objectsize)'], {
        gitDir: dirOf(id),
        input: `${wanted.join('\n')}\n`,
        maxOutputBytes: 256 * 1024 * 1024,
      });
      for (const line of out.split('\n')) {
        const [sha, size] = line.split(' ');
        if (sha && size && size !== 'missing') sizes.set(sha, Number(size));
      }
      return sizes;
    },
  };
  return store;
}

export type GitStore = ReturnType<typeof createGitStore>;
