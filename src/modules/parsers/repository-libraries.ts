import { createHash } from 'node:crypto';
import type { Cache } from '../../platform/cache/index.js';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { ValidationError } from '../../platform/errors.js';
import { capWarnings, type FeedReport, type FeedSnapshot, type FeedSource, type RepositoryFeed } from '../../platform/repository-feed.js';
import { createLibrariesRepository, type LibrariesRepository, type LibraryRow, type SkippedTemplate } from './libraries.repository.js';
import { isSafeTemplateName } from './template-library.js';
import { findIndexRow, parseIndex, type TemplateIndex } from './textfsm/clitable.fns.js';
import { TemplateError } from './textfsm/textfsm.errors.js';

/**
 * TextFSM libraries fed by Git repositories of category `textfsm` (laid out like ntc-templates:
 * `templates/index` and the template files beside it, or `index` at the registration's path).
 * A sync compiles every template (`check`, in the parse workers), stores the index and the
 * templates that compiled in the database, and skips and reports the others. Every node loads a
 * library from the database when the cached manifest (tag `parsers:libraries`, invalidated after
 * each change on every node) names a version it has not loaded, and swaps it in whole: a parse
 * already resolved keeps the texts it took.
 */
export interface RepositoryLibrariesDeps {
  db: Db;
  cache?: Pick<Cache, 'wrap' | 'invalidateTag'>;
  /** Compiles templates; answers the ones that failed (parse workers, parsers.service.ts). */
  check(templates: { name: string; content: string }[]): Promise<SkippedTemplate[]>;
  onError?: (err: unknown) => void;
  clock?: () => number;
}

export interface LoadedLibrary {
  id: string;
  name: string;
  commit: string;
  updatedAt: string;
  index: TemplateIndex;
  files: ReadonlyMap<string, string>;
}

/** The library a template came from, as parse results name it. */
export interface LibraryRef {
  id: string;
  name: string;
  commit: string;
}

const CACHE_KEY = 'parsers:libraries';
const CACHE_TAG = 'parsers:libraries';
// NOTE: invalidation keeps nodes current; the TTL only bounds staleness if a message is lost.
const CACHE_TTL_MS = 60_000;
const MAX_TEMPLATE_BYTES = 256 * 1024;
const CHECK_BATCH = 40;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
export const refOf = (l: LoadedLibrary): LibraryRef => ({ id: l.id, name: l.name, commit: l.commit });

/** Where the index is: `templates/index` (the ntc-templates layout) or `index`. */
function layoutOf(snapshot: FeedSnapshot): { base: string } | null {
  const paths = new Set(snapshot.files.map((f) => f.path));
  if (paths.has('templates/index')) return { base: 'templates/' };
  if (paths.has('index')) return { base: '' };
  return null;
}

