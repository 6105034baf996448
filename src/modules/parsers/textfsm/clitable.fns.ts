import { compilePyRegex, isAsciiText, type PyRegex } from './py-regex.fns.js';
import { pyStrip } from './py-text.fns.js';
import { TemplateError, TemplateNotFoundError } from './textfsm.errors.js';

/**
 * The ntc-templates `index` file and textfsm's clitable row selection (SEMANTICS.md §10c):
 * comma-separated columns, `[[…]]` command completion, every column but Template a Python regex
 * matched at the start of the attribute, first matching row wins.
 */
export interface IndexRow {
  /** Template file names, in merge order (`a.textfsm:b.textfsm`). */
  readonly templates: readonly string[];
  /** Column values as written in the file (before completion). */
  readonly columns: Readonly<Record<string, string>>;
  /** Compiled column regexes (after completion); columns that are empty match anything. */
  readonly matchers: ReadonlyMap<string, PyRegex>;
  /** 1-based line in the index file. */
  readonly line: number;
}

export interface TemplateIndex {
  readonly header: readonly string[];
  readonly rows: readonly IndexRow[];
}

const COMPLETION = /\[\[(.+?)\]\]/g;

/** `sh[[ow]]` → `sh(o(w)?)?`, each `[[…]]` on its own. */
export function expandCompletion(command: string): string {
  return command.replace(COMPLETION, (_m, word: string) => {
    const chars = Array.from(word);
    return `(${chars.join('(')}${')?'.repeat(chars.length)}`;
  });
}

/** Parses an index file; rows with the wrong number of fields are dropped, as clitable does. */
export function parseIndex(text: string, source = 'index'): TemplateIndex {
  const lines = text.split(/\r\n|\r|\n/);
  let n = 0;
  let header: string[] | null = null;
  while (n < lines.length && header === null) {
    const stripped = pyStrip((lines[n++] ?? '').split('#')[0] ?? '');
    if (stripped) header = stripped.split(',').map(pyStrip);
  }
  if (header === null || !header.includes('Template')) {
    throw new TemplateError(`Index file does not have 'Template' column.`, null, null, 'PARSER_INDEX_INVALID', source);
  }
  const rows: IndexRow[] = [];
  for (; n < lines.length; n++) {
    const raw = lines[n] ?? '';
    if (raw.startsWith('#')) continue;
    const fields = raw.split(',').map(pyStrip);
    if (fields.length !== header.length) continue;
    const columns: Record<string, string> = {};
    const matchers = new Map<string, PyRegex>();
    header.forEach((col, i) => {
      const value = fields[i] ?? '';
      columns[col] = value;
      if (col === 'Template' || value === '') return;
      const regex = col === 'Command' ? expandCompletion(value) : value;
      try {
        matchers.set(col, compilePyRegex(regex));
      } catch (err) {
        throw new TemplateError(
          `Invalid regular expression '${regex}' in column ${col} of ${source}. Line: ${n + 1}.`,
          n + 1,
          (err as Error).message,
          'PARSER_INDEX_INVALID',
          source,
        );
      }
    });
    rows.push({ templates: (columns['Template'] ?? '').split(':'), columns, matchers, line: n + 1 });
  }
  return { header, rows };
}

/** The first row whose columns all match the given attributes (e.g. `{ Platform, Command }`). */
export function findIndexRow(index: TemplateIndex, attributes: Readonly<Record<string, string>>): IndexRow | null {
  const entries = Object.entries(attributes);
  outer: for (const row of index.rows) {
    for (const [key, value] of entries) {
      const matcher = row.matchers.get(key);
      if (matcher === undefined) continue;
      if (!(isAsciiText(value) ? matcher.ascii : matcher.unicode).test(value)) continue outer;
    }
    return row;
  }
  return null;
}

/** clitable's error for a failed lookup, with the attributes as Python prints a dict. */
export function noTemplateError(attributes: Readonly<Record<string, string>>): TemplateNotFoundError {
  const dict = Object.entries(attributes)
    .map(([k, v]) => `'${k}': '${v}'`)
    .join(', ');
  return new TemplateNotFoundError(`No template found for attributes: "{${dict}}"`);
}
