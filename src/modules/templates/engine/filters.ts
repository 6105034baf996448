import { formatPercent } from './format.js';
import { checkWidth, pyCenter, pySplit } from './methods.js';
import type { FilterFn, Renderer, TestFn } from './render.js';
import { Cycler, binOp, escapeHtml, getAttr, getItem, length, toList, toStr, truthy, undefinedError } from './runtime.js';
import {
  Markup,
  Namespace,
  PyCallable,
  PyFloat,
  TemplateError,
  Undefined,
  float,
  floatRepr,
  hasKey,
  isDict,
  isFloat,
  isInt,
  isNumber,
  isString,
  isTuple,
  newDict,
  num,
  pyCompare,
  pyEquals,
  pyStr,
  repr,
  setKey,
  tuple,
} from './values.js';

/** Jinja2 3.1's builtin filters, tests and globals, with Python's semantics. */

function ignoreCase(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v instanceof Markup ? v.s.toLowerCase() : v;
}

/** `attribute='a.b.0'` → getter; integer parts index lists. */
function attrGetter(r: Renderer, attribute: unknown, post?: (v: unknown) => unknown, dflt?: unknown): (item: unknown) => unknown {
  if (attribute === undefined || attribute === null) return post ?? ((v) => v);
  const parts = (typeof attribute === 'string' ? attribute.split('.') : [attribute]).map((p) => (typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : p));
  return (item) => {
    let v = item;
    for (const p of parts) v = getItem(v, p, r.mode);
    if (v instanceof Undefined && dflt !== undefined) v = dflt;
    return post ? post(v) : v;
  };
}

function multiGetter(r: Renderer, attribute: unknown, post?: (v: unknown) => unknown): (item: unknown) => unknown {
  if (typeof attribute === 'string' && attribute.includes(',')) {
    const getters = attribute.split(',').map((a) => attrGetter(r, a.trim(), post));
    return (item) => getters.map((g) => g(item));
  }
  return attrGetter(r, attribute, post);
}

export function sortStable<T>(items: T[], key: (v: T) => unknown, reverse: boolean): T[] {
  const dec = items.map((v, i) => ({ v, i, k: key(v) }));
  dec.sort((a, b) => {
    const c = pyCompare(a.k, b.k);
    return c !== 0 ? (reverse ? -c : c) : a.i - b.i;
  });
  return dec.map((d) => d.v);
}

function kw(args: unknown[], kwargs: Record<string, unknown>, i: number, name: string, dflt: unknown): unknown {
  if (i < args.length) return args[i];
  if (hasKey(kwargs, name)) return kwargs[name];
  return dflt;
}

/** Python's round(): correctly rounded on the double's exact decimal value, ties to even. */
function pyRound(x: number, nd: number): number {
  if (!Number.isFinite(x) || nd > 90) return x;
  if (nd < 0) {
    const p = 10 ** -nd;
    return pyRound(x / p, 0) * p;
  }
  const digits = Math.abs(x).toFixed(Math.min(100, nd + 30));
  const dot = digits.indexOf('.');
  const keep = digits.slice(0, dot + 1 + nd).replace(/\.$/, '');
  const rest = digits.slice(dot + 1 + nd);
  let up = rest[0] !== undefined && rest[0] > '5';
  if (rest[0] === '5') {
    const tie = /^50*$/.test(rest);
    const last = keep.replace('.', '').slice(-1);
    up = !tie || Number(last) % 2 === 1;
  }
  let v = Number(keep);
  if (up) v = Number((v + 10 ** -nd).toFixed(nd));
  return x < 0 ? -v : v;
}

export function parsePyInt(s: string, base: number): number | null {
  let t = s.trim().replace(/(?<=[0-9a-fA-F])_(?=[0-9a-fA-F])/g, '');
  let sign = 1;
  if (/^[-+]/.test(t)) {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  let b = base;
  const prefix = /^0([xob])/i.exec(t);
  if (b === 0) {
    b = prefix ? { x: 16, o: 8, b: 2 }[(prefix[1] as string).toLowerCase() as 'x' | 'o' | 'b'] : 10;
    if (prefix) t = t.slice(2);
    else if (/^0+[1-9]/.test(t)) return null;
  } else if (
    prefix &&
    ((b === 16 && /x/i.test(prefix[1] as string)) || (b === 8 && /o/i.test(prefix[1] as string)) || (b === 2 && /b/i.test(prefix[1] as string)))
  ) {
    t = t.slice(2);
  }
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b);
  if (t.length === 0 || ![...t.toLowerCase()].every((c) => digits.includes(c))) return null;
  return sign * parseInt(t, b);
}

