import type { Category, PyNode, PyPattern, SetItem } from './py-regex-ast.js';

/**
 * What a line must start with, decided without running the RegExp: most rules begin with
 * optional indentation and one specific kind of character (`^\s+Temperature:`, `^\s*Flags:`,
 * `^\s+(\d+)`, `^Interface`). Where the pattern starts with nodes that only match whitespace
 * (`\s*`, `\s+`, ` `, `[ \t]{2,}`…) followed by a node that can only match non-whitespace
 * characters C, every match has its first non-whitespace character — the line's first, since all
 * before it is whitespace — in C, after at least `min` and at most `max` whitespace characters.
 * A template's state runs each of its rules on a line until one matches, so on most lines most
 * rules are decided by comparing a position and looking up a table, where each RegExp call costs
 * about as much as the whole check of every rule. For ASCII lines only (the tables are ASCII).
 */
export interface Lead {
  readonly min: number;
  readonly max: number;
  /** By ASCII code: 1 where the first non-whitespace character may be that character. */
  readonly chars: Uint8Array;
}

const UNBOUNDED = 4294967295;
/** Python's `\s` on ASCII: \t \n \v \f \r, \x1c–\x1f and space. */
const isSpace = (c: number): boolean => (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);

/** Index of the first character of `line` that is not whitespace (`line.length` if none). */
export function leadingSpaces(line: string): number {
  let p = 0;
  while (p < line.length && isSpace(line.charCodeAt(p))) p++;
  return p;
}

/** Whether `line` (ASCII) can start the way every match of the pattern starts. */
export function allowsLead(line: string, spaces: number, lead: Lead): boolean {
  return spaces >= lead.min && spaces <= lead.max && spaces < line.length && lead.chars[line.charCodeAt(spaces)] === 1;
}

/** The pattern's lead, or null when it does not start that way. */
export function patternLead(pattern: PyPattern): Lead | null {
  if (pattern.body.length !== 1) return null;
  const seq: PyNode[] = [];
  flattenInto(pattern.body[0] as PyNode[], seq);
  let min = 0;
  let max = 0;
  for (const node of seq) {
    // Zero-width nodes only add conditions: leaving them out keeps the check a necessary one.
    if (node.type === 'at' || node.type === 'look') continue;
    const width = spaceWidth(node);
    if (width !== null) {
      min += width[0];
      max = Math.min(UNBOUNDED, max + width[1]);
      continue;
    }
    const chars = firstChars(node);
    if (chars === null) return null;
    for (let c = 0; c < 128; c++) if (chars[c] === 1 && isSpace(c)) return null;
    return { min, max, chars: intern(chars) };
  }
  return null;
}

/** By ASCII code, 1 for the characters in the set (a plain array while being built: short-lived). */
export type Table = readonly number[];
const blank = (): number[] => new Array<number>(128).fill(0);

/** The few distinct tables (a letter, digits, `\S`…) are shared by the thousands of patterns that have one. */
const interned = new Map<string, Uint8Array>();
const MAX_INTERNED = 4096;

function intern(table: Table): Uint8Array {
  let key = '';
  for (let w = 0; w < 128; w += 16) {
    let word = 0;
    for (let b = 0; b < 16; b++) word |= (table[w + b] as number) << b;
    key += String.fromCharCode(word);
  }
  let chars = interned.get(key);
  if (chars === undefined) {
    chars = Uint8Array.from(table);
    if (interned.size < MAX_INTERNED) interned.set(key, chars);
  }
  return chars;
}

/** Single-branch groups opened up (a group's captures do not matter here). */
function flattenInto(seq: readonly PyNode[], out: PyNode[]): void {
  for (const node of seq) {
    if ((node.type === 'group' || node.type === 'atomic') && node.body.length === 1) flattenInto(node.body[0] as PyNode[], out);
    else out.push(node);
  }
}

/** [min, max] characters of a node that only ever matches whitespace; null for any other node. */
function spaceWidth(node: PyNode): [number, number] | null {
  if (node.type === 'repeat') {
    if (!onlySpace(node.body)) return null;
    return [node.min, node.max >= UNBOUNDED ? UNBOUNDED : node.max];
  }
  return onlySpace(node) ? [1, 1] : null;
}

