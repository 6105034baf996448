/**
 * Runtime values of the Jinja engine and their Python semantics (str(), repr(), truthiness,
 * equality, ordering). Template data is plain JSON-like data; everything the engine itself
 * creates (floats with an integral value, tuples, safe strings, undefined, callables) is an
 * instance of a class declared here. The interpreter never reads a property that is not an own
 * property of a data object and never calls a function that is not a `PyCallable`, which is what
 * keeps JavaScript prototypes, constructors and globals out of a template's reach.
 */

export type ErrorKind = 'syntax' | 'undefined' | 'template_not_found' | 'runtime' | 'limit';

export class TemplateError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    public lineno: number | null = null,
    public template: string | null = null,
    public column: number | null = null,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** A float whose value is integral (`5.0`): plain JS numbers that are integers are Python ints. */
export class PyFloat {
  constructor(readonly v: number) {}
}

/** A string that is already escaped (`|safe`, macro output under autoescape). */
export class Markup {
  constructor(readonly s: string) {}
  toString(): string {
    return this.s;
  }
}

export type UndefinedMode = 'Undefined' | 'StrictUndefined' | 'DebugUndefined' | 'ChainableUndefined';

export class Undefined {
  constructor(
    readonly mode: UndefinedMode,
    readonly hint: string,
    readonly name: string | null = null,
  ) {}
}

/** Something a template may call: builtins, bound methods, macros, `loop`, `caller`. */
export class PyCallable {
  constructor(
    readonly name: string,
    readonly fn: (args: unknown[], kwargs: Record<string, unknown>) => unknown,
    readonly attrs: Record<string, unknown> | null = null,
  ) {}
}

/** `namespace()`: the one object whose attributes a template may assign. */
export class Namespace {
  readonly attrs: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
}

const TUPLE = Symbol('tuple');
export function tuple<T>(items: T[]): T[] {
  (items as unknown as Record<symbol, boolean>)[TUPLE] = true;
  return items;
}
export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && (v as unknown as Record<symbol, boolean>)[TUPLE] === true;
}

export function isDict(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === null || proto === Object.prototype;
}

export function isNumber(v: unknown): boolean {
  return typeof v === 'number' || v instanceof PyFloat || typeof v === 'boolean';
}
export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}
export function isInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v);
}
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NaN;
}
/** A float result: integral values are boxed so they keep printing with `.0`. */
export function float(n: number): number | PyFloat {
  return Number.isInteger(n) ? new PyFloat(n) : n;
}
export function isString(v: unknown): v is string | Markup {
  return typeof v === 'string' || v instanceof Markup;
}

export function hasKey(obj: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}
/** Writes an own key even when it is `__proto__` (never reaches a setter). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
export function newDict(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const a = Math.abs(n);
  // Both languages print the shortest round-trip digits; they differ only in when they switch to exponents.
  if (a >= 1e-4 && a < 1e16) {
    const s = String(n);
    return Number.isInteger(n) ? `${s}.0` : s;
  }
  const [mant, expStr] = Math.abs(n).toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  const sign = n < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

export function repr(v: unknown): string {
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof Markup) return `Markup(${strRepr(v.s)})`;
  return pyStr(v, true);
}

export function pyStr(v: unknown, inner = false): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (v instanceof Markup) return v.s;
  if (Array.isArray(v)) {
    const body = v.map(repr).join(', ');
    if (isTuple(v)) return v.length === 1 ? `(${body},)` : `(${body})`;
    return `[${body}]`;
  }
  if (v instanceof Undefined) return inner ? 'Undefined' : '';
  if (v instanceof PyCallable) return `<function ${v.name}>`;
  if (v instanceof Namespace) return `<Namespace ${pyStr(v.attrs)}>`;
  if (isDict(v)) {
    return `{${Object.keys(v)
      .map((k) => `${strRepr(k)}: ${repr(v[k])}`)
      .join(', ')}}`;
  }
  return '<object>';
}

export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNumber(a) && isNumber(b)) return num(a) === num(b);
  if (isString(a) && isString(b)) return String(a) === String(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length || isTuple(a) !== isTuple(b)) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i], b[i])) return false;
    return true;
  }
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => hasKey(b, k) && pyEquals(a[k], b[k]));
  }
  if (a instanceof Undefined && b instanceof Undefined) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  return false;
}

export function typeName(v: unknown): string {
  if (typeof v === 'string' || v instanceof Markup) return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (isFloat(v)) return 'float';
  if (typeof v === 'number') return 'int';
  if (v === null || v === undefined) return 'NoneType';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (isDict(v)) return 'dict';
  if (v instanceof Undefined) return 'Undefined';
  if (v instanceof PyCallable) return 'function';
  return 'object';
}

/** Python ordering (`<`): numbers with numbers, strings with strings, sequences element-wise. */
export function pyCompare(a: unknown, b: unknown): number {
  if (isNumber(a) && isNumber(b)) {
    const x = num(a);
    const y = num(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (isString(a) && isString(b)) {
    const x = String(a);
    const y = String(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEquals(a[i], b[i])) return pyCompare(a[i], b[i]);
    }
    return a.length - b.length;
  }
  throw new TemplateError('runtime', `'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

export const MISSING = Symbol('missing');