export function parsePyFloat(v: unknown): number | null {
  if (isNumber(v)) return num(v);
  if (!isString(v)) return null;
  const t = String(v)
    .trim()
    .replace(/(?<=\d)_(?=\d)/g, '')
    .toLowerCase();
  if (/^[-+]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[-+]?nan$/.test(t)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) return null;
  return Number(t);
}

function toInt(v: unknown, dflt: unknown, base: number): unknown {
  if (isString(v)) {
    const n = parsePyInt(String(v), base);
    if (n !== null) return n;
  } else if (isNumber(v)) return Math.trunc(num(v));
  const f = parsePyFloat(v);
  if (f === null || Number.isNaN(f)) return dflt;
  if (!Number.isFinite(f)) throw new TemplateError('runtime', 'cannot convert float infinity to integer');
  return Math.trunc(f);
}

function pyJson(v: unknown, indent: string | null, level: number, sortKeys: boolean): string {
  const nl = indent === null ? '' : '\n' + indent.repeat(level + 1);
  const end = indent === null ? '' : '\n' + indent.repeat(level);
  const sep = indent === null ? ', ' : ',';
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') {
    return Number.isInteger(v) ? String(v) : Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? floatRepr(v) : v > 0 ? 'Infinity' : '-Infinity';
  }
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (isString(v)) return jsonString(String(v));
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + nl + v.map((x) => pyJson(x, indent, level + 1, sortKeys)).join(sep + nl) + end + ']';
  }
  if (isDict(v) || v instanceof Namespace) {
    const d = v instanceof Namespace ? v.attrs : v;
    let keys = Object.keys(d);
    if (keys.length === 0) return '{}';
    if (sortKeys) keys = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + nl + keys.map((k) => `${jsonString(k)}: ${pyJson(d[k], indent, level + 1, sortKeys)}`).join(sep + nl) + end + '}';
  }
  if (v instanceof Undefined) throw undefinedError(v);
  throw new TemplateError('runtime', `Object of type ${pyStr(v)} is not JSON serializable`);
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Python json.dumps (ensure_ascii, given separators), used by tojson and to_json. */
export function pyJsonDumps(v: unknown, indent: number | null, sortKeys: boolean): string {
  return pyJson(v, indent === null ? null : ' '.repeat(indent), 0, sortKeys);
}

