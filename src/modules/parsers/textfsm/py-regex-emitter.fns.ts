import type { Alternation, Category, PyNode, PyPattern, SetItem } from './py-regex-ast.js';

/**
 * Writes a Python pattern tree as a JavaScript RegExp source.
 *
 * Two dialects, chosen per subject:
 * - `ascii`: no flags. Exact for subjects made only of ASCII characters, where Python's Unicode
 *   classes and JavaScript's ASCII classes agree (except `\s`, written out below). It is the fast
 *   path: no surrogate handling, native `\d`/`\w`/`\b`.
 * - `unicode`: the `v` flag, with `\d`, `\w`, `\s` and `\b` spelt out as Python's Unicode sets.
 *
 * Both dialects assume single-line subjects (no `\n`, `\r`, U+2028/U+2029), which is what
 * splitlines() yields: that is why `$`, `\Z` and `.` can be written natively.
 */
export type RegexDialect = 'ascii' | 'unicode';

export interface EmittedRegex {
  source: string;
  flags: string;
  /** JavaScript group number of each Python group number (index 0 unused). */
  groupIndex: number[];
}

/** Python's str.isspace() set, which `\s` matches. */
const UNICODE_SPACES: [number, number][] = [
  [0x09, 0x0d],
  [0x1c, 0x20],
  [0x85, 0x85],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
const ASCII_SPACES: [number, number][] = [
  [0x09, 0x0d],
  [0x1c, 0x20],
];
const WORD_V = '[\\p{L}\\p{N}_]';
const SYNTAX = new Set('^$\\.*+?()[]{}|/');
/** Case-insensitive partners that toLowerCase/toUpperCase alone do not find. */
const EXTRA_FOLDS: Record<number, number[]> = { 0x6b: [0x212a], 0x4b: [0x212a], 0x73: [0x17f], 0x53: [0x17f] };
const MAX_FOLD_RANGE = 0x3000;

export function emitJsRegex(pattern: PyPattern, dialect: RegexDialect): EmittedRegex {
  const emitter = new Emitter(dialect, pattern.groupCount);
  const source = emitter.alt(pattern.body);
  return { source, flags: dialect === 'unicode' ? 'v' : '', groupIndex: emitter.groupIndex };
}

const hex = (cp: number): string => cp.toString(16).toUpperCase();

function escapeIn(v: boolean, cp: number): string {
  if (v) return `\\u{${hex(cp)}}`;
  if (cp <= 0xffff) return `\\u${hex(cp).padStart(4, '0')}`;
  const s = String.fromCodePoint(cp);
  return `\\u${hex(s.charCodeAt(0))}\\u${hex(s.charCodeAt(1))}`;
}

// Every ASCII character as a literal and inside a class, per dialect, worked out once: emitting
// is a large part of compiling a template, and most of what it writes is ASCII.
const isAlnum = (cp: number): boolean => (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
const asciiTable = (f: (cp: number) => string): string[] => Array.from({ length: 0x80 }, (_, cp) => f(cp));
const literalIn =
  (v: boolean) =>
  (cp: number): string => {
    const c = String.fromCharCode(cp);
    if (isAlnum(cp)) return c;
    if (SYNTAX.has(c)) return `\\${c}`;
    return cp >= 0x20 && cp < 0x7f ? c : escapeIn(v, cp);
  };
const classCharIn =
  (v: boolean) =>
  (cp: number): string =>
    isAlnum(cp) ? String.fromCharCode(cp) : escapeIn(v, cp);
const ASCII_LITERALS = asciiTable(literalIn(false));
const V_LITERALS = asciiTable(literalIn(true));
const ASCII_CLASS_CHARS = asciiTable(classCharIn(false));
const V_CLASS_CHARS = asciiTable(classCharIn(true));
const spacesIn = (chars: string[]): string => ASCII_SPACES.map(([lo, hi]) => (lo === hi ? chars[lo] : `${chars[lo]}-${chars[hi]}`)).join('');
const ASCII_ASCII_SPACES = spacesIn(ASCII_CLASS_CHARS);
const V_ASCII_SPACES = spacesIn(V_CLASS_CHARS);

class Emitter {
  readonly groupIndex: number[];
  private jsGroups = 0;
  private readonly v: boolean;

  /** `\\s` on ASCII as class ranges, the most common class of all. */
  private readonly asciiSpaces: string;

  constructor(
    private readonly dialect: RegexDialect,
    groupCount: number,
  ) {
    this.groupIndex = new Array<number>(groupCount + 1).fill(0);
    this.v = dialect === 'unicode';
    this.asciiSpaces = this.v ? V_ASCII_SPACES : ASCII_ASCII_SPACES;
  }

  alt(alt: Alternation): string {
    let out = '';
    for (let b = 0; b < alt.length; b++) {
      if (b > 0) out += '|';
      const seq = alt[b] as PyNode[];
      for (let i = 0; i < seq.length; i++) out += this.node(seq[i] as PyNode);
    }
    return out;
  }

  private node(node: PyNode): string {
    switch (node.type) {
      case 'literal': {
        if (!node.ignoreCase) return this.literal(node.cp);
        const variants = caseVariants(node.cp);
        return variants.length === 1 ? this.literal(node.cp) : `[${variants.map((cp) => this.classChar(cp)).join('')}]`;
      }
      case 'any':
        return node.dotAll ? '[\\s\\S]' : '.';
      case 'category':
        return this.category(node.cat, node.ascii);
      case 'set':
        return this.set(node.negate, node.items, node.ignoreCase, node.ascii);
      case 'at':
        return this.anchor(node.at, node.ascii);
      case 'group': {
        if (node.index === null) return `(?:${this.alt(node.body)})`;
        this.groupIndex[node.index] = ++this.jsGroups;
        return `(${this.alt(node.body)})`;
      }
      case 'look':
        return `(?${node.behind ? '<' : ''}${node.negate ? '!' : '='}${this.alt(node.body)})`;
      case 'atomic':
        return this.atomic(() => this.alt(node.body));
      case 'backref':
        return `(?:\\${this.groupIndex[node.index]})`;
      case 'repeat':
        return this.repeat(node);
    }
  }

  /** JavaScript has no atomic groups: `(?=(X))\k` matches X once and never backtracks into it. */
  private atomic(body: () => string): string {
    const helper = ++this.jsGroups;
    return `(?:(?=(${body()}))\\${helper})`;
  }

  private repeat(node: Extract<PyNode, { type: 'repeat' }>): string {
    const { min, max } = node;
    const infinite = max >= 4294967295;
    let q: string;
    if (min === 0 && infinite) q = '*';
    else if (min === 1 && infinite) q = '+';
    else if (min === 0 && max === 1) q = '?';
    else if (infinite) q = `{${min},}`;
    else if (min === max) q = `{${min}}`;
    else q = `{${min},${max}}`;
    if (node.mode === 'possessive') {
      return this.atomic(() => `${this.atom(node.body)}${q}`);
    }
    return `${this.atom(node.body)}${q}${node.mode === 'lazy' ? '?' : ''}`;
  }

  /** The body of a quantifier, wrapped where JavaScript would not quantify it as one unit. */
  private atom(node: PyNode): string {
    const text = this.node(node);
    if (node.type === 'look' || node.type === 'atomic') return `(?:${text})`;
    if (node.type === 'literal' && !this.v && node.cp > 0xffff) return `(?:${text})`;
    return text;
  }

  private literal(cp: number): string {
    return cp < 0x80 ? ((this.v ? V_LITERALS : ASCII_LITERALS)[cp] as string) : this.escape(cp);
  }

  private escape(cp: number): string {
    return escapeIn(this.v, cp);
  }

  private classChar(cp: number): string {
    return cp < 0x80 ? ((this.v ? V_CLASS_CHARS : ASCII_CLASS_CHARS)[cp] as string) : this.escape(cp);
  }

  private ranges(list: [number, number][]): string {
    return list.map(([lo, hi]) => (lo === hi ? this.classChar(lo) : `${this.classChar(lo)}-${this.classChar(hi)}`)).join('');
  }

  private category(cat: Category, ascii: boolean): string {
    if (ascii || this.dialect === 'ascii') {
      if (cat === 's') return `[${this.asciiSpaces}]`;
      if (cat === 'S') return `[^${this.asciiSpaces}]`;
      return `\\${cat}`;
    }
    switch (cat) {
      case 'd':
        return '\\p{Nd}';
      case 'D':
        return '\\P{Nd}';
      case 'w':
        return WORD_V;
      case 'W':
        return '[^\\p{L}\\p{N}_]';
      case 's':
        return `[${this.ranges(UNICODE_SPACES)}]`;
      case 'S':
        return `[^${this.ranges(UNICODE_SPACES)}]`;
    }
  }

  /** A category inside a character class. */
  private classCategory(cat: Category, ascii: boolean): string {
    const asciiClasses = ascii || this.dialect === 'ascii';
    if (cat === 's' || cat === 'S') {
      const spaces = asciiClasses ? this.asciiSpaces : this.ranges(UNICODE_SPACES);
      if (cat === 's') return spaces;
      return this.v ? `[^${spaces}]` : this.ranges(complement(asciiClasses ? ASCII_SPACES : UNICODE_SPACES));
    }
    if (asciiClasses) return `\\${cat}`;
    if (cat === 'd') return '\\p{Nd}';
    if (cat === 'D') return '\\P{Nd}';
    return cat === 'w' ? '\\p{L}\\p{N}_' : '[^\\p{L}\\p{N}_]';
  }

  private set(negate: boolean, items: SetItem[], ignoreCase: boolean, ascii: boolean): string {
    const parts: string[] = [];
    for (const item of items) {
      if (item.type === 'category') {
        parts.push(this.classCategory(item.cat, ascii));
        continue;
      }
      const lo = item.type === 'char' ? item.cp : item.lo;
      const hi = item.type === 'char' ? item.cp : item.hi;
      parts.push(lo === hi ? this.classChar(lo) : `${this.classChar(lo)}-${this.classChar(hi)}`);
      if (ignoreCase && hi - lo <= MAX_FOLD_RANGE) {
        for (let cp = lo; cp <= hi; cp++) {
          for (const variant of caseVariants(cp)) if (variant < lo || variant > hi) parts.push(this.classChar(variant));
        }
      }
    }
    return `[${negate ? '^' : ''}${parts.join('')}]`;
  }

  private anchor(at: 'bol' | 'eol' | 'bos' | 'eos' | 'boundary' | 'nonboundary', ascii: boolean): string {
    if (at === 'bol' || at === 'bos') return '^';
    if (at === 'eol' || at === 'eos') return '$';
    if (ascii || this.dialect === 'ascii') return at === 'boundary' ? '\\b' : '\\B';
    return at === 'boundary' ? `(?:(?<=${WORD_V})(?!${WORD_V})|(?<!${WORD_V})(?=${WORD_V}))` : `(?:(?<=${WORD_V})(?=${WORD_V})|(?<!${WORD_V})(?!${WORD_V}))`;
  }
}

function caseVariants(cp: number): number[] {
  const out = new Set<number>([cp]);
  const s = String.fromCodePoint(cp);
  for (const t of [s.toLowerCase(), s.toUpperCase()]) {
    const chars = Array.from(t);
    if (chars.length === 1) out.add(chars[0]?.codePointAt(0) ?? cp);
  }
  for (const extra of EXTRA_FOLDS[cp] ?? []) out.add(extra);
  if (cp === 0x212a) out.add(0x6b).add(0x4b);
  if (cp === 0x17f) out.add(0x73).add(0x53);
  return [...out];
}

function complement(list: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of list) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}
