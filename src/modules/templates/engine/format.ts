import { checkWidth } from './methods.js';
import { Markup, TemplateError, floatRepr, hasKey, isDict, isFloat, isNumber, isTuple, num, pyStr, repr } from './values.js';

/** Python's printf-style `%` and `str.format` (the parts templates use), returning exact Python text. */

function pyRoundFixed(x: number, prec: number): string {
  return x.toFixed(Math.min(prec, 100));
}

function formatNumber(value: unknown, type: string, prec: number | null, flags: { plus: boolean; space: boolean; alt: boolean; comma?: string }): string {
  if (!isNumber(value)) throw new TemplateError('runtime', `%${type} format: a real number is required, not ${typeof value}`);
  const x = num(value);
  let body: string;
  const a = Math.abs(x);
  switch (type) {
    case 'd':
    case 'i':
    case 'n':
      body = String(Math.trunc(a));
      break;
    case 'f':
    case 'F':
      body = Number.isFinite(a) ? pyRoundFixed(a, prec ?? 6) : a === Infinity ? 'inf' : 'nan';
      break;
    case 'e':
    case 'E': {
      const s = a.toExponential(prec ?? 6);
      const [m, e] = s.split('e') as [string, string];
      body = `${m}e${e[0]}${e.slice(1).padStart(2, '0')}`;
      if (type === 'E') body = body.toUpperCase();
      break;
    }
    case 'g':
    case 'G':
    case '': {
      if (type === '' && prec === null) {
        body = isFloat(value) ? floatRepr(a) : String(a);
        break;
      }
      const p = prec === null ? 6 : Math.max(prec, 1);
      const exp = a === 0 ? 0 : Math.floor(Math.log10(a));
      if (exp < -4 || exp >= p) {
        const s = a.toExponential(p - 1);
        const [mant, e] = s.split('e') as [string, string];
        const m = !flags.alt && mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
        body = `${m}e${e[0]}${e.slice(1).padStart(2, '0')}`;
      } else {
        body = a.toFixed(Math.max(p - 1 - exp, 0));
        if (!flags.alt && body.includes('.')) body = body.replace(/\.?0+$/, '');
      }
      if (type === 'G') body = body.toUpperCase();
      break;
    }
    case 'x':
    case 'X':
      body = Math.trunc(a).toString(16);
      if (flags.alt) body = '0x' + body;
      if (type === 'X') body = body.toUpperCase();
      break;
    case 'o':
      body = Math.trunc(a).toString(8);
      if (flags.alt) body = '0o' + body;
      break;
    case 'b':
      body = Math.trunc(a).toString(2);
      break;
    case '%':
      body = pyRoundFixed(a * 100, prec ?? 6) + '%';
      break;
    default:
      throw new TemplateError('runtime', `unsupported format character '${type}'`);
  }
  if (flags.comma && /^\d/.test(body)) {
    const [int, frac] = body.split('.') as [string, string | undefined];
    body = int.replace(/\B(?=(\d{3})+(?!\d))/g, flags.comma) + (frac !== undefined ? '.' + frac : '');
  }
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : flags.plus ? '+' : flags.space ? ' ' : '';
  return sign + body;
}

const PERCENT_RE = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;

export function formatPercent(fmt: string, arg: unknown): string {
  const args = isTuple(arg) ? (arg as unknown[]) : [arg];
  let i = 0;
  const next = (): unknown => {
    if (i >= args.length) throw new TemplateError('runtime', 'not enough arguments for format string');
    return args[i++];
  };
  let usedMapping = false;
  const out = fmt.replace(PERCENT_RE, (_all, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, type: string) => {
    if (type === '%') return '%';
    let value: unknown;
    if (key !== undefined) {
      if (!isDict(arg)) throw new TemplateError('runtime', 'format requires a mapping');
      usedMapping = true;
      if (!hasKey(arg, key)) throw new TemplateError('runtime', `KeyError: '${key}'`);
      value = arg[key];
    }
    const w = checkWidth(width === '*' ? num(next()) : width !== undefined ? Number(width) : 0);
    const p = prec === '*' ? num(next()) : prec !== undefined ? Number(prec) : null;
    if (key === undefined) value = next();
    let s: string;
    if (type === 's' || type === 'a') s = pyStr(value);
    else if (type === 'r') s = repr(value);
    else if (type === 'c') s = typeof value === 'number' ? String.fromCodePoint(value) : pyStr(value);
    else s = formatNumber(value, type === 'u' ? 'd' : type, p, { plus: flags.includes('+'), space: flags.includes(' '), alt: flags.includes('#') });
    if ((type === 's' || type === 'r' || type === 'a') && p !== null) s = s.slice(0, p);
    if (s.length < w) {
      if (flags.includes('-')) s = s.padEnd(w);
      else if (flags.includes('0') && !'srac'.includes(type)) {
        const signed = /^[-+ ]/.test(s) ? 1 : 0;
        s = s.slice(0, signed) + s.slice(signed).padStart(w - signed, '0');
      } else s = s.padStart(w);
    }
    return s;
  });
  if (!usedMapping && i < args.length && !(args.length === 1 && isDict(arg))) {
    throw new TemplateError('runtime', 'not all arguments converted during string formatting');
  }
  return out;
}