// eslint-disable-next-line no-control-regex -- Python's str.splitlines() breaks on these separators
const SPLITLINES_RE = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;
export function pySplitlines(s: string): string[] {
  const lines = s.split(SPLITLINES_RE);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const WORDSEP_RE =
  /(\s+)|((?<=[\w!"'&.,?])-{2,}(?=\w))|(\S+?(?:-(?:(?<=[^\d\W]{2}-)|(?<=[^\d\W]-[^\d\W]-))(?=[^\d\W]-?[^\d\W])|(?=\s|$)|(?<=[\w!"'&.,?])(?=-{2,}\w)))/g;

function textwrap(text: string, width: number, breakLong: boolean, breakOnHyphens: boolean): string[] {
  const chunks = (breakOnHyphens ? (text.match(WORDSEP_RE) ?? []) : text.split(/(\s+)/)).filter((c) => c !== '');
  chunks.reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const cur: string[] = [];
    let curLen = 0;
    if ((chunks[chunks.length - 1] as string).trim() === '' && lines.length > 0) chunks.pop();
    while (chunks.length > 0) {
      const l = (chunks[chunks.length - 1] as string).length;
      if (curLen + l <= width) {
        cur.push(chunks.pop() as string);
        curLen += l;
      } else break;
    }
    if (chunks.length > 0 && (chunks[chunks.length - 1] as string).length > width) {
      const spaceLeft = width < 1 ? 1 : width - curLen;
      if (breakLong) {
        const chunk = chunks[chunks.length - 1] as string;
        let end = spaceLeft;
        if (breakOnHyphens && chunk.length > spaceLeft) {
          const hyphen = chunk.lastIndexOf('-', spaceLeft - 1);
          if (hyphen > 0 && /[^-]/.test(chunk.slice(0, hyphen))) end = hyphen + 1;
        }
        cur.push(chunk.slice(0, end));
        chunks[chunks.length - 1] = chunk.slice(end);
      } else if (cur.length === 0) cur.push(chunks.pop() as string);
    }
    if (cur.length > 0 && (cur[cur.length - 1] as string).trim() === '') cur.pop();
    if (cur.length > 0) lines.push(cur.join(''));
  }
  return lines;
}

function selectOrReject(r: Renderer, value: unknown, args: unknown[], wantTrue: boolean, attr: boolean): unknown[] {
  const items = toList(value);
  let getter: (v: unknown) => unknown = (v) => v;
  let rest = args;
  if (attr) {
    getter = attrGetter(r, args[0]);
    rest = args.slice(1);
  }
  let test: (v: unknown) => boolean = (v) => truthy(v);
  if (rest.length > 0) {
    const name = String(rest[0]);
    const fn = hasKey(r.env.tests, name) ? r.env.tests[name] : undefined;
    if (!fn) throw new TemplateError('runtime', `No test named '${name}'.`);
    const targs = rest.slice(1);
    test = (v) => fn(r, v, targs);
  }
  return items.filter((item) => test(getter(item)) === wantTrue);
}

function minMax(r: Renderer, value: unknown, args: unknown[], kwargs: Record<string, unknown>, sign: number): unknown {
  const items = toList(value);
  if (items.length === 0) return new Undefined(r.mode, 'No aggregated item, sequence was empty.');
  const cs = truthy(kw(args, kwargs, 0, 'case_sensitive', false));
  const getter = attrGetter(r, kw(args, kwargs, 1, 'attribute', null), cs ? undefined : ignoreCase);
  let best = items[0];
  let bestKey = getter(best);
  for (const item of items.slice(1)) {
    const k = getter(item);
    if (pyCompare(k, bestKey) * sign > 0) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}

const filters: Record<string, FilterFn> = {
  abs: (_r, v) =>
    v instanceof PyFloat
      ? new PyFloat(Math.abs(v.v))
      : isNumber(v)
        ? Math.abs(num(v))
        : (() => {
            throw new TemplateError('runtime', `bad operand type for abs(): '${pyStr(v)}'`);
          })(),
  attr: (r, v, a) => getAttr(v, String(a[0]), r.mode),
  batch: (_r, v, a, k) => {
    const n = num(kw(a, k, 0, 'linecount', 1));
    const fill = kw(a, k, 1, 'fill_with', null);
    const items = toList(v);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    const last = out[out.length - 1];
    if (fill !== null && last) while (last.length < n) last.push(fill);
    return out;
  },
  capitalize: (_r, v) => {
    const s = toStr(v);
    return s.length > 0 ? (s[0] as string).toUpperCase() + s.slice(1).toLowerCase() : s;
  },
  center: (_r, v, a, k) => pyCenter(toStr(v), num(kw(a, k, 0, 'width', 80))),
  count: (_r, v) => length(v),
  default: (_r, v, a, k) => {
    const dflt = kw(a, k, 0, 'default_value', '');
    const bool = truthy(kw(a, k, 1, 'boolean', false));
    if (v instanceof Undefined || (bool && !truthy(v))) return dflt;
    return v;
  },
  dictsort: (_r, v, a, k) => {
    if (!isDict(v)) throw new TemplateError('runtime', 'You can only sort by either "key" or "value"');
    const cs = truthy(kw(a, k, 0, 'case_sensitive', false));
    const by = kw(a, k, 1, 'by', 'key');
    const pos = by === 'key' ? 0 : by === 'value' ? 1 : -1;
    if (pos < 0) throw new TemplateError('runtime', 'You can only sort by either "key" or "value"');
    const items = Object.keys(v).map((key) => tuple([key, v[key]]));
    return sortStable(items, (it) => (cs ? it[pos] : ignoreCase(it[pos])), truthy(kw(a, k, 2, 'reverse', false)));
  },
  escape: (_r, v) => (v instanceof Markup ? v : new Markup(escapeHtml(toStr(v)))),
  filesizeformat: (_r, v, a, k) => {
    const bytes = num(v);
    const binary = truthy(kw(a, k, 0, 'binary', false));
    const base = binary ? 1024 : 1000;
    const prefixes = binary ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
    if (bytes === 1) return '1 Byte';
    if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
    let unit = base;
    let prefix = prefixes[0] as string;
    for (let i = 0; i < prefixes.length; i++) {
      unit = base ** (i + 2);
      prefix = prefixes[i] as string;
      if (bytes < unit) break;
    }
    return `${((base * bytes) / unit).toFixed(1)} ${prefix}`;
  },
  first: (r, v) => {
    const items = toList(v);
    return items.length > 0 ? items[0] : new Undefined(r.mode, 'No first item, sequence was empty.');
  },
  float: (_r, v, a, k) => {
    const f = parsePyFloat(v);
    return f === null ? kw(a, k, 0, 'default', new PyFloat(0)) : float(f);
  },
  forceescape: (_r, v) => new Markup(escapeHtml(v instanceof Markup ? v.s : toStr(v))),
  format: (_r, v, a, k) => {
    if (a.length > 0 && Object.keys(k).length > 0) throw new TemplateError('runtime', "can't handle positional and keyword arguments at the same time");
    return formatPercent(toStr(v), Object.keys(k).length > 0 ? k : tuple(a));
  },
  groupby: (r, v, a, k) => {
    const cs = truthy(kw(a, k, 2, 'case_sensitive', false));
    const getter = attrGetter(r, kw(a, k, 0, 'attribute', null), cs ? undefined : ignoreCase, kw(a, k, 1, 'default', undefined));
    const sorted = sortStable(toList(v), getter, false);
    const groups: unknown[] = [];
    let cur: unknown[] | null = null;
    let curKey: unknown = undefined;
    const rawGetter = attrGetter(r, kw(a, k, 0, 'attribute', null), undefined, kw(a, k, 1, 'default', undefined));
    for (const item of sorted) {
      const key = getter(item);
      if (cur === null || !pyEquals(key, curKey)) {
        cur = [];
        curKey = key;
        const group = tuple([cs ? key : rawGetter(item), cur]) as unknown[] & Record<string, unknown>;
        group.grouper = group[0];
        group.list = cur;
        groups.push(group);
      }
      cur.push(item);
    }
    return groups;
  },
  indent: (_r, v, a, k) => {
    const width = kw(a, k, 0, 'width', 4);
    const first = truthy(kw(a, k, 1, 'first', false));
    const blank = truthy(kw(a, k, 2, 'blank', false));
    const ind = typeof width === 'string' ? width : ' '.repeat(checkWidth(width));
    const s = toStr(v) + '\n';
    let rv: string;
    if (blank) rv = pySplitlines(s).join('\n' + ind);
    else {
      const lines = pySplitlines(s);
      rv = lines.shift() ?? '';
      if (lines.length > 0) rv += '\n' + lines.map((l) => (l ? ind + l : l)).join('\n');
    }
    if (first) rv = ind + rv;
    return v instanceof Markup ? new Markup(rv) : rv;
  },
  int: (_r, v, a, k) => toInt(v, kw(a, k, 0, 'default', 0), num(kw(a, k, 1, 'base', 10))),
  items: (_r, v) => {
    if (v instanceof Undefined) return [];
    if (!isDict(v)) throw new TemplateError('runtime', 'Can only get item pairs from a mapping.');
    return Object.keys(v).map((key) => tuple([key, v[key]]));
  },
  join: (r, v, a, k) => {
    const d = toStr(kw(a, k, 0, 'd', ''));
    const getter = attrGetter(r, kw(a, k, 1, 'attribute', null));
    const items = toList(v).map(getter);
    if (r.autoescape) return new Markup(items.map((x) => (x instanceof Markup ? x.s : escapeHtml(toStr(x)))).join(d));
    return items.map((x) => toStr(x)).join(d);
  },
  last: (r, v) => {
    const items = toList(v);
    return items.length > 0 ? items[items.length - 1] : new Undefined(r.mode, 'No last item, sequence was empty.');
  },
  length: (_r, v) => length(v),
  list: (_r, v) => [...toList(v)],
  lower: (_r, v) => toStr(v).toLowerCase(),
  map: (r, v, a, k) => {
    const items = toList(v);
    if (a.length === 0 && hasKey(k, 'attribute')) {
      const getter = attrGetter(r, k.attribute, undefined, hasKey(k, 'default') ? k.default : undefined);
      return items.map(getter);
    }
    const name = String(a[0]);
    const fn = hasKey(r.env.filters, name) ? r.env.filters[name] : undefined;
    if (!fn) throw new TemplateError('runtime', `No filter named '${name}'.`);
    const rest = a.slice(1);
    return items.map((item) => fn(r, item, rest, k));
  },
  max: (r, v, a, k) => minMax(r, v, a, k, 1),
  min: (r, v, a, k) => minMax(r, v, a, k, -1),
  pprint: (_r, v) => repr(v),
  random: (r, v) => {
    const items = toList(v);
    return items.length > 0 ? items[Math.floor(Math.random() * items.length)] : new Undefined(r.mode, 'No random item, sequence was empty.');
  },
  reject: (r, v, a) => selectOrReject(r, v, a, false, false),
  rejectattr: (r, v, a) => selectOrReject(r, v, a, false, true),
  replace: (_r, v, a, k) => {
    const s = toStr(v);
    const count = kw(a, k, 2, 'count', null);
    const old = toStr(a[0]);
    const nw = toStr(a[1]);
    const parts = s.split(old);
    if (count === null || parts.length - 1 <= num(count)) return parts.join(nw);
    const c = num(count);
    return parts.slice(0, c + 1).join(nw) + old + parts.slice(c + 1).join(old);
  },
  reverse: (_r, v) => (isString(v) ? Array.from(String(v)).reverse().join('') : [...toList(v)].reverse()),
  round: (_r, v, a, k) => {
    const prec = num(kw(a, k, 0, 'precision', 0));
    const method = kw(a, k, 1, 'method', 'common');
    const x = num(v);
    if (method === 'common') return isInt(v) ? v : float(pyRound(x, prec));
    if (method !== 'ceil' && method !== 'floor') throw new TemplateError('runtime', 'method must be common, ceil or floor');
    const f = method === 'ceil' ? Math.ceil : Math.floor;
    return float(f(x * 10 ** prec) / 10 ** prec);
  },
  safe: (_r, v) => (v instanceof Markup ? v : new Markup(toStr(v))),
  select: (r, v, a) => selectOrReject(r, v, a, true, false),
  selectattr: (r, v, a) => selectOrReject(r, v, a, true, true),
  slice: (_r, v, a, k) => {
    const seq = toList(v);
    const slices = num(kw(a, k, 0, 'slices', 1));
    const fill = kw(a, k, 1, 'fill_with', null);
    const per = Math.floor(seq.length / slices);
    const extra = seq.length % slices;
    let offset = 0;
    const out: unknown[][] = [];
    for (let n = 0; n < slices; n++) {
      const start = offset + n * per;
      if (n < extra) offset++;
      const end = offset + (n + 1) * per;
      const tmp = seq.slice(start, end);
      if (fill !== null && n >= extra) tmp.push(fill);
      out.push(tmp);
    }
    return out;
  },
  sort: (r, v, a, k) => {
    const reverse = truthy(kw(a, k, 0, 'reverse', false));
    const cs = truthy(kw(a, k, 1, 'case_sensitive', false));
    const getter = multiGetter(r, kw(a, k, 2, 'attribute', null), cs ? undefined : ignoreCase);
    return sortStable([...toList(v)], getter, reverse);
  },
  string: (_r, v) => (v instanceof Markup ? v : toStr(v)),
  striptags: (_r, v) =>
    toStr(v)
      .replace(/<!--.*?-->|<[^>]*>/gs, '')
      .split(/\s+/)
      .filter(Boolean)
      .join(' '),
  sum: (r, v, a, k) => {
    const getter = attrGetter(r, kw(a, k, 0, 'attribute', null));
    let total: unknown = kw(a, k, 1, 'start', 0);
    for (const item of toList(v)) {
      const x = getter(item);
      total = binOp('+', total, x, r.maxLen());
    }
    return total;
  },
  title: (_r, v) =>
    toStr(v)
      .split(/([-\s({[<]+)/)
      .filter((s) => s !== '')
      .map((s) => (s[0] as string).toUpperCase() + s.slice(1).toLowerCase())
      .join(''),
  tojson: (_r, v, a, k) => {
    const indent = kw(a, k, 0, 'indent', null);
    const s = pyJsonDumps(v, indent === null ? null : num(indent), true);
    return new Markup(s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/'/g, '\\u0027'));
  },
  trim: (_r, v, a, k) => {
    const chars = kw(a, k, 0, 'chars', null);
    const s = toStr(v);
    if (chars === null) return s.replace(/^\s+|\s+$/g, '');
    const set = String(chars);
    let i = 0;
    let j = s.length;
    while (i < j && set.includes(s[i] as string)) i++;
    while (j > i && set.includes(s[j - 1] as string)) j--;
    return s.slice(i, j);
  },
  truncate: (_r, v, a, k) => {
    const s = toStr(v);
    const len = num(kw(a, k, 0, 'length', 255));
    const killwords = truthy(kw(a, k, 1, 'killwords', false));
    const end = toStr(kw(a, k, 2, 'end', '...'));
    const leeway = num(kw(a, k, 3, 'leeway', 5));
    if (s.length <= len + leeway) return s;
    if (killwords) return s.slice(0, Math.max(0, len - end.length)) + end;
    const head = s.slice(0, Math.max(0, len - end.length));
    const i = head.lastIndexOf(' ');
    return (i >= 0 ? head.slice(0, i) : head) + end;
  },
  unique: (r, v, a, k) => {
    const cs = truthy(kw(a, k, 0, 'case_sensitive', false));
    const getter = attrGetter(r, kw(a, k, 1, 'attribute', null), cs ? undefined : ignoreCase);
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const item of toList(v)) {
      const key = getter(item);
      if (!seen.some((s) => pyEquals(s, key))) {
        seen.push(key);
        out.push(item);
      }
    }
    return out;
  },
  upper: (_r, v) => toStr(v).toUpperCase(),
  urlencode: (_r, v) => {
    if (isDict(v)) {
      return Object.keys(v)
        .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(toStr(v[key]))}`)
        .join('&');
    }
    return encodeURIComponent(toStr(v)).replace(/%2F/g, '/');
  },
  wordcount: (_r, v) => (toStr(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
  wordwrap: (_r, v, a, k) => {
    const width = num(kw(a, k, 0, 'width', 79));
    const breakLong = truthy(kw(a, k, 1, 'break_long_words', true));
    const wrap = kw(a, k, 2, 'wrapstring', null);
    const hyph = truthy(kw(a, k, 3, 'break_on_hyphens', true));
    const ws = wrap === null ? '\n' : toStr(wrap);
    return pySplitlines(toStr(v))
      .map((line) => textwrap(line, width, breakLong, hyph).join(ws))
      .join(ws);
  },
  xmlattr: (_r, v, a) => {
    if (!isDict(v)) return '';
    const parts = Object.keys(v)
      .filter((key) => v[key] !== null && !(v[key] instanceof Undefined))
      .map((key) => `${escapeHtml(key)}="${escapeHtml(toStr(v[key]))}"`);
    const s = parts.join(' ');
    return new Markup(s && (a[0] ?? true) ? ' ' + s : s);
  },
};
filters.d = filters.default as FilterFn;
filters.e = filters.escape as FilterFn;

function sameas(a: unknown, b: unknown): boolean {
  return a === b || (a === null && b === undefined) || (a === undefined && b === null);
}

const tests: Record<string, TestFn> = {
  boolean: (_r, v) => typeof v === 'boolean',
  callable: (_r, v) => v instanceof PyCallable || v instanceof Cycler,
  defined: (_r, v) => !(v instanceof Undefined),
  divisibleby: (_r, v, a) => num(v) % num(a[0]) === 0,
  eq: (_r, v, a) => pyEquals(v, a[0]),
  escaped: (_r, v) => v instanceof Markup,
  even: (_r, v) => num(v) % 2 === 0,
  false: (_r, v) => v === false,
  filter: (r, v) => typeof v === 'string' && hasKey(r.env.filters, v),
  float: (_r, v) => isFloat(v),
  ge: (_r, v, a) => pyCompare(v, a[0]) >= 0,
  gt: (_r, v, a) => pyCompare(v, a[0]) > 0,
  in: (_r, v, a) =>
    isString(a[0])
      ? String(a[0]).includes(toStr(v))
      : Array.isArray(a[0])
        ? a[0].some((x) => pyEquals(x, v))
        : isDict(a[0])
          ? typeof v === 'string' && hasKey(a[0], v)
          : false,
  integer: (_r, v) => isInt(v),
  iterable: (_r, v) => Array.isArray(v) || isString(v) || isDict(v),
  le: (_r, v, a) => pyCompare(v, a[0]) <= 0,
  lower: (_r, v) => isString(v) && String(v) === String(v).toLowerCase(),
  lt: (_r, v, a) => pyCompare(v, a[0]) < 0,
  mapping: (_r, v) => isDict(v),
  ne: (_r, v, a) => !pyEquals(v, a[0]),
  none: (_r, v) => v === null,
  number: (_r, v) => isNumber(v),
  odd: (_r, v) => Math.abs(num(v) % 2) === 1,
  sameas: (_r, v, a) => sameas(v, a[0]),
  sequence: (_r, v) => Array.isArray(v) || isString(v) || isDict(v),
  string: (_r, v) => isString(v),
  test: (r, v) => typeof v === 'string' && hasKey(r.env.tests, v),
  true: (_r, v) => v === true,
  undefined: (_r, v) => v instanceof Undefined,
  upper: (_r, v) => isString(v) && String(v) === String(v).toUpperCase(),
};
Object.assign(tests, {
  '==': tests.eq,
  equalto: tests.eq,
  '!=': tests.ne,
  '<': tests.lt,
  lessthan: tests.lt,
  '<=': tests.le,
  '>': tests.gt,
  greaterthan: tests.gt,
  '>=': tests.ge,
});

export function builtinGlobals(maxRange: number): Record<string, unknown> {
  const g = newDict();
  g.range = new PyCallable('range', (a) => {
    const [start, stop, step] = a.length === 1 ? [0, num(a[0]), 1] : [num(a[0]), num(a[1]), a.length > 2 ? num(a[2]) : 1];
    if (step === 0) throw new TemplateError('runtime', 'range() arg 3 must not be zero');
    const n = Math.max(0, Math.ceil((stop - start) / step));
    if (n > maxRange) throw new TemplateError('limit', `range() is limited to ${maxRange} items`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(start + i * step);
    return out;
  });
  g.dict = new PyCallable('dict', (a, k) => {
    const d = newDict();
    if (isDict(a[0])) for (const key of Object.keys(a[0])) setKey(d, key, a[0][key]);
    for (const key of Object.keys(k)) setKey(d, key, k[key]);
    return d;
  });
  g.namespace = new PyCallable('namespace', (a, k) => {
    const ns = new Namespace();
    if (isDict(a[0])) for (const key of Object.keys(a[0])) setKey(ns.attrs, key, a[0][key]);
    for (const key of Object.keys(k)) setKey(ns.attrs, key, k[key]);
    return ns;
  });
  g.cycler = new PyCallable('cycler', (a) => new Cycler(a));
  g.joiner = new PyCallable('joiner', (a) => {
    let used = false;
    const sep = a.length > 0 ? toStr(a[0]) : ', ';
    return new PyCallable('joiner', () => {
      if (!used) {
        used = true;
        return '';
      }
      return sep;
    });
  });
  g.lipsum = new PyCallable('lipsum', () => 'Lorem ipsum dolor sit amet, consectetur adipiscing elit.');
  return g;
}

export const builtinFilters = filters;
export const builtinTests = tests;
export { isTuple, pySplit };
