import path from 'node:path';
import type { Db } from '../../platform/db/database.js';
import { createUnitOfWork } from '../../platform/db/unit-of-work.js';
import { SYSTEM_ACTOR, type Actor } from '../../platform/http/auth.js';
import { newId, nowIso } from '../../platform/ids.js';
import { capWarnings, type FeedReport, type RepositoryFeed } from '../../platform/repository-feed.js';
import { createJinja, PRODUCT_OPTIONS, TemplateError } from './engine/index.js';
import { createTemplatesRepository, type TemplateRow, type TemplatesRepository } from './templates.repository.js';
import { MAX_CONTENT, type TEMPLATE_TYPES } from './templates.schemas.js';
import { newVersion, type AuditPort } from './templates.service.js';

/**
 * The `templates` repository feed: after a sync, every template file under the repository's path
 * becomes a template named `<repository name>/<path>` with `source: 'git'`. A content change is a
 * new version authored by the sync; a file gone from Git deactivates its template; a file that
 * does not parse is reported and its template keeps its last good version. Names taken by
 * another active template are reported and left alone. Writes act as the system (the repository's
 * registration, `git:write`, is what allowed them), audited with the repository and commit.
 */
export const TYPE_BY_EXTENSION: Readonly<Record<string, TemplateType>> = {
  '.j2': 'jinja2',
  '.jinja2': 'jinja2',
  '.jinja': 'jinja2',
  '.txt': 'text',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
  '.textfsm': 'textfsm',
};
const NAME = /^[A-Za-z0-9_.-][A-Za-z0-9_. -]*(\/[A-Za-z0-9_.-][A-Za-z0-9_. -]*)*$/;
type TemplateType = (typeof TEMPLATE_TYPES)[number];
export const GIT_SYNC_ACTOR: Actor = Object.freeze({ ...SYSTEM_ACTOR, name: 'git sync' });

interface Tx {
  templates: TemplatesRepository;
  db: Db;
}

interface Prepared {
  path: string;
  name: string;
  type: TemplateType;
  content: string;
  /** Why the content is not usable (a syntax error); the template keeps its last good version. */
  broken: string | null;
}

