import type { Alternation, Category, PyNode, PyPattern, Sequence, SetItem } from './py-regex-ast.js';
import {
  anyNode,
  atNode,
  atomicNode,
  backrefNode,
  categoryItem,
  categoryNode,
  charItem,
  groupNode,
  literalNode,
  lookNode,
  rangeItem,
  repeatNode,
  setNode,
} from './py-regex-ast.js';

/**
 * Reads a Python 3.11 `re` pattern (str, default flags) into a syntax tree, rejecting what
 * Python rejects with Python's own message and position. Constructs JavaScript cannot express
 * (conditionals, `\N{…}`) are rejected with `unsupported` set, so a template fails at load
 * instead of mis-parsing.
 */
export class PyRegexError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly unsupported = false,
  ) {
    super(unsupported ? message : `${message} at position ${position}`);
    this.name = 'PyRegexError';
  }
}

const FLAG_I = 1;
const FLAG_M = 2;
const FLAG_S = 4;
const FLAG_X = 8;
const FLAG_A = 16;
const FLAG_U = 32;
const FLAG_L = 64;
const FLAG_BITS: Record<string, number> = { i: FLAG_I, m: FLAG_M, s: FLAG_S, x: FLAG_X, a: FLAG_A, u: FLAG_U, L: FLAG_L };
const TYPE_FLAGS = FLAG_A | FLAG_U | FLAG_L;
const MAXREPEAT = 4294967295;
const WHITESPACE = ' \t\n\r\v\f';
const SPECIAL = '.\\[{()*+?^$|';
const ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOct = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);

type Width = [number, number];

/** Parses `source`; `ignoreCase` etc. may be given as initial flags (used for index columns). */
export function parsePyRegex(source: string): PyPattern {
  return new Parser(source).parse();
}

class Parser {
  private pos = 0;
  private flags = 0;
  private groupCount = 0;
  private readonly groupNames = new Map<string, number>();
  /** Width of each closed group; undefined while the group is open. */
  private readonly groupWidths: (Width | undefined)[] = [undefined];
  private lookbehindGroups: number | null = null;
  private readonly chars: string[];

  constructor(private readonly src: string) {
    this.chars = Array.from(src);
  }

  parse(): PyPattern {
    const body = this.parseAlternation(false, 0);
    if (this.pos < this.chars.length) throw new PyRegexError('unbalanced parenthesis', this.pos);
    if (this.flags & FLAG_A && this.flags & FLAG_U) throw new PyRegexError('ASCII and UNICODE flags are incompatible', 0);
    return { body, groupCount: this.groupCount, groupNames: this.groupNames };
  }

  private get next(): string | undefined {
    return this.chars[this.pos];
  }

  private match(c: string): boolean {
    if (this.chars[this.pos] === c) {
      this.pos++;
      return true;
    }
    return false;
  }

  private parseAlternation(verbose: boolean, nested: number): Alternation {
    const branches: Alternation = [];
    for (;;) {
      branches.push(this.parseSequence(verbose, nested, nested === 0 && branches.length === 0));
      if (!this.match('|')) break;
      if (nested === 0) verbose = (this.flags & FLAG_X) !== 0;
    }
    return branches;
  }

  private parseSequence(verbose: boolean, nested: number, first: boolean): Sequence {
    const seq: Sequence = [];
    for (;;) {
      const c = this.next;
      if (c === undefined || c === '|' || c === ')') return seq;
      const start = this.pos;
      this.pos++;
      if (verbose) {
        if (WHITESPACE.includes(c)) continue;
        if (c === '#') {
          while (this.pos < this.chars.length && this.chars[this.pos++] !== '\n');
          continue;
        }
      }
      if (c === '\\') seq.push(this.parseEscape(start));
      else if (!SPECIAL.includes(c)) seq.push(this.literal(c.codePointAt(0) ?? 0));
      else if (c === '[') seq.push(this.parseSet(start));
      else if (c === '*' || c === '+' || c === '?' || c === '{') this.parseRepeat(c, start, seq);
      else if (c === '.') seq.push(anyNode((this.flags & FLAG_S) !== 0));
      else if (c === '^') seq.push(atNode('bol', false));
      else if (c === '$') seq.push(atNode('eol', false));
      else if (c === '(') {
        const node = this.parseGroup(start, verbose, nested, first && seq.length === 0);
        if (node === 'global-flags') verbose = (this.flags & FLAG_X) !== 0;
        else if (node !== null) seq.push(node);
      }
    }
  }

  private literal(cp: number): PyNode {
    return literalNode(cp, (this.flags & FLAG_I) !== 0);
  }

