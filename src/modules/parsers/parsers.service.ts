import { Type, type TSchema } from 'typebox';
import { AppError, BadRequestError, NotFoundError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.js';
import type { CustomTemplate, CustomTemplateStore } from './custom-template.store.js';
import { createMemoryCustomTemplateStore } from './custom-template.store.js';
import { runParseJob, type ParsedRecord, type ParseJob } from './parse-job.fns.js';
import { createParseWorkerPool, type ParseWorkerPool } from './parse-worker-pool.js';
import { createParserRegistry, type NativeParser } from './parser-registry.js';
import { createTemplateLibrary, isSafeTemplateName } from './template-library.js';
import type { SkippedTemplate } from './libraries.repository.js';
import { refOf, type LibraryRef, type RepositoryLibraries } from './repository-libraries.js';
import { expandCompletion, noTemplateError } from './textfsm/clitable.fns.js';
import { compilePyRegex, isAsciiText, type PyRegex } from './textfsm/py-regex.fns.js';
import { createTemplateCache } from './textfsm/template-cache.js';
import { readValueHeader } from './textfsm/template-values.fns.js';
import { TemplateNotFoundError } from './textfsm/textfsm.errors.js';
import { vendorParsers } from './vendor/index.js';

/**
 * Parsing CLI output into records, and the parser registry. Every method takes the actor and
 * requires `parsers:read` (the CLI passes the system actor). Custom templates are read through
 * a store (the database-backed one in custom-templates.service.ts). See README.md for the lookup
 * order and invariants.
 */
export interface ParsersServiceDeps {
  /** Template library directories (ntc-templates layout), searched in order. */
  libraryDirs: readonly string[];
  customTemplates?: CustomTemplateStore;
  /** Largest accepted output, in UTF-8 bytes. */
  maxInputBytes?: number;
  /** Time budget per parse. */
  timeoutMs?: number;
  /** Worker threads; 0 parses in process (no time budget: for the CLI and benchmarks). */
  workers?: number;
  nativeParsers?: readonly NativeParser[];
  /** Libraries fed by `textfsm` Git repositories: searched after native parsers, before the directories. */
  repositoryLibraries?: Pick<RepositoryLibraries, 'lookup' | 'read' | 'current' | 'list'>;
}

export type ParseInput = { output: string } & (
  | { platform: string; command: string; template?: undefined; parser?: undefined }
  | { template: string; platform?: undefined; command?: undefined; parser?: undefined }
  | { parser: string; platform?: undefined; command?: undefined; template?: undefined }
);

export interface ParseResult {
  /** Template file(s) used, `a.textfsm:b.textfsm` for merged rows; null for native parsers. */
  template: string | null;
  /** Parser id: `textfsm:<template>` or a native parser's id. */
  parser: string;
  records: ParsedRecord[];
  /** The repository library the template came from; absent for user templates, native parsers and library directories. */
  library?: LibraryRef;
}

export interface ParserSummary {
  id: string;
  kind: 'native' | 'textfsm' | 'custom';
  description: string | null;
  commands: { platform: string; command: string }[];
}

export interface ParserDetail extends ParserSummary {
  /** JSON Schema of the records; null when the template cannot be read. */
  schema: TSchema | null;
}

export interface ListPage<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ListQuery {
  platform?: string;
  limit?: number;
  cursor?: string;
}

export interface TemplateSummary {
  name: string;
  source: 'custom' | 'library';
  platform: string | null;
  command: string | null;
  /** Library directory, for library templates. */
  dir: string | null;
  /** Repository library name, for templates fed by a `textfsm` Git repository. */
  library?: string;
}

export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024;
const TEXTFSM_PREFIX = 'textfsm:';

type Texts = { name: string; content: string }[];
type Resolved = { kind: 'native'; parser: NativeParser } | { kind: 'textfsm'; templates: Texts; library: LibraryRef | null };

export function createParsersService(deps: ParsersServiceDeps) {
  const directories = createTemplateLibrary(deps.libraryDirs);
  const repositories = deps.repositoryLibraries;
  const custom = deps.customTemplates ?? createMemoryCustomTemplateStore();
  const registry = createParserRegistry(deps.nativeParsers ?? vendorParsers);
  const maxInputBytes = deps.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const cache = createTemplateCache();
  const pool: ParseWorkerPool | null = (deps.workers ?? 1) > 0 ? createParseWorkerPool({ size: deps.workers, timeoutMs: deps.timeoutMs }) : null;
  const customMatchers = new Map<string, { platform: PyRegex | null; command: PyRegex } | null>();

  const matchCustom = (t: CustomTemplate, platform: string, command: string): boolean => {
    if (!t.command) return false;
    const key = `${t.platform ?? ''}\u0000${t.command}`;
    let m = customMatchers.get(key);
    if (m === undefined) {
      try {
        m = { platform: t.platform ? compilePyRegex(t.platform) : null, command: compilePyRegex(expandCompletion(t.command)) };
      } catch {
        m = null; // NOTE: a custom row with a bad regex never matches, as a broken index row would not.
      }
      customMatchers.set(key, m);
    }
    const test = (re: PyRegex, v: string): boolean => (isAsciiText(v) ? re.ascii : re.unicode).test(v);
    return m !== null && (m.platform === null || test(m.platform, platform)) && test(m.command, command);
  };

  /** Templates by file name: user templates, then the first repository library or directory holding the first of them. */
  async function templatesByName(joined: string): Promise<{ templates: Texts; library: LibraryRef | null }> {
    const names = joined.split(':');
    const out: Texts = [];
    let dir: string | undefined;
    let library: LibraryRef | null = null;
    for (const name of names) {
      const own = await custom.get(name);
      if (own) {
        out.push({ name, content: own.content });
        continue;
      }
      const fromRepository = isSafeTemplateName(name) && dir === undefined ? await repositories?.read(name, library?.id) : null;
      if (fromRepository) {
        library ??= refOf(fromRepository.library);
        out.push({ name, content: fromRepository.content });
        continue;
      }
      const file = isSafeTemplateName(name) && library === null ? await directories.read(name, dir) : null;
      if (file === null) throw new TemplateNotFoundError(`Template '${name}' not found`);
      dir ??= file.dir;
      out.push({ name, content: file.content });
    }
    return { templates: out, library };
  }

  async function resolve(input: ParseInput): Promise<Resolved> {
    if (input.parser !== undefined) {
      const native = registry.get(input.parser);
      if (native) return { kind: 'native', parser: native };
      if (!input.parser.startsWith(TEXTFSM_PREFIX)) throw new NotFoundError('PARSER_NOT_FOUND', `Unknown parser '${input.parser}'`);
      return { kind: 'textfsm', ...(await templatesByName(input.parser.slice(TEXTFSM_PREFIX.length))) };
    }
    if (input.template !== undefined) return { kind: 'textfsm', ...(await templatesByName(input.template)) };
    const { platform, command } = input;
    const own = (await custom.list()).find((t) => matchCustom(t, platform, command));
    if (own) return { kind: 'textfsm', templates: [{ name: own.name, content: own.content }], library: null };
    const native = registry.find({ platform, command });
    if (native) return { kind: 'native', parser: native };
    const fed = await repositories?.lookup({ platform, command });
    if (fed) return { kind: 'textfsm', templates: fed.templates, library: refOf(fed.library) };
    const row = await directories.lookup({ platform, command });
    if (row === null) throw noTemplateError({ Command: command, Platform: platform });
    const templates = await Promise.all(
      row.templates.map(async (name) => {
        const file = await directories.read(name, row.dir);
        if (file === null) throw new TemplateNotFoundError(`Template '${name}' listed in ${row.dir}/index does not exist`);
        return { name, content: file.content };
      }),
    );
    return { kind: 'textfsm', templates, library: null };
  }

  /** Compiles templates in the parse workers; one that takes longer than the budget is reported as such. */
  async function checkTemplates(templates: Texts): Promise<SkippedTemplate[]> {
    const job: ParseJob = { kind: 'check', templates, text: '' };
    if (!pool) return runParseJob(job, cache) as unknown as SkippedTemplate[];
    try {
      return (await pool.run(job)) as unknown as SkippedTemplate[];
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'PARSER_TIMEOUT') throw err;
      if (templates.length === 1) return [{ template: templates[0]!.name, line: null, message: 'compiling took longer than the parse time budget' }];
      // One slow template in the batch: check each on its own, so only it is skipped.
      return (await Promise.all(templates.map((t) => checkTemplates([t])))).flat();
    }
  }

  /** Index rows of the repository libraries, in lookup order. */
  async function repositoryEntries(platform?: string): Promise<{ templates: string[]; platform: string; command: string; library: string }[]> {
    const out: { templates: string[]; platform: string; command: string; library: string }[] = [];
    for (const lib of (await repositories?.current()) ?? []) {
      for (const row of lib.index.rows) {
        const rowPlatform = row.columns['Platform'] ?? '';
        if (platform === undefined || rowPlatform === platform) {
          out.push({ templates: [...row.templates], platform: rowPlatform, command: row.columns['Command'] ?? '', library: lib.name });
        }
      }
    }
    return out;
  }

  /** Library and custom parsers get their schema from Value headers: listing compiles nothing. */
  async function headerSchema(names: readonly string[]): Promise<TSchema | null> {
    try {
      const { templates: texts } = await templatesByName(names.join(':'));
      return schemaOf(texts.map((t) => readValueHeader(t.content)));
    } catch {
      return null;
    }
  }

  return {
    /** Parses `output` with the parser chosen by platform+command, template name or parser id. */
    async parse(actor: Actor, input: ParseInput): Promise<ParseResult> {
      requirePermission(actor, 'parsers:read');
      if (typeof input.output !== 'string') throw new BadRequestError('PARSER_INPUT_INVALID', 'output must be a string');
      const bytes = Buffer.byteLength(input.output, 'utf8');
      if (bytes > maxInputBytes) {
        throw new AppError('PARSER_INPUT_TOO_LARGE', 413, `Output is ${bytes} bytes; the limit is ${maxInputBytes}`);
      }
      const resolved = await resolve(input);
      const job: ParseJob =
        resolved.kind === 'native'
          ? { kind: 'native', parser: resolved.parser.id, text: input.output }
          : { kind: 'textfsm', templates: resolved.templates, text: input.output };
      // The texts travel with the job: a library swapped in meanwhile does not change this parse.
      const records = pool ? await pool.run(job) : runParseJob(job, cache);
      if (resolved.kind === 'native') return { template: null, parser: resolved.parser.id, records };
      const template = resolved.templates.map((t) => t.name).join(':');
      return { template, parser: `${TEXTFSM_PREFIX}${template}`, records, ...(resolved.library ? { library: resolved.library } : {}) };
    },

    /** Custom templates, native parsers and library index rows, in lookup order, with schemas. */
    async listParsers(actor: Actor, query: ListQuery = {}): Promise<ListPage<ParserDetail>> {
      requirePermission(actor, 'parsers:read');
      const keep = (platform: string | null): boolean => query.platform === undefined || platform === query.platform;
      const all: (ParserSummary & { templates?: string[] })[] = [];
      for (const t of await custom.list()) {
        if (!keep(t.platform ?? null)) continue;
        all.push({
          id: `${TEXTFSM_PREFIX}${t.name}`,
          kind: 'custom',
          description: null,
          commands: t.command ? [{ platform: t.platform ?? '.*', command: t.command }] : [],
          templates: [t.name],
        });
      }
      for (const p of registry.list()) {
        const commands = p.commands.filter((c) => keep(c.platform));
        if (commands.length > 0 || query.platform === undefined) all.push({ id: p.id, kind: 'native', description: p.description, commands: [...commands] });
      }
      for (const e of await repositoryEntries(query.platform)) {
        all.push({
          id: `${TEXTFSM_PREFIX}${e.templates.join(':')}`,
          kind: 'textfsm',
          description: `from repository library '${e.library}'`,
          commands: [{ platform: e.platform, command: e.command }],
          templates: e.templates,
        });
      }
      for (const e of await directories.entries(query.platform)) {
        all.push({
          id: `${TEXTFSM_PREFIX}${e.templates.join(':')}`,
          kind: 'textfsm',
          description: null,
          commands: [{ platform: e.platform, command: e.command }],
          templates: e.templates,
        });
      }
      const { items, next_cursor } = slicePage(all, query);
      const out = await Promise.all(
        items.map(
          async ({ templates, ...p }): Promise<ParserDetail> => ({
            ...p,
            schema: templates ? await headerSchema(templates) : (registry.get(p.id)?.schema ?? null),
          }),
        ),
      );
      return { items: out, next_cursor };
    },

    /** One parser with the JSON Schema of its output (TextFSM: derived from the Values). */
    async getParser(actor: Actor, id: string): Promise<ParserDetail> {
      requirePermission(actor, 'parsers:read');
      const native = registry.get(id);
      if (native) return { id, kind: 'native', description: native.description, commands: [...native.commands], schema: native.schema };
      if (!id.startsWith(TEXTFSM_PREFIX)) throw new NotFoundError('PARSER_NOT_FOUND', `Unknown parser '${id}'`);
      const { templates } = await templatesByName(id.slice(TEXTFSM_PREFIX.length));
      const isCustom = (await Promise.all(templates.map((t) => custom.get(t.name)))).some((t) => t !== null);
      return {
        id,
        kind: isCustom ? 'custom' : 'textfsm',
        description: null,
        commands: [],
        schema: schemaOf(templates.map((t) => cache.get(t.content).values)),
      };
    },

    async listTemplates(actor: Actor, query: ListQuery = {}): Promise<ListPage<TemplateSummary>> {
      requirePermission(actor, 'parsers:read');
      const { platform } = query;
      const out: TemplateSummary[] = [];
      for (const t of await custom.list()) {
        if (platform === undefined || t.platform === platform) {
          out.push({ name: t.name, source: 'custom', platform: t.platform ?? null, command: t.command ?? null, dir: null });
        }
      }
      for (const e of await repositoryEntries(platform)) {
        for (const name of e.templates) out.push({ name, source: 'library', platform: e.platform, command: e.command, dir: null, library: e.library });
      }
      for (const e of await directories.entries(platform)) {
        for (const name of e.templates) out.push({ name, source: 'library', platform: e.platform, command: e.command, dir: e.dir });
      }
      return slicePage(out, query);
    },

    /** Compiles a template (e.g. before storing it); throws TemplateError with the line. */
    checkTemplate(content: string): { header: string[]; schema: TSchema } {
      const compiled = cache.get(content);
      return { header: [...compiled.header], schema: schemaOf([compiled.values]) };
    },

    checkTemplates,

    /** Libraries in lookup order: repository libraries (by name), then the configured directories. */
    async listLibraries(actor: Actor) {
      requirePermission(actor, 'parsers:read');
      const fed = ((await repositories?.list()) ?? []).map((l) => ({
        kind: 'repository' as const,
        name: l.name,
        repository_id: l.id,
        commit: l.commitSha,
        path: l.sourcePath,
        templates: l.templates,
        skipped: l.skipped,
        updated_at: l.updatedAt,
      }));
      const local = directories.dirs.map((dir) => ({
        kind: 'directory' as const,
        name: dir,
        repository_id: null,
        commit: null,
        path: null,
        templates: null,
        skipped: [],
        updated_at: null,
      }));
      return { items: [...fed, ...local] };
    },

    async close(): Promise<void> {
      await pool?.close();
    },
  };
}

export type ParsersService = ReturnType<typeof createParsersService>;

/** Records of TextFSM templates: one object per row, lower-cased Value names, List → strings. */
function schemaOf(templates: readonly (readonly { name: string; options: readonly string[] }[])[]): TSchema {
  const props: Record<string, TSchema> = {};
  for (const values of templates) {
    for (const v of values) props[v.name.toLowerCase()] ??= v.options.includes('List') ? Type.Array(Type.String()) : Type.String();
  }
  return Type.Array(Type.Object(props, { additionalProperties: false }));
}

/** In-memory lists (the registry is built from files, not a table): the cursor is an offset. */
function slicePage<T>(all: readonly T[], query: ListQuery): ListPage<T> {
  const limit = query.limit ?? 50;
  const offset = query.cursor === undefined ? 0 : Number(decodeCursor(query.cursor, 1)[0]);
  if (!Number.isInteger(offset) || offset < 0) {
    throw new BadRequestError('INVALID_CURSOR', 'The cursor is invalid', [{ path: 'query.cursor', message: 'invalid cursor; start again without it' }]);
  }
  const items = all.slice(offset, offset + limit);
  return { items, next_cursor: offset + limit < all.length ? encodeCursor([offset + limit]) : null };
}