export function createRepositoryLibraries(deps: RepositoryLibrariesDeps) {
  const repo = createLibrariesRepository(deps.db);
  const clock = deps.clock ?? Date.now;
  const uow = createUnitOfWork<LibrariesRepository>(deps.db, (trx) => createLibrariesRepository(trx), deps.onError ?? (() => undefined));
  const loaded = new Map<string, Promise<LoadedLibrary | null>>();
  const loadedAt = new Map<string, string>();

  const manifest = (): Promise<LibraryRow[]> =>
    deps.cache ? deps.cache.wrap(CACHE_KEY, { tags: [CACHE_TAG], ttlMs: CACHE_TTL_MS }, () => repo.all()) : repo.all();
  const invalidate = async (): Promise<void> => {
    await deps.cache?.invalidateTag(CACHE_TAG);
  };

  async function load(row: LibraryRow): Promise<LoadedLibrary | null> {
    const contents = await repo.contents(row.id);
    if (contents === null) return null;
    const files = new Map(contents.files.map((f) => [f.name, f.content]));
    const parsed = parseIndex(contents.indexText, `${row.name}/index`);
    // Rows naming a template that was skipped are left out, so the lookup falls through to the next library.
    const index: TemplateIndex = { header: parsed.header, rows: parsed.rows.filter((r) => r.templates.every((t) => files.has(t))) };
    return { id: row.id, name: row.name, commit: row.commitSha, updatedAt: row.updatedAt, index, files };
  }

  /** The libraries in lookup order, each loaded once per stored version and swapped in whole. */
  async function current(): Promise<LoadedLibrary[]> {
    const rows = await manifest();
    const wanted = new Set(rows.map((r) => r.id));
    for (const id of [...loaded.keys()]) {
      if (!wanted.has(id)) {
        loaded.delete(id);
        loadedAt.delete(id);
      }
    }
    const out: LoadedLibrary[] = [];
    for (const row of rows) {
      let lib = loaded.get(row.id);
      if (lib === undefined || loadedAt.get(row.id) !== row.updatedAt) {
        lib = load(row);
        // A failed load is not kept: the next parse tries again.
        lib.catch(() => loaded.delete(row.id));
        loaded.set(row.id, lib);
        loadedAt.set(row.id, row.updatedAt);
      }
      const value = await lib.catch((err: unknown) => {
        deps.onError?.(err);
        return null;
      });
      if (value) out.push(value);
    }
    return out;
  }

  /** Reads the library files of a snapshot: the index, and every template it names or that ends in .textfsm. */
  async function readSnapshot(source: FeedSource, snapshot: FeedSnapshot) {
    const layout = layoutOf(snapshot);
    if (layout === null) {
      throw new ValidationError(
        'PARSER_LIBRARY_INVALID',
        `Repository '${source.name}' has no TextFSM index (templates/index or index) at ${snapshot.commit.slice(0, 12)}`,
      );
    }
    const skipped: SkippedTemplate[] = [];
    const skip = (template: string, message: string) => skipped.push({ template, line: null, message });
    const indexText = (await snapshot.read([`${layout.base}index`])).get(`${layout.base}index`)?.toString('utf8') ?? '';
    let index: TemplateIndex;
    try {
      index = parseIndex(indexText, `${source.name}/${layout.base}index`);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      throw new ValidationError('PARSER_INDEX_INVALID', `${layout.base}index: ${err.message}`);
    }
    const inBase = new Map(
      snapshot.files
        .filter((f) => f.path.startsWith(layout.base) && !f.path.slice(layout.base.length).includes('/'))
        .map((f) => [f.path.slice(layout.base.length), f.size]),
    );
    const named = new Set(index.rows.flatMap((r) => r.templates));
    const wanted: string[] = [];
    for (const name of new Set([...named, ...[...inBase.keys()].filter((n) => n.endsWith('.textfsm'))])) {
      const size = inBase.get(name);
      if (!isSafeTemplateName(name)) skip(name, 'not a plain file name');
      else if (size === undefined) skip(name, 'named in the index but not in the repository; its index rows are left out');
      else if (size > MAX_TEMPLATE_BYTES) skip(name, `${size} bytes, over the ${MAX_TEMPLATE_BYTES} a template may have`);
      else wanted.push(name);
    }
    const texts = await snapshot.read(wanted.map((n) => `${layout.base}${n}`));
    const templates = wanted.map((name) => ({ name, content: texts.get(`${layout.base}${name}`)?.toString('utf8') ?? '' }));
    return { indexText, templates, skipped };
  }

  async function checkAll(templates: { name: string; content: string }[]): Promise<SkippedTemplate[]> {
    const skipped: SkippedTemplate[] = [];
    for (let i = 0; i < templates.length; i += CHECK_BATCH) skipped.push(...(await deps.check(templates.slice(i, i + CHECK_BATCH))));
    return skipped;
  }

  const feed: RepositoryFeed = {
    async synced(source, snapshot): Promise<FeedReport> {
      const existing = await repo.byId(source.id);
      const describe = (templates: number, skipped: SkippedTemplate[]) => ({
        summary: `TextFSM library '${source.name}' at ${snapshot.commit.slice(0, 12)}: ${templates} templates loaded, ${skipped.length} skipped`,
        warnings: capWarnings(skipped.map((s) => `template '${s.template}'${s.line === null ? '' : ` line ${s.line}`}: ${s.message}`)),
      });
      if (existing && existing.commitSha === snapshot.commit && existing.sourcePath === source.path && existing.name === source.name) {
        return describe(existing.templates, existing.skipped);
      }
      const read = await readSnapshot(source, snapshot);
      const { indexText, templates } = read;
      const failed = await checkAll(templates);
      const broken = new Set(failed.map((f) => f.template));
      const good = templates.filter((t) => !broken.has(t.name));
      const skipped = [...read.skipped, ...failed];
      const now = new Date(clock()).toISOString();
      await uow(async (r, tx) => {
        const stored = await r.hashes(source.id);
        const next = good.map((t) => ({ name: t.name, content: t.content, contentHash: sha256(t.content) }));
        const keep = new Set(next.map((f) => f.name));
        const changed = next.filter((f) => stored.get(f.name) !== f.contentHash);
        const gone = [...stored.keys()].filter((n) => !keep.has(n) || changed.some((c) => c.name === n));
        await r.upsert(
          {
            id: source.id,
            name: source.name,
            commitSha: snapshot.commit,
            sourcePath: source.path,
            indexText,
            templates: good.length,
            skipped,
            createdAt: existing?.createdAt ?? now,
            updatedAt: now,
          },
          existing !== null,
        );
        await r.deleteFiles(source.id, gone);
        await r.insertFiles(source.id, changed);
        tx.afterCommit(invalidate);
      });
      return describe(good.length, skipped);
    },

    async removed(repositoryId) {
      await uow(async (r, tx) => {
        if (await r.remove(repositoryId)) tx.afterCommit(invalidate);
      });
    },
  };

  return {
    feed,
    current,
    /** Stored libraries in lookup order (for the API). */
    list: (): Promise<LibraryRow[]> => manifest(),

    async lookup(attributes: {
      platform: string;
      command: string;
    }): Promise<{ library: LoadedLibrary; templates: { name: string; content: string }[] } | null> {
      for (const library of await current()) {
        const row = findIndexRow(library.index, { Platform: attributes.platform, Command: attributes.command });
        if (row) return { library, templates: row.templates.map((name) => ({ name, content: library.files.get(name)! })) };
      }
      return null;
    },

    /** A template by file name from the first library holding it (or from `only`). */
    async read(name: string, only?: string): Promise<{ library: LoadedLibrary; content: string } | null> {
      for (const library of await current()) {
        if (only !== undefined && library.id !== only) continue;
        const content = library.files.get(name);
        if (content !== undefined) return { library, content };
      }
      return null;
    },
  };
}
export type RepositoryLibraries = ReturnType<typeof createRepositoryLibraries>;
