import { runTemplate, type Cell } from './textfsm-engine.fns.js';
import { pyStrListItem } from './py-text.fns.js';
import type { CompiledTemplate } from './textfsm-template.fns.js';
import { TemplateError } from './textfsm.errors.js';

/**
 * What ntc-templates' parse_output returns: clitable parses with each template of an index row,
 * merges the tables (SEMANTICS.md §10c.4), applies Python str() to every cell and List element,
 * and the header names, lower-cased, become the keys of one object per row.
 */
export type NtcValue = string | string[];
export type NtcRecord = Record<string, NtcValue>;

interface Table {
  /** The template's own header until a merge adds columns. */
  header: readonly string[];
  rows: NtcValue[][];
}

function stringify(cell: Cell): NtcValue {
  if (typeof cell === 'string') return cell;
  const out = new Array<string>(cell.length);
  for (let i = 0; i < cell.length; i++) out[i] = pyStrListItem(cell[i] ?? null);
  return out;
}

/** The lower-cased header of each template, worked out once. */
const keyNames = new WeakMap<readonly string[], readonly string[]>();

function lowerNames(header: readonly string[]): readonly string[] {
  let names = keyNames.get(header);
  if (names === undefined) {
    names = header.map((name) => name.toLowerCase());
    keyNames.set(header, names);
  }
  return names;
}

function parseTable(template: CompiledTemplate, text: string): Table {
  const table = runTemplate(template, text);
  const rows = table.rows as NtcValue[][];
  for (const row of table.rows) {
    for (let i = 0; i < row.length; i++) if (typeof row[i] !== 'string') row[i] = stringify(row[i] as Cell);
  }
  return { header: template.header, rows };
}

const sameValue = (a: NtcValue | undefined, b: NtcValue | undefined): boolean =>
  typeof a === 'string' || typeof b === 'string' ? a === b : JSON.stringify(a) === JSON.stringify(b);

/** texttable.extend: add the later table's new columns, pairing rows by key or by position. */
function extend(base: Table, later: Table, keys: readonly string[], name: string): void {
  for (const key of keys) {
    if (!base.header.includes(key)) throw new TemplateError(`Unknown key: '${key}' when merging ${name}`, null, null, 'PARSER_TEMPLATE_MERGE');
  }
  const added = later.header.filter((col) => !base.header.includes(col));
  if (added.length === 0) return;
  const from = added.map((col) => later.header.indexOf(col));
  base.header = [...base.header, ...added];
  for (const row of base.rows) for (let i = 0; i < added.length; i++) row.push('');
  const width = base.header.length - added.length;
  if (keys.length === 0) {
    const n = Math.min(base.rows.length, later.rows.length);
    for (let r = 0; r < n; r++) from.forEach((col, i) => ((base.rows[r] as NtcValue[])[width + i] = (later.rows[r] as NtcValue[])[col] ?? ''));
    return;
  }
  const baseKeys = keys.map((k) => base.header.indexOf(k));
  const laterKeys = keys.map((k) => later.header.indexOf(k));
  if (laterKeys.includes(-1)) throw new TemplateError(`Key column missing from ${name}`, null, null, 'PARSER_TEMPLATE_MERGE');
  for (const row of base.rows) {
    const partner = later.rows.find((other) => baseKeys.every((bk, i) => sameValue(row[bk], other[laterKeys[i] as number])));
    if (partner) from.forEach((col, i) => (row[width + i] = partner[col] ?? ''));
  }
}

/** clitable.ParseCmd followed by ntc-templates' _clitable_to_dict. */
export function parseToRecords(templates: ReadonlyArray<{ name: string; template: CompiledTemplate }>, text: string): NtcRecord[] {
  const first = templates[0];
  if (first === undefined) return [];
  const table = parseTable(first.template, text);
  let keys: readonly string[] = first.template.keys;
  for (let t = 1; t < templates.length; t++) {
    const next = templates[t] as { name: string; template: CompiledTemplate };
    const later = parseTable(next.template, text);
    if (keys.length === 0) keys = next.template.keys;
    extend(table, later, keys, next.name);
  }
  const names = lowerNames(table.header);
  const records: NtcRecord[] = new Array<NtcRecord>(table.rows.length);
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r] as NtcValue[];
    // NOTE: a spread copy of a blank record per template was faster with one template, and twice
    // as slow in a process that parses with many (V8's copy then falls back to its slow path).
    const record: NtcRecord = {};
    for (let i = 0; i < names.length; i++) record[names[i] as string] = row[i] ?? '';
    records[r] = record;
  }
  return records;
}