const SPEC_RE = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s;

export function formatSpec(value: unknown, spec: string): string {
  const m = SPEC_RE.exec(spec);
  if (!m) throw new TemplateError('runtime', `Invalid format specifier '${spec}'`);
  const [, fillCh, alignCh, signCh, alt, zero, widthS, comma, precS, typeCh] = m;
  let fill = fillCh ?? ' ';
  let align = alignCh;
  const type = typeCh ?? '';
  const width = widthS !== undefined ? checkWidth(widthS) : 0;
  const prec = precS !== undefined ? Number(precS) : null;
  let s: string;
  const numeric = isNumber(value) && !(type === 's');
  if (numeric && type !== 'c') {
    s = formatNumber(value, type === '' && !isFloat(value) ? 'd' : type, prec, {
      plus: signCh === '+',
      space: signCh === ' ',
      alt: alt === '#',
      ...(comma ? { comma } : {}),
    });
    if (type === '' && !isFloat(value) && typeof value === 'boolean') s = pyStr(value);
  } else {
    s = value instanceof Markup ? value.s : pyStr(value);
    if (prec !== null) s = s.slice(0, prec);
  }
  if (zero && align === undefined) {
    fill = '0';
    align = numeric ? '=' : '<';
  }
  align = align ?? (numeric ? '>' : '<');
  const len = Array.from(s).length;
  if (len >= width) return s;
  const pad = width - len;
  switch (align) {
    case '<':
      return s + fill.repeat(pad);
    case '>':
      return fill.repeat(pad) + s;
    case '^':
      return fill.repeat(Math.floor(pad / 2)) + s + fill.repeat(pad - Math.floor(pad / 2));
    default: {
      const signed = /^[-+ ]/.test(s) ? 1 : 0;
      return s.slice(0, signed) + fill.repeat(pad) + s.slice(signed);
    }
  }
}

/** `'{} {name:>10}'.format(...)` */
export function strFormat(fmt: string, args: unknown[], kwargs: Record<string, unknown>, getAttr: (obj: unknown, name: string) => unknown): string {
  let auto = 0;
  return fmt.replace(
    /\{\{|\}\}|\{([^{}!:]*)(?:!([rsa]))?(?::([^{}]*))?\}/g,
    (all, field: string | undefined, conv: string | undefined, spec: string | undefined) => {
      if (all === '{{') return '{';
      if (all === '}}') return '}';
      const f = field ?? '';
      const [head, ...rest] = f.split(/(?=[.[])/);
      let value: unknown;
      if (head === '' || head === undefined) value = args[auto++];
      else if (/^\d+$/.test(head)) value = args[Number(head)];
      else if (hasKey(kwargs, head)) value = kwargs[head];
      else throw new TemplateError('runtime', `KeyError: '${head}'`);
      if (value === undefined) throw new TemplateError('runtime', 'IndexError: Replacement index out of range for positional args tuple');
      for (const part of rest) {
        if (part.startsWith('.')) value = getAttr(value, part.slice(1));
        else value = getAttr(value, part.slice(1, -1));
      }
      if (conv === 'r') value = repr(value);
      else if (conv === 's' || conv === 'a') value = pyStr(value);
      return formatSpec(value, spec ?? '');
    },
  );
}
