/* eslint-disable no-control-regex -- Python's whitespace and line-break sets include control characters. */
import { Buffer } from 'node:buffer';
/**
 * The few Python `str` behaviours TextFSM output depends on: splitlines(), strip() with Python's
 * whitespace set (JavaScript's differs: it has U+FEFF, lacks \x1c–\x1f and \x85) and str()/repr()
 * of the values clitable stringifies.
 */
const PY_SPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const TRAILING_SPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
const LEADING_SPACE = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const LINE_BREAK = /\r\n|[\n\v\f\r\x1c-\x1e\x85\u2028\u2029]/g;
const OTHER_BREAK = /[\v\f\r\x1c-\x1e\x85\u2028\u2029]/;

export function isPySpace(char: string): boolean {
  return PY_SPACE.test(char);
}

export function pyRstrip(s: string): string {
  return s.replace(TRAILING_SPACE, '');
}

export function pyStrip(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** Python's str.splitlines(): every Unicode line break, no empty line after a final break. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  // NOTE: String#split with a RegExp builds a new RegExp per call (Symbol.split), which costs
  // more than parsing a short output; plain '\n' text takes the string split.
  const lines = OTHER_BREAK.test(text) ? text.replace(LINE_BREAK, '\n').split('\n') : text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Anything but ASCII without line breaks other than \n: the characters that need a closer look. */
const NOT_PLAIN = /[^\0-\n\x0e-\x1b\x1f-\x7f]/;
const NON_ASCII = /[^\0-\x7f]/;
/** The ASCII characters splitlines() breaks at besides \n and \r. */
const ASCII_BREAKS = ['\v', '\f', '\x1c', '\x1d', '\x1e'];
/** Characters checked at once ahead of the reader. */
const CHUNK = 16384;

/**
 * Whether text[from, to) is ASCII without \v \f \x1c–\x1e (\r is left to the caller). A RegExp
 * scan for the characters that are not costs about a nanosecond per character in V8, as much as
 * the rest of reading a line; the UTF-8 length and a few indexOf scans are native and many times
 * faster.
 */
function isPlainSpan(text: string, from: number, to: number): boolean {
  const span = from === 0 && to === text.length ? text : text.slice(from, to);
  if (Buffer.byteLength(span, 'utf8') !== span.length) return false;
  for (const c of ASCII_BREAKS) if (span.includes(c)) return false;
  return true;
}

/** Python's splitlines(), one line at a time; `ascii` tells whether the last line returned is pure ASCII. */
export interface LineReader {
  next(): string | null;
  readonly ascii: boolean;
}

/**
 * Reads `text` line by line as splitlines() would split it. Many templates stop at an early line
 * (`-> EOF`), and short outputs parse in microseconds, so splitting and scanning the whole text up
 * front was a measurable part of a parse. The text is checked ahead in chunks (`isPlainSpan`);
 * in a plain chunk a line with a "\n" or "\r\n" end takes one indexOf, and a "\r" anywhere else
 * is found by following the next "\r" with indexOf. A chunk with other characters is read line by
 * line with a RegExp test, and a line with other breaks or non-ASCII text goes through splitLines.
 */
export function createLineReader(text: string): LineReader {
  let pos = 0;
  let pending: string[] = [];
  let next = 0;
  /** text[pos, known) is plain when `plain`; past `known` it is not checked yet. */
  let known = 0;
  let plain = true;
  /** The first "\r" at or after the line being read, -1 if none. */
  let cr = text.indexOf('\r');
  const reader = {
    ascii: true,
    next(): string | null {
      if (next < pending.length) {
        const line = pending[next++] as string;
        reader.ascii = !NON_ASCII.test(line);
        return line;
      }
      if (pos >= text.length) return null;
      const nl = text.indexOf('\n', pos);
      const stop = nl < 0 ? text.length : nl + 1;
      let end = nl < 0 ? text.length : nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      if (stop > known) {
        const to = Math.max(stop, Math.min(text.length, pos + CHUNK));
        plain = isPlainSpan(text, plain && known > pos ? known : pos, to);
        known = to;
      }
      if (cr >= 0 && cr < pos) cr = text.indexOf('\r', pos);
      const line = text.slice(pos, end);
      const from = pos;
      pos = stop;
      if ((plain && (cr < 0 || cr >= end)) || !NOT_PLAIN.test(line)) {
        reader.ascii = true;
        return line;
      }
      // With its own terminator, so that splitlines() keeps an empty last line ("a\r\r\n").
      pending = splitLines(text.slice(from, stop));
      next = 0;
      return reader.next();
    },
  };
  return reader;
}

/** Python repr() of a str. */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && !isPrintable(ch)) {
      const h = cp.toString(16);
      out += cp <= 0xff ? `\\x${h.padStart(2, '0')}` : cp <= 0xffff ? `\\u${h.padStart(4, '0')}` : `\\U${h.padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function isPrintable(ch: string): boolean {
  return ch === ' ' || !NON_PRINTABLE.test(ch);
}

/** Python str() of a TextFSM List element: a string, None, or a dict of nested groups. */
export function pyStrListItem(item: string | null | Readonly<Record<string, string | null>>): string {
  if (item === null) return 'None';
  if (typeof item === 'string') return item;
  const parts = Object.entries(item).map(([k, v]) => `${pyReprString(k)}: ${v === null ? 'None' : pyReprString(v)}`);
  return `{${parts.join(', ')}}`;
}
