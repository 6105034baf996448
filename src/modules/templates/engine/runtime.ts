import {
  Markup,
  Namespace,
  PyCallable,
  PyFloat,
  TemplateError,
  Undefined,
  float,
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
  tuple,
  typeName,
} from './values.js';
import { formatPercent } from './format.js';
import { isDictMethod, methodOf } from './methods.js';

/** Objects the interpreter creates and gives attributes to; all attribute reads go through getAttr. */
export class LoopState {
  index0 = 0;
  lastChanged: unknown[] | null = null;
  constructor(
    readonly items: unknown[],
    readonly depth0: number,
    readonly recurse: ((items: unknown) => unknown) | null,
  ) {}
}
export class SliceVal {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}
}
export class TemplateModule {
  constructor(
    readonly name: string,
    readonly attrs: Record<string, unknown>,
  ) {}
}
export class Cycler {
  pos = 0;
  constructor(readonly items: unknown[]) {}
}

export function undefinedError(u: Undefined): TemplateError {
  return new TemplateError('undefined', u.hint);
}

export function failUndefined(v: unknown): void {
  if (v instanceof Undefined && v.mode !== 'Undefined' && v.mode !== 'ChainableUndefined' && v.mode !== 'DebugUndefined') throw undefinedError(v);
}

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof Undefined) {
    if (v.mode === 'StrictUndefined') throw undefinedError(v);
    return false;
  }
  if (v instanceof PyFloat) return v.v !== 0;
  if (v instanceof Markup) return v.s.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** str(v) as a template sees it: strict undefined raises, lenient prints empty. */
export function toStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Undefined) {
    if (v.mode === 'StrictUndefined') throw undefinedError(v);
    if (v.mode === 'DebugUndefined') return debugText(v);
    return '';
  }
  return pyStr(v);
}
export function debugText(u: Undefined): string {
  return u.name !== null ? `{{ ${u.name} }}` : `{{ ${u.hint.replace(/ is undefined$/, '')} }}`;
}

export function toList(v: unknown, what = 'object'): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (v instanceof Markup) return Array.from(v.s);
  if (isDict(v)) return Object.keys(v);
  if (v instanceof Undefined) {
    if (v.mode === 'StrictUndefined' || v.mode === 'DebugUndefined') throw undefinedError(v);
    return [];
  }
  if (v instanceof Namespace) return Object.keys(v.attrs);
  throw new TemplateError('runtime', `'${typeName(v)}' ${what} is not iterable`);
}

export function length(v: unknown): number {
  if (typeof v === 'string') return Array.from(v).length;
  if (Array.isArray(v)) return v.length;
  if (isDict(v)) return Object.keys(v).length;
  if (v instanceof Markup) return Array.from(v.s).length;
  if (v instanceof Undefined) {
    if (v.mode !== 'Undefined' && v.mode !== 'ChainableUndefined') throw undefinedError(v);
    return 0;
  }
  throw new TemplateError('runtime', `object of type '${typeName(v)}' has no len()`);
}

