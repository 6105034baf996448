import { strFormat } from './format.js';
import { Markup, PyCallable, TemplateError, hasKey, isDict, isString, num, pyEquals, pyStr, setKey, tuple, typeName } from './values.js';

/**
 * Python methods of str, list and dict that templates call (`.split()`, `.append()`, `.items()`).
 * Only the names in these tables exist; nothing on a JavaScript prototype is reachable.
 */
type Method = (self: never, args: unknown[], kwargs: Record<string, unknown>) => unknown;

const WS = ' \t\n\r\x0b\x0c';

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? WS : String(chars);
  let a = 0;
  let b = s.length;
  if (left) while (a < b && set.includes(s[a] as string)) a++;
  if (right) while (b > a && set.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

export function pySplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : num(maxsplit);
  if (sep === undefined || sep === null) {
    const out: string[] = [];
    let rest = s.replace(/^[\s]+/, '');
    while (rest.length > 0) {
      if (max >= 0 && out.length === max) {
        out.push(rest);
        break;
      }
      const m = /[\s]+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sp = String(sep);
  if (sp === '') throw new TemplateError('runtime', 'empty separator');
  const parts = s.split(sp);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sp)];
}

function pyRsplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : num(maxsplit);
  if (max < 0) return pySplit(s, sep, -1);
  if (sep === undefined || sep === null) {
    const words = pySplit(s, null, -1);
    if (words.length <= max + 1) return words;
    const trimmed = s.replace(/\s+$/, '');
    const out: string[] = [];
    let rest = trimmed;
    for (let i = 0; i < max; i++) {
      const m = /\s+(\S*)$/.exec(rest);
      if (!m) break;
      out.unshift(m[1] as string);
      rest = rest.slice(0, m.index);
    }
    out.unshift(rest.replace(/^\s+/, ''));
    return out;
  }
  const sp = String(sep);
  const parts = s.split(sp);
  if (parts.length <= max + 1) return parts;
  return [parts.slice(0, parts.length - max).join(sp), ...parts.slice(parts.length - max)];
}

export function pyTitle(s: string): string {
  let prevCased = false;
  let out = '';
  for (const ch of s) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (prevCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevCased = cased;
  }
  return out;
}

/** Widths past this are refused before a padded string is built (the output cap is far lower). */
const MAX_WIDTH = 10_000_000;
export function checkWidth(n: unknown): number {
  const w = num(n);
  if (w > MAX_WIDTH) throw new TemplateError('limit', `a width of more than ${MAX_WIDTH} characters`);
  return w;
}

export function pyCenter(s: string, w: number, fill = ' '): string {
  const width = checkWidth(w);
  const len = Array.from(s).length;
  if (width <= len) return s;
  const marg = width - len;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + s + fill.repeat(marg - left);
}

function startsOrEnds(s: string, arg: unknown, ends: boolean): boolean {
  const opts = Array.isArray(arg) ? arg : [arg];
  return opts.some((o) => (ends ? s.endsWith(String(o)) : s.startsWith(String(o))));
}