function onlySpace(node: PyNode): boolean {
  if (node.type === 'literal') return isSpace(node.cp);
  if (node.type === 'category') return node.cat === 's';
  return node.type === 'set' && !node.negate && node.items.length > 0 && node.items.every(itemOnlySpace);
}

function itemOnlySpace(item: SetItem): boolean {
  if (item.type === 'category') return item.cat === 's';
  if (item.type === 'char') return isSpace(item.cp);
  if (item.hi > 0x20) return false;
  for (let c = item.lo; c <= item.hi; c++) if (!isSpace(c)) return false;
  return true;
}

/**
 * ASCII characters a node's first character can be, or null when unknown (a backreference, an
 * optional node, a non-ASCII letter ignoring case). Category tables are shared: never change a
 * table this returns.
 */
export function firstChars(node: PyNode): Table | null {
  switch (node.type) {
    case 'literal': {
      if (node.ignoreCase && node.cp > 0x7f) return null; // a fold may be ASCII (U+212A is K)
      if (!node.ignoreCase) return node.cp < 0x80 ? (LITERAL_TABLES[node.cp] as Table) : NONE;
      const table = blank();
      if (node.cp < 0x80) table[node.cp] = 1;
      if (node.ignoreCase) caseFold(table);
      return table;
    }
    case 'category':
      return CATEGORY_TABLES[node.cat];
    case 'any':
      return node.dotAll ? ALL : NOT_NEWLINE;
    case 'set':
      return setChars(node);
    case 'repeat':
      return node.min >= 1 ? firstChars(node.body) : null;
    case 'group':
    case 'atomic': {
      const table = blank();
      for (const branch of node.body) {
        const first = branch.find((n) => n.type !== 'at' && n.type !== 'look');
        const chars = first === undefined ? null : firstChars(first);
        if (chars === null) return null;
        for (let c = 0; c < 128; c++) table[c] = (table[c] as number) | (chars[c] as number);
      }
      return table;
    }
    default:
      return null;
  }
}

function inCategory(cat: Category, c: number): boolean {
  const digit = c >= 0x30 && c <= 0x39;
  switch (cat) {
    case 'd':
      return digit;
    case 'D':
      return !digit;
    case 'w':
      return digit || c === 0x5f || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    case 'W':
      return !inCategory('w', c);
    case 's':
      return isSpace(c);
    case 'S':
      return !isSpace(c);
  }
}

const tableOf = (f: (c: number) => boolean): Table => Array.from({ length: 128 }, (_, c) => (f(c) ? 1 : 0));
const CATEGORY_TABLES: Readonly<Record<Category, Table>> = {
  d: tableOf((c) => inCategory('d', c)),
  D: tableOf((c) => inCategory('D', c)),
  w: tableOf((c) => inCategory('w', c)),
  W: tableOf((c) => inCategory('W', c)),
  s: tableOf((c) => inCategory('s', c)),
  S: tableOf((c) => inCategory('S', c)),
};
const ALL = tableOf(() => true);
const NONE = tableOf(() => false);
const LITERAL_TABLES = Array.from({ length: 128 }, (_, cp) => tableOf((c) => c === cp));
const NOT_NEWLINE = tableOf((c) => c !== 0x0a);

function setChars(node: Extract<PyNode, { type: 'set' }>): Table | null {
  const table = blank();
  for (const item of node.items) {
    if (item.type === 'category') {
      for (let c = 0; c < 128; c++) if (inCategory(item.cat, c)) table[c] = 1;
      continue;
    }
    const lo = item.type === 'char' ? item.cp : item.lo;
    const hi = item.type === 'char' ? item.cp : item.hi;
    if (node.ignoreCase && hi > 0x7f) return null;
    for (let c = lo; c <= Math.min(hi, 0x7f); c++) table[c] = 1;
  }
  if (node.ignoreCase) caseFold(table);
  if (node.negate) for (let c = 0; c < 128; c++) table[c] = table[c] ? 0 : 1;
  return table;
}

/** Adds the other case of every ASCII letter in the table. */
function caseFold(table: number[]): void {
  for (let c = 0x41; c <= 0x5a; c++) {
    if (table[c] || table[c + 32]) table[c] = table[c + 32] = 1;
  }
}