export function contains(container: unknown, item: unknown): boolean {
  failUndefined(container);
  failUndefined(item);
  if (isString(container)) {
    if (!isString(item)) throw new TemplateError('runtime', `'in <string>' requires string as left operand, not ${typeName(item)}`);
    return String(container).includes(String(item));
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (isDict(container)) return typeof item === 'string' ? hasKey(container, item) : isInt(item) ? hasKey(container, String(item)) : false;
  if (container instanceof Undefined) return false;
  throw new TemplateError('runtime', `argument of type '${typeName(container)}' is not iterable`);
}

function normIndex(i: number, len: number): number {
  return i < 0 ? i + len : i;
}

/** Python's `seq[start:stop:step]` bounds for a sequence of `len` items. */
function sliceBounds(len: number, s: SliceVal): [number, number, number] {
  const step = s.step === null || s.step === undefined ? 1 : num(s.step);
  if (step === 0) throw new TemplateError('runtime', 'slice step cannot be zero');
  const clamp = (v: unknown, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    let i = normIndex(num(v), len);
    if (step > 0) i = Math.min(Math.max(i, 0), len);
    else i = Math.min(Math.max(i, -1), len - 1);
    return i;
  };
  return [clamp(s.start, step > 0 ? 0 : len - 1), clamp(s.stop, step > 0 ? len : -1), step];
}

export function sliceSeq<T>(seq: T[], s: SliceVal): T[] {
  const [start, stop, step] = sliceBounds(seq.length, s);
  const out: T[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(seq[i] as T);
  else for (let i = start; i > stop; i += step) out.push(seq[i] as T);
  return out;
}

export function getAttr(obj: unknown, name: string, mode: Undefined['mode']): unknown {
  if (obj instanceof Undefined) {
    if (obj.mode === 'ChainableUndefined') return obj;
    throw undefinedError(obj);
  }
  if (isDict(obj)) {
    if (!isDictMethod(name) && hasKey(obj, name)) return obj[name];
    const m = methodOf(obj, name);
    if (m !== undefined) return m;
    return new Undefined(mode, `'dict object' has no attribute '${name}'`);
  }
  if (obj instanceof LoopState) return loopAttr(obj, name, mode);
  if (obj instanceof Namespace) return hasKey(obj.attrs, name) ? obj.attrs[name] : new Undefined(mode, `'Namespace' object has no attribute '${name}'`);
  if (obj instanceof TemplateModule) return hasKey(obj.attrs, name) ? obj.attrs[name] : new Undefined(mode, `'${obj.name}' has no attribute '${name}'`);
  if (obj instanceof PyCallable) {
    return obj.attrs !== null && hasKey(obj.attrs, name) ? obj.attrs[name] : new Undefined(mode, `'function object' has no attribute '${name}'`);
  }
  if (obj instanceof Cycler) {
    if (name === 'current') return obj.items[obj.pos];
    if (name === 'next') return new PyCallable('next', () => cyclerNext(obj));
    if (name === 'reset') return new PyCallable('reset', () => void (obj.pos = 0));
  }
  if (Array.isArray(obj) && (name === 'grouper' || name === 'list') && hasKey(obj as unknown as Record<string, unknown>, name)) {
    return (obj as unknown as Record<string, unknown>)[name];
  }
  const m = methodOf(obj, name);
  if (m !== undefined) return m;
  return new Undefined(mode, `'${obj === null ? 'None' : typeName(obj) + ' object'}' has no attribute '${name}'`);
}

function cyclerNext(c: Cycler): unknown {
  const v = c.items[c.pos];
  c.pos = (c.pos + 1) % c.items.length;
  return v;
}

function loopAttr(l: LoopState, name: string, mode: Undefined['mode']): unknown {
  const len = l.items.length;
  switch (name) {
    case 'index':
      return l.index0 + 1;
    case 'index0':
      return l.index0;
    case 'revindex':
      return len - l.index0;
    case 'revindex0':
      return len - l.index0 - 1;
    case 'first':
      return l.index0 === 0;
    case 'last':
      return l.index0 === len - 1;
    case 'length':
      return len;
    case 'depth':
      return l.depth0 + 1;
    case 'depth0':
      return l.depth0;
    case 'previtem':
      return l.index0 > 0 ? l.items[l.index0 - 1] : new Undefined(mode, 'there is no previous item');
    case 'nextitem':
      return l.index0 < len - 1 ? l.items[l.index0 + 1] : new Undefined(mode, 'there is no next item');
    case 'cycle':
      return new PyCallable('cycle', (args) => {
        if (args.length === 0) throw new TemplateError('runtime', 'no items for cycling given');
        return args[l.index0 % args.length];
      });
    case 'changed':
      return new PyCallable('changed', (args) => {
        if (l.lastChanged !== null && pyEquals(l.lastChanged, args)) return false;
        l.lastChanged = args;
        return true;
      });
    default:
      return new Undefined(mode, `'LoopContext' object has no attribute '${name}'`);
  }
}

export function getItem(obj: unknown, key: unknown, mode: Undefined['mode']): unknown {
  if (obj instanceof Undefined) {
    if (obj.mode === 'ChainableUndefined') return obj;
    throw undefinedError(obj);
  }
  if (typeof obj === 'string' && !SURROGATE.test(obj)) {
    // Every UTF-16 unit is a code point: index and slice the string itself.
    if (key instanceof SliceVal) {
      const [start, stop, step] = sliceBounds(obj.length, key);
      if (step === 1) return start < stop ? obj.slice(start, stop) : '';
    } else if (isInt(key) || typeof key === 'boolean') {
      const i = normIndex(num(key), obj.length);
      if (i >= 0 && i < obj.length) return obj[i];
    }
  }
  if (Array.isArray(obj) || typeof obj === 'string' || obj instanceof Markup) {
    const seq = Array.isArray(obj) ? obj : Array.from(String(obj));
    if (key instanceof SliceVal) {
      const out = sliceSeq(seq, key);
      return Array.isArray(obj) ? (isTuple(obj) ? tuple(out) : out) : out.join('');
    }
    if (isInt(key) || typeof key === 'boolean') {
      const i = normIndex(num(key), seq.length);
      if (i >= 0 && i < seq.length) return seq[i];
      return new Undefined(mode, `${typeName(obj)} object has no element ${pyStr(key)}`);
    }
  }
  if (isDict(obj)) {
    if (typeof key === 'string' && hasKey(obj, key)) return obj[key];
    if (isNumber(key) && !isFloat(key) && hasKey(obj, String(num(key)))) return obj[String(num(key))];
  }
  if (typeof key === 'string') return getAttr(obj, key, mode);
  return new Undefined(mode, `'${typeName(obj)} object' has no attribute ${pyStr(key)}`);
}

const SURROGATE = /[\uD800-\uDFFF]/;

function requireDefined(a: unknown, b: unknown): void {
  if (a instanceof Undefined) throw undefinedError(a);
  if (b instanceof Undefined) throw undefinedError(b);
}

function typeError(op: string, a: unknown, b: unknown): TemplateError {
  return new TemplateError('runtime', `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

export function binOp(op: string, a: unknown, b: unknown, maxLen: number): unknown {
  requireDefined(a, b);
  const numeric = isNumber(a) && isNumber(b);
  const anyFloat = isFloat(a) || isFloat(b);
  const x = num(a);
  const y = num(b);
  switch (op) {
    case '+':
      if (numeric) return anyFloat ? float(x + y) : x + y;
      if (isString(a) && isString(b)) return capLen(String(a) + String(b), maxLen);
      if (Array.isArray(a) && Array.isArray(b)) return isTuple(a) ? tuple([...a, ...b]) : [...a, ...b];
      throw isString(a) ? new TemplateError('runtime', `can only concatenate str (not "${typeName(b)}") to str`) : typeError('+', a, b);
    case '-':
      if (numeric) return anyFloat ? float(x - y) : x - y;
      throw typeError('-', a, b);
    case '*':
      if (numeric) return anyFloat ? float(x * y) : x * y;
      if (isString(a) && isInt(b)) return capLen(String(a).repeat(Math.max(0, checkRepeat(String(a).length, y, maxLen))), maxLen);
      if (isInt(a) && isString(b)) return capLen(String(b).repeat(Math.max(0, checkRepeat(String(b).length, x, maxLen))), maxLen);
      if (Array.isArray(a) && isInt(b)) return repeatList(a, y, maxLen);
      throw typeError('*', a, b);
    case '/':
      if (!numeric) throw typeError('/', a, b);
      if (y === 0) throw new TemplateError('runtime', 'division by zero');
      return float(x / y);
    case '//':
      if (!numeric) throw typeError('//', a, b);
      if (y === 0) throw new TemplateError('runtime', 'integer division or modulo by zero');
      return anyFloat ? float(Math.floor(x / y)) : Math.floor(x / y);
    case '%':
      if (isString(a)) return capLen(formatPercent(String(a), b), maxLen);
      if (!numeric) throw typeError('%', a, b);
      if (y === 0) throw new TemplateError('runtime', 'integer division or modulo by zero');
      return anyFloat ? float(pyMod(x, y)) : pyMod(x, y);
    case '**':
      if (!numeric) throw typeError('**', a, b);
      return anyFloat || y < 0 ? float(x ** y) : x ** y;
    default:
      throw new TemplateError('runtime', `unknown operator ${op}`);
  }
}

function checkRepeat(len: number, times: number, maxLen: number): number {
  if (len * times > maxLen) throw new TemplateError('limit', `a string of more than ${maxLen} characters`);
  return times;
}
function repeatList(a: unknown[], n: number, maxLen: number): unknown[] {
  if (a.length * n > maxLen) throw new TemplateError('limit', `a list of more than ${maxLen} items`);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(...a);
  return out;
}
export function capLen(s: string, maxLen: number): string {
  if (s.length > maxLen) throw new TemplateError('limit', `a string of more than ${maxLen} characters`);
  return s;
}

export function compareOp(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case 'eq':
      if (a instanceof Undefined && a.mode === 'StrictUndefined') throw undefinedError(a);
      if (b instanceof Undefined && b.mode === 'StrictUndefined') throw undefinedError(b);
      return pyEquals(a, b);
    case 'ne':
      if (a instanceof Undefined && a.mode === 'StrictUndefined') throw undefinedError(a);
      if (b instanceof Undefined && b.mode === 'StrictUndefined') throw undefinedError(b);
      return !pyEquals(a, b);
    case 'in':
      return contains(b, a);
    case 'notin':
      return !contains(b, a);
  }
  requireDefined(a, b);
  const c = pyCompare(a, b);
  switch (op) {
    case 'lt':
      return c < 0;
    case 'lteq':
      return c <= 0;
    case 'gt':
      return c > 0;
    default:
      return c >= 0;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&#34;' : '&#39;'));
}

export function makeDict(pairs: [string, unknown][]): Record<string, unknown> {
  const d = newDict();
  for (const [k, v] of pairs) {
    if (k === '__proto__') Object.defineProperty(d, k, { value: v, writable: true, enumerable: true, configurable: true });
    else d[k] = v;
  }
  return d;
}