  private parseRepeat(c: string, start: number, seq: Sequence): void {
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, MAXREPEAT];
    else if (c === '+') [min, max] = [1, MAXREPEAT];
    else {
      if (this.next === '}') {
        seq.push(this.literal(0x7b));
        return;
      }
      let lo = '';
      let hi = '';
      while (isDigit(this.next)) lo += this.chars[this.pos++];
      if (this.match(',')) while (isDigit(this.next)) hi += this.chars[this.pos++];
      else hi = lo;
      if (!this.match('}')) {
        seq.push(this.literal(0x7b));
        this.pos = start + 1;
        return;
      }
      min = lo ? Number(lo) : 0;
      max = hi ? Number(hi) : MAXREPEAT;
      if (min >= MAXREPEAT || (hi && max >= MAXREPEAT)) throw new PyRegexError('the repetition number is too large', start);
      if (max < min) throw new PyRegexError('min repeat greater than max repeat', start + 1);
    }
    const item = seq[seq.length - 1];
    if (item === undefined || item.type === 'at') throw new PyRegexError('nothing to repeat', start);
    if (item.type === 'repeat') throw new PyRegexError('multiple repeat', start);
    const mode = this.match('?') ? 'lazy' : this.match('+') ? 'possessive' : 'greedy';
    seq[seq.length - 1] = repeatNode(min, max, mode, item);
  }

  private parseGroup(start: number, verbose: boolean, nested: number, first: boolean): PyNode | null | 'global-flags' {
    let capture = true;
    let atomic = false;
    let name: string | null = null;
    const savedFlags = this.flags;
    let scoped = false;
    if (this.match('?')) {
      const c = this.chars[this.pos++];
      if (c === undefined) throw new PyRegexError('unexpected end of pattern', this.pos);
      if (c === 'P') {
        if (this.match('<')) {
          name = this.readName('>', start);
        } else if (this.match('=')) {
          const ref = this.readName(')', start);
          const gid = this.groupNames.get(ref);
          if (gid === undefined) throw new PyRegexError(`unknown group name '${ref}'`, this.pos - ref.length - 1);
          this.checkGroupRef(gid);
          return backrefNode(gid);
        } else {
          const n = this.chars[this.pos++];
          if (n === undefined) throw new PyRegexError('unexpected end of pattern', this.pos);
          throw new PyRegexError(`unknown extension ?P${n}`, start + 1);
        }
      } else if (c === ':') {
        capture = false;
      } else if (c === '#') {
        for (;;) {
          if (this.next === undefined) throw new PyRegexError('missing ), unterminated comment', start);
          if (this.chars[this.pos++] === ')') return null;
        }
      } else if (c === '=' || c === '!' || c === '<') {
        return this.parseLook(c, start, verbose, nested);
      } else if (c === '(') {
        throw new PyRegexError('conditional groups (?(id)yes|no) have no JavaScript equivalent', start, true);
      } else if (c === '>') {
        capture = false;
        atomic = true;
      } else if (c in FLAG_BITS || c === '-') {
        const flags = this.parseFlags(c);
        if (flags === null) {
          if (!first) throw new PyRegexError('global flags not at the start of the expression', start);
          return 'global-flags';
        }
        capture = false;
        scoped = true;
        this.flags = (this.flags | flags.add) & ~flags.del;
      } else {
        throw new PyRegexError(`unknown extension ?${c}`, start + 1);
      }
    }
    let index: number | null = null;
    if (capture) {
      index = ++this.groupCount;
      this.groupWidths.push(undefined);
      if (name !== null) {
        const old = this.groupNames.get(name);
        if (old !== undefined) throw new PyRegexError(`redefinition of group name '${name}' as group ${index}; was group ${old}`, start + 4);
        this.groupNames.set(name, index);
      }
    }
    const subVerbose = scoped ? (this.flags & FLAG_X) !== 0 : verbose;
    const body = this.parseAlternation(subVerbose, nested + 1);
    if (!this.match(')')) throw new PyRegexError('missing ), unterminated subpattern', start);
    if (scoped) this.flags = savedFlags;
    if (index !== null) this.groupWidths[index] = this.altWidth(body);
    if (atomic) return atomicNode(body);
    return groupNode(index, name, body);
  }

  private parseLook(c: string, start: number, verbose: boolean, nested: number): PyNode {
    let behind = false;
    let kind = c;
    const outerLookbehind = this.lookbehindGroups;
    if (c === '<') {
      const k = this.chars[this.pos++];
      if (k === undefined) throw new PyRegexError('unexpected end of pattern', this.pos);
      if (k !== '=' && k !== '!') throw new PyRegexError(`unknown extension ?<${k}`, start + 1);
      kind = k;
      behind = true;
      if (outerLookbehind === null) this.lookbehindGroups = this.groupCount + 1;
    }
    const body = this.parseAlternation(verbose, nested + 1);
    if (behind && outerLookbehind === null) this.lookbehindGroups = null;
    if (!this.match(')')) throw new PyRegexError('missing ), unterminated subpattern', start);
    if (behind) {
      const [lo, hi] = this.altWidth(body);
      if (lo !== hi) throw new PyRegexError('look-behind requires fixed-width pattern', start);
    }
    return lookNode(behind, kind === '!', body);
  }

  private parseFlags(first: string): { add: number; del: number } | null {
    let add = 0;
    let del = 0;
    let c: string | undefined = first;
    if (c !== '-') {
      for (;;) {
        if (c === 'L') throw new PyRegexError("bad inline flags: cannot use 'L' flag with a str pattern", this.pos);
        const bit = FLAG_BITS[c] ?? 0;
        add |= bit;
        if (bit & TYPE_FLAGS && (add & TYPE_FLAGS) !== bit) throw new PyRegexError("bad inline flags: flags 'a', 'u' and 'L' are incompatible", this.pos);
        c = this.chars[this.pos++];
        if (c === undefined) throw new PyRegexError('missing -, : or )', this.pos);
        if (c === ')' || c === '-' || c === ':') break;
        if (!(c in FLAG_BITS)) throw new PyRegexError(/\p{L}/u.test(c) ? 'unknown flag' : 'missing -, : or )', this.pos - 1);
      }
    }
    if (c === ')') {
      this.flags |= add;
      return null;
    }
    if (c === '-') {
      c = this.chars[this.pos++];
      if (c === undefined) throw new PyRegexError('missing flag', this.pos);
      if (!(c in FLAG_BITS)) throw new PyRegexError(/\p{L}/u.test(c) ? 'unknown flag' : 'missing flag', this.pos - 1);
      for (;;) {
        const bit = FLAG_BITS[c] ?? 0;
        if (bit & TYPE_FLAGS) throw new PyRegexError("bad inline flags: cannot turn off flags 'a', 'u' and 'L'", this.pos);
        del |= bit;
        c = this.chars[this.pos++];
        if (c === undefined) throw new PyRegexError('missing :', this.pos);
        if (c === ':') break;
        if (!(c in FLAG_BITS)) throw new PyRegexError(/\p{L}/u.test(c) ? 'unknown flag' : 'missing :', this.pos - 1);
      }
    }
    if (add & del) throw new PyRegexError('bad inline flags: flag turned on and off', this.pos);
    return { add, del };
  }

  private readName(terminator: string, start: number): string {
    let name = '';
    for (;;) {
      const c = this.chars[this.pos++];
      if (c === undefined) throw new PyRegexError('missing group name', start);
      if (c === terminator) break;
      name += c;
    }
    if (name === '') throw new PyRegexError('missing group name', this.pos - 1);
    if (!/^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(name)) {
      throw new PyRegexError(`bad character in group name '${name}'`, this.pos - name.length - 1);
    }
    return name;
  }

  private checkGroupRef(gid: number): void {
    if (this.groupWidths[gid] === undefined) throw new PyRegexError('cannot refer to an open group', this.pos);
    if (this.lookbehindGroups !== null && gid >= this.lookbehindGroups) {
      throw new PyRegexError('cannot refer to group defined in the same lookbehind subpattern', this.pos);
    }
  }

  private parseEscape(start: number): PyNode {
    const c = this.chars[this.pos++];
    if (c === undefined) throw new PyRegexError('bad escape (end of pattern)', start);
    const ascii = (this.flags & FLAG_A) !== 0;
    switch (c) {
      case 'A':
        return atNode('bos', ascii);
      case 'Z':
        return atNode('eos', ascii);
      case 'b':
        return atNode('boundary', ascii);
      case 'B':
        return atNode('nonboundary', ascii);
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        return categoryNode(c, ascii);
    }
    if (c in ESCAPES) return this.literal(ESCAPES[c] ?? 0);
    if (c === '0') {
      let digits = '0';
      while (digits.length < 3 && isOct(this.next)) digits += this.chars[this.pos++];
      return this.literal(parseInt(digits, 8));
    }
    if (isDigit(c)) {
      let digits = c;
      if (isDigit(this.next)) {
        digits += this.chars[this.pos++];
        if (isOct(digits[0]) && isOct(digits[1]) && isOct(this.next)) {
          digits += this.chars[this.pos++];
          const value = parseInt(digits, 8);
          if (value > 0o377) throw new PyRegexError(`octal escape value \\${digits} outside of range 0-0o377`, start);
          return this.literal(value);
        }
      }
      const gid = Number(digits);
      if (gid <= this.groupCount) {
        this.checkGroupRef(gid);
        return backrefNode(gid);
      }
      throw new PyRegexError(`invalid group reference ${gid}`, start + 1);
    }
    const hex = this.hexEscape(c, start);
    if (hex !== null) return this.literal(hex);
    if (isAsciiLetter(c)) throw new PyRegexError(`bad escape \\${c}`, start);
    return this.literal(c.codePointAt(0) ?? 0);
  }

  /** `\x`, `\u`, `\U` and `\N`, shared by both escape contexts; null if `c` is none of them. */
  private hexEscape(c: string, start: number): number | null {
    const len = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    if (c === 'N') throw new PyRegexError('named Unicode escapes \\N{…} are not supported', start, true);
    if (len === 0) return null;
    let digits = '';
    while (digits.length < len && isHex(this.next)) digits += this.chars[this.pos++];
    if (digits.length !== len) throw new PyRegexError(`incomplete escape \\${c}${digits}`, start);
    const value = parseInt(digits, 16);
    if (value > 0x10ffff) throw new PyRegexError(`bad escape \\${c}${digits}`, start);
    return value;
  }

  private parseClassEscape(start: number): SetItem {
    const c = this.chars[this.pos++];
    if (c === undefined) throw new PyRegexError('bad escape (end of pattern)', start);
    if (c in ESCAPES) return charItem(ESCAPES[c] ?? 0);
    if (c === 'd' || c === 'D' || c === 's' || c === 'S' || c === 'w' || c === 'W') return categoryItem(c);
    const hex = this.hexEscape(c, start);
    if (hex !== null) return charItem(hex);
    if (isOct(c)) {
      let digits = c;
      while (digits.length < 3 && isOct(this.next)) digits += this.chars[this.pos++];
      const value = parseInt(digits, 8);
      if (value > 0o377) throw new PyRegexError(`octal escape value \\${digits} outside of range 0-0o377`, start);
      return charItem(value);
    }
    if (isDigit(c) || isAsciiLetter(c)) throw new PyRegexError(`bad escape \\${c}`, start);
    return charItem(c.codePointAt(0) ?? 0);
  }

  private parseSet(start: number): PyNode {
    const items: SetItem[] = [];
    const negate = this.match('^');
    const text = (from: number): string => this.chars.slice(from, this.pos).join('');
    for (;;) {
      const itemStart = this.pos;
      const c = this.chars[this.pos++];
      if (c === undefined) throw new PyRegexError('unterminated character set', start);
      if (c === ']' && items.length > 0) break;
      const first: SetItem = c === '\\' ? this.parseClassEscape(itemStart) : charItem(c.codePointAt(0) ?? 0);
      const firstText = text(itemStart);
      if (this.match('-')) {
        const thatStart = this.pos;
        const that = this.chars[this.pos++];
        if (that === undefined) throw new PyRegexError('unterminated character set', start);
        if (that === ']') {
          items.push(first, charItem(0x2d));
          break;
        }
        const second: SetItem = that === '\\' ? this.parseClassEscape(thatStart) : charItem(that.codePointAt(0) ?? 0);
        if (first.type !== 'char' || second.type !== 'char' || second.cp < first.cp) {
          throw new PyRegexError(`bad character range ${firstText}-${text(thatStart)}`, itemStart);
        }
        items.push(rangeItem(first.cp, second.cp));
      } else {
        items.push(first);
      }
    }
    return setNode(negate, items, (this.flags & FLAG_I) !== 0, (this.flags & FLAG_A) !== 0);
  }

  private altWidth(alt: Alternation): Width {
    let lo = Infinity;
    let hi = 0;
    for (const seq of alt) {
      let l = 0;
      let h = 0;
      for (const node of seq) {
        const [nl, nh] = this.nodeWidth(node);
        l += nl;
        h += nh;
      }
      lo = Math.min(lo, l);
      hi = Math.max(hi, h);
    }
    return [lo === Infinity ? 0 : Math.min(lo, MAXREPEAT), Math.min(hi, MAXREPEAT)];
  }

  private nodeWidth(node: PyNode): Width {
    switch (node.type) {
      case 'literal':
      case 'any':
      case 'set':
      case 'category':
        return [1, 1];
      case 'at':
      case 'look':
        return [0, 0];
      case 'group':
      case 'atomic':
        return this.altWidth(node.body);
      case 'backref':
        return this.groupWidths[node.index] ?? [0, 0];
      case 'repeat': {
        const [l, h] = this.nodeWidth(node.body);
        return [Math.min(l * node.min, MAXREPEAT), Math.min(h * node.max, MAXREPEAT)];
      }
    }
  }
}

export const PY_FLAG_IGNORECASE = FLAG_I;
export type { Category };