const strMethods: Record<string, (s: string, a: unknown[], kw: Record<string, unknown>) => unknown> = {
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  casefold: (s) => s.toLowerCase(),
  strip: (s, a) => stripChars(s, a[0], true, true),
  lstrip: (s, a) => stripChars(s, a[0], true, false),
  rstrip: (s, a) => stripChars(s, a[0], false, true),
  split: (s, a, kw) => pySplit(s, a[0] ?? kw.sep, a[1] ?? kw.maxsplit),
  rsplit: (s, a, kw) => pyRsplit(s, a[0] ?? kw.sep, a[1] ?? kw.maxsplit),
  splitlines: (s, a) => {
    const lines = s.split(/(?<=\r\n|\n|\r(?!\n))/);
    const out = lines.filter((l) => l !== '');
    return a[0] ? out : out.map((l) => l.replace(/\r?\n$|\r$/, ''));
  },
  startswith: (s, a) => startsOrEnds(s, a[0], false),
  endswith: (s, a) => startsOrEnds(s, a[0], true),
  replace: (s, a) => {
    const count = a[2] === undefined ? -1 : num(a[2]);
    const parts = s.split(String(a[0]));
    if (count < 0 || parts.length - 1 <= count) return parts.join(String(a[1]));
    return parts.slice(0, count + 1).join(String(a[1])) + String(a[0]) + parts.slice(count + 1).join(String(a[0]));
  },
  find: (s, a) => s.indexOf(String(a[0])),
  rfind: (s, a) => s.lastIndexOf(String(a[0])),
  index: (s, a) => {
    const i = s.indexOf(String(a[0]));
    if (i < 0) throw new TemplateError('runtime', 'substring not found');
    return i;
  },
  count: (s, a) => (String(a[0]) === '' ? s.length + 1 : s.split(String(a[0])).length - 1),
  join: (s, a) => (Array.isArray(a[0]) ? a[0] : []).map((x) => pyStr(x)).join(s),
  ljust: (s, a) => s.padEnd(checkWidth(a[0]), a[1] === undefined ? ' ' : String(a[1])),
  rjust: (s, a) => s.padStart(checkWidth(a[0]), a[1] === undefined ? ' ' : String(a[1])),
  center: (s, a) => pyCenter(s, num(a[0]), a[1] === undefined ? ' ' : String(a[1])),
  zfill: (s, a) => {
    const sign = /^[-+]/.test(s) ? (s[0] as string) : '';
    return sign + s.slice(sign.length).padStart(checkWidth(a[0]) - sign.length, '0');
  },
  title: (s) => pyTitle(s),
  capitalize: (s) => (s.length > 0 ? (s[0] as string).toUpperCase() + s.slice(1).toLowerCase() : s),
  swapcase: (s) => Array.from(s, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  isdigit: (s) => /^\d+$/.test(s),
  isnumeric: (s) => /^\d+$/.test(s),
  isdecimal: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^\p{L}+$/u.test(s),
  isalnum: (s) => /^[\p{L}\d]+$/u.test(s),
  isupper: (s) => /\p{Lu}/u.test(s) && s === s.toUpperCase(),
  islower: (s) => /\p{Ll}/u.test(s) && s === s.toLowerCase(),
  isspace: (s) => /^\s+$/.test(s),
  partition: (s, a) => {
    const i = s.indexOf(String(a[0]));
    return i < 0 ? tuple([s, '', '']) : tuple([s.slice(0, i), String(a[0]), s.slice(i + String(a[0]).length)]);
  },
  rpartition: (s, a) => {
    const i = s.lastIndexOf(String(a[0]));
    return i < 0 ? tuple(['', '', s]) : tuple([s.slice(0, i), String(a[0]), s.slice(i + String(a[0]).length)]);
  },
  format: (s, a, kw) => strFormat(s, a, kw, (o, n) => (isDict(o) && hasKey(o, n) ? o[n] : Array.isArray(o) && /^\d+$/.test(n) ? o[Number(n)] : undefined)),
};

const listMethods: Record<string, (l: unknown[], a: unknown[]) => unknown> = {
  append: (l, a) => void l.push(a[0]),
  extend: (l, a) => void l.push(...(Array.isArray(a[0]) ? a[0] : [])),
  insert: (l, a) => void l.splice(num(a[0]) < 0 ? Math.max(0, l.length + num(a[0])) : num(a[0]), 0, a[1]),
  pop: (l, a) => {
    if (l.length === 0) throw new TemplateError('runtime', 'pop from empty list');
    const i = a[0] === undefined ? l.length - 1 : num(a[0]) < 0 ? l.length + num(a[0]) : num(a[0]);
    return l.splice(i, 1)[0];
  },
  remove: (l, a) => {
    const i = l.findIndex((x) => pyEquals(x, a[0]));
    if (i < 0) throw new TemplateError('runtime', 'list.remove(x): x not in list');
    l.splice(i, 1);
  },
  index: (l, a) => {
    const i = l.findIndex((x) => pyEquals(x, a[0]));
    if (i < 0) throw new TemplateError('runtime', `${pyStr(a[0])} is not in list`);
    return i;
  },
  count: (l, a) => l.filter((x) => pyEquals(x, a[0])).length,
  reverse: (l) => void l.reverse(),
  copy: (l) => [...l],
  clear: (l) => void l.splice(0),
};

const dictMethods: Record<string, (d: Record<string, unknown>, a: unknown[], kw: Record<string, unknown>) => unknown> = {
  items: (d) => Object.keys(d).map((k) => tuple([k, d[k]])),
  keys: (d) => Object.keys(d),
  values: (d) => Object.keys(d).map((k) => d[k]),
  get: (d, a) => (typeof a[0] === 'string' && hasKey(d, a[0]) ? d[a[0]] : a[1] === undefined ? null : a[1]),
  update: (d, a, kw) => {
    const src = a[0];
    if (isDict(src)) for (const k of Object.keys(src)) setKey(d, k, src[k]);
    else if (Array.isArray(src)) for (const p of src) if (Array.isArray(p)) setKey(d, pyStr(p[0]), p[1]);
    for (const k of Object.keys(kw)) setKey(d, k, kw[k]);
  },
  pop: (d, a) => {
    const k = pyStr(a[0]);
    if (hasKey(d, k)) {
      const v = d[k];
      delete d[k];
      return v;
    }
    if (a.length > 1) return a[1];
    throw new TemplateError('runtime', `KeyError: ${pyStr(a[0])}`);
  },
  setdefault: (d, a) => {
    const k = pyStr(a[0]);
    if (!hasKey(d, k)) setKey(d, k, a[1] ?? null);
    return d[k];
  },
  copy: (d) => ({ ...d }),
};

export function methodOf(obj: unknown, name: string): PyCallable | undefined {
  if (isString(obj)) {
    const m = hasKey(strMethods as Record<string, unknown>, name) ? strMethods[name] : undefined;
    if (!m) return undefined;
    const s = obj instanceof Markup ? obj.s : (obj as string);
    return new PyCallable(name, (a, kw) => m(s, a, kw));
  }
  if (Array.isArray(obj)) {
    const m = hasKey(listMethods as Record<string, unknown>, name) ? listMethods[name] : undefined;
    return m ? new PyCallable(name, (a) => m(obj, a)) : undefined;
  }
  if (isDict(obj)) {
    const m = hasKey(dictMethods as Record<string, unknown>, name) ? dictMethods[name] : undefined;
    return m ? new PyCallable(name, (a, kw) => m(obj, a, kw)) : undefined;
  }
  return undefined;
}

export type { Method };
export const describeType = typeName;

/** Whether `d.<name>` on a dict is one of its methods (which win over a key of the same name, as in Jinja2). */
export function isDictMethod(name: string): boolean {
  return hasKey(dictMethods as Record<string, unknown>, name);
}

/**
 * `obj.name(...)` without making the bound `PyCallable` first: the method `getAttr(obj, name)`
 * would return for a plain string, a list or a dict, called on `obj`; undefined when that read
 * would not give one of these methods (the caller then goes through getAttr).
 */
export function directMethod(obj: unknown, name: string): ((self: never, a: unknown[], kw: Record<string, unknown>) => unknown) | undefined {
  if (typeof obj === 'string') return hasKey(strMethods as Record<string, unknown>, name) ? (strMethods[name] as Method) : undefined;
  if (Array.isArray(obj)) {
    return name !== 'grouper' && name !== 'list' && hasKey(listMethods as Record<string, unknown>, name) ? (listMethods[name] as Method) : undefined;
  }
  if (isDict(obj)) return isDictMethod(name) ? (dictMethods[name] as Method) : undefined;
  return undefined;
}