export function createTemplatesGitFeed(deps: { db: Db; audit?: AuditPort; onError?: (err: unknown) => void; clock?: () => number }): RepositoryFeed {
  const jinja = createJinja(PRODUCT_OPTIONS);
  const clock = deps.clock ?? Date.now;
  const uow = createUnitOfWork<Tx>(deps.db, (trx) => ({ templates: createTemplatesRepository(trx), db: trx }), deps.onError ?? (() => undefined));
  const audited = async (t: Tx, action: string, id: string, changes: Record<string, unknown>): Promise<void> => {
    await deps.audit?.record(t.db, { actor: GIT_SYNC_ACTOR, action, resourceType: 'config_template', resourceId: id, outcome: 'success', changes });
  };

  function syntaxError(content: string): string | null {
    try {
      jinja.parse(content);
      return null;
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      return `line ${err.lineno ?? '?'}${err.column ? `, column ${err.column}` : ''}: ${err.message}`;
    }
  }

  /** Deactivates `rows`; answers how many were active. */
  async function deactivate(t: Tx, rows: TemplateRow[], why: Record<string, unknown>, now: string): Promise<number> {
    let n = 0;
    for (const row of rows.filter((r) => r.active)) {
      await t.templates.update(row.id, { active: false, updatedAt: now });
      await audited(t, 'config_template.updated', row.id, { fields: ['active'], active: false, ...why });
      n++;
    }
    return n;
  }

  return {
    async synced(source, snapshot): Promise<FeedReport> {
      const warnings: string[] = [];
      const commit12 = snapshot.commit.slice(0, 12);
      const candidates = snapshot.files.filter((f) => TYPE_BY_EXTENSION[path.posix.extname(f.path).toLowerCase()] !== undefined);
      const readable = candidates.filter((f) => {
        const name = `${source.name}/${f.path}`;
        if (f.size > MAX_CONTENT) warnings.push(`${f.path}: ${f.size} bytes, over the ${MAX_CONTENT} a template may have; skipped`);
        else if (name.length > 255 || !NAME.test(name)) warnings.push(`${f.path}: '${name}' is not a valid template name; skipped`);
        else return true;
        return false;
      });
      const texts = await snapshot.read(readable.map((f) => f.path));
      const prepared: Prepared[] = [];
      for (const f of readable) {
        const content = texts.get(f.path)?.toString('utf8') ?? '';
        if (content.includes('\uFFFD') || content.includes('\u0000')) {
          warnings.push(`${f.path}: not UTF-8 text; skipped`);
          continue;
        }
        const type = TYPE_BY_EXTENSION[path.posix.extname(f.path).toLowerCase()]!;
        const broken = type === 'jinja2' ? syntaxError(content) : null;
        if (broken) warnings.push(`${f.path}: syntax error, ${broken}; the template keeps its last good version`);
        prepared.push({ path: f.path, name: `${source.name}/${f.path}`, type, content, broken });
      }
      const counts = { created: 0, updated: 0, deactivated: 0 };
      const now = nowIso(clock);
      const notes = `Synced from repository '${source.name}' at ${commit12}`;
      const why = { repository_id: source.id, commit: snapshot.commit };
      await uow(async (t) => {
        const existing = new Map((await t.templates.bySourceRepository(source.id)).map((r) => [r.sourcePath ?? '', r]));
        for (const p of prepared) {
          const current = existing.get(p.path);
          existing.delete(p.path);
          if (p.broken) continue;
          const holder = await t.templates.activeByName(p.name);
          if (holder !== null && holder.id !== current?.id) {
            warnings.push(`${p.path}: an active template named '${p.name}' exists (${holder.source}); skipped`);
            continue;
          }
          if (current === undefined) {
            const row: TemplateRow = {
              id: newId(),
              name: p.name,
              source: 'git',
              sourcePath: p.path,
              sourceRepositoryId: source.id,
              sourceCommit: snapshot.commit,
              type: p.type,
              category: null,
              description: null,
              tags: [],
              variablesSchema: null,
              active: true,
              content: p.content,
              version: 1,
              createdAt: now,
              updatedAt: now,
            };
            await t.templates.insert(row);
            await t.templates.insertVersion(newVersion(row.id, 1, p.content, GIT_SYNC_ACTOR, notes, now));
            await audited(t, 'config_template.created', row.id, { name: row.name, type: row.type, version: 1, ...why });
            counts.created++;
            continue;
          }
          const contentChanged = current.content !== p.content;
          if (!contentChanged && current.active && current.name === p.name && current.type === p.type) continue;
          const version = contentChanged ? current.version + 1 : current.version;
          if (contentChanged) await t.templates.insertVersion(newVersion(current.id, version, p.content, GIT_SYNC_ACTOR, notes, now));
          await t.templates.update(current.id, {
            name: p.name,
            type: p.type,
            content: p.content,
            version,
            active: true,
            ...(contentChanged ? { sourceCommit: snapshot.commit } : {}),
            updatedAt: now,
          });
          await audited(t, 'config_template.updated', current.id, { version, content_changed: contentChanged, ...why });
          counts.updated++;
        }
        counts.deactivated = await deactivate(t, [...existing.values()], why, now);
      });
      const skipped = warnings.length;
      return {
        summary: `Templates from '${source.name}' at ${commit12}: ${counts.created} created, ${counts.updated} updated, ${counts.deactivated} deactivated, ${skipped} skipped`,
        warnings: capWarnings(warnings),
      };
    },

    async removed(repositoryId) {
      await uow(
        async (t) =>
          void (await deactivate(
            t,
            await t.templates.bySourceRepository(repositoryId),
            { repository_id: repositoryId, reason: 'repository removed or deactivated' },
            nowIso(clock),
          )),
      );
    },
  };
}
