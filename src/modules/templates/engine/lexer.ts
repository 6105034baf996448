import { TemplateError } from './values.js';

/**
 * Jinja2's lexer: text, `{{ }}`, `{% %}`, `{# #}`, `{% raw %}`, with its whitespace rules
 * (`-`/`+` modifiers, trim_blocks after `%}` and `#}`, lstrip_blocks before `{%` and `{#` that
 * start a line, one final newline dropped unless keep_trailing_newline).
 */
export type TokenType = 'data' | 'var_begin' | 'var_end' | 'block_begin' | 'block_end' | 'name' | 'string' | 'int' | 'float' | 'op' | 'eof';

export interface Token {
  t: TokenType;
  v: string;
  line: number;
  col: number;
}

export interface LexOptions {
  trimBlocks: boolean;
  lstripBlocks: boolean;
  keepTrailingNewline: boolean;
}

const OPERATORS = ['//', '**', '==', '!=', '>=', '<=', '+', '-', '*', '/', '%', '~', '<', '>', '=', '(', ')', '[', ']', '{', '}', ',', '.', ':', '|'];
const NAME_RE = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const FLOAT_RE = /(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?e[+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/y;
const INT_RE = /(?:\d+_)*\d+/y;
const STRING_RE = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const RAW_BEGIN_RE = /\{%([-+]?)\s*raw\s*(-?)%\}/y;
const RAW_END_RE = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;
const TAG_RE = /\{[{%#]/g;

function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)/gs, (all, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '\\':
        return '\\';
      case "'":
        return "'";
      case '"':
        return '"';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '\n':
        return '';
      case 'x':
      case 'u':
      case 'U':
        return e.length > 1 ? String.fromCodePoint(parseInt(e.slice(1), 16)) : all;
      default:
        return /^[0-7]+$/.test(e) ? String.fromCodePoint(parseInt(e, 8)) : all;
    }
  });
}

export function tokenize(source: string, opts: LexOptions): Token[] {
  let src = source.replace(/\r\n?/g, '\n');
  if (!opts.keepTrailingNewline && src.endsWith('\n')) src = src.slice(0, -1);
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  /** What the previous tag asked of the text that follows it. */
  let after: 'none' | 'strip' | 'trim' = 'none';

  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) {
      if (src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos = to;
  };
  const err = (msg: string): never => {
    throw new TemplateError('syntax', msg, line, null, pos - lineStart + 1);
  };
  const pushData = (text: string, textLine: number, textCol: number): void => {
    if (text.length > 0) tokens.push({ t: 'data', v: text, line: textLine, col: textCol });
  };
  const applyAfter = (): void => {
    if (after === 'strip') {
      let i = pos;
      while (i < src.length && /\s/.test(src[i] as string)) i++;
      advance(i);
    } else if (after === 'trim' && src[pos] === '\n') advance(pos + 1);
    after = 'none';
  };

  while (pos < src.length || after !== 'none') {
    applyAfter();
    TAG_RE.lastIndex = pos;
    const m = TAG_RE.exec(src);
    const idx = m ? m.index : src.length;
    let text = src.slice(pos, idx);
    const kind = m ? (src[idx + 1] as string) : '';
    const mod = m ? src[idx + 2] : '';
    if (m && mod === '-') text = text.replace(/\s+$/, '');
    else if (m && opts.lstripBlocks && kind !== '{' && mod !== '+') {
      const ls = src.lastIndexOf('\n', idx - 1) + 1;
      if (ls >= pos && /^[ \t]*$/.test(src.slice(ls, idx))) text = text.slice(0, ls - pos);
    }
    pushData(text, line, pos - lineStart + 1);
    advance(idx);
    if (!m) break;

    if (kind === '#') {
      const end = src.indexOf('#}', idx + 2);
      if (end < 0) err('Missing end of comment tag');
      const endMod = src[end - 1];
      advance(end + 2);
      after = endMod === '-' ? 'strip' : endMod !== '+' && opts.trimBlocks ? 'trim' : 'none';
      continue;
    }
    if (kind === '%') {
      RAW_BEGIN_RE.lastIndex = idx;
      const raw = RAW_BEGIN_RE.exec(src);
      if (raw) {
        advance(idx + raw[0].length);
        if (raw[2] === '-') {
          after = 'strip';
          applyAfter();
        }
        RAW_END_RE.lastIndex = pos;
        const end = RAW_END_RE.exec(src);
        if (!end) err('Missing end of raw directive');
        const rawEnd = end as RegExpExecArray;
        let body = src.slice(pos, rawEnd.index);
        if (rawEnd[1] === '-') body = body.replace(/\s+$/, '');
        else if (opts.lstripBlocks && rawEnd[1] !== '+') {
          const ls = src.lastIndexOf('\n', rawEnd.index - 1) + 1;
          if (ls >= pos && /^[ \t]*$/.test(src.slice(ls, rawEnd.index))) body = body.slice(0, ls - pos);
        }
        pushData(body, line, pos - lineStart + 1);
        advance(rawEnd.index + rawEnd[0].length);
        after = rawEnd[2] === '-' ? 'strip' : rawEnd[2] !== '+' && opts.trimBlocks ? 'trim' : 'none';
        continue;
      }
    }
    const isBlock = kind === '%';
    tokens.push({ t: isBlock ? 'block_begin' : 'var_begin', v: '', line, col: idx - lineStart + 1 });
    advance(idx + 2 + (mod === '-' || (isBlock && mod === '+') ? 1 : 0));
    const stack: string[] = [];
    for (;;) {
      let i = pos;
      while (i < src.length && /\s/.test(src[i] as string)) i++;
      advance(i);
      if (pos >= src.length) {
        err(
          isBlock
            ? "Unexpected end of template. Jinja was looking for the end of the block ('%}')"
            : 'unexpected end of template, expected end of print statement',
        );
      }
      if (stack.length === 0) {
        const endM = isBlock ? /^([-+]?)%\}/.exec(src.slice(pos, pos + 3)) : /^(-?)\}\}/.exec(src.slice(pos, pos + 3));
        if (endM) {
          tokens.push({ t: isBlock ? 'block_end' : 'var_end', v: '', line, col: pos - lineStart + 1 });
          advance(pos + endM[0].length);
          after = endM[1] === '-' ? 'strip' : isBlock && endM[1] !== '+' && opts.trimBlocks ? 'trim' : 'none';
          break;
        }
      }
      const col = pos - lineStart + 1;
      const c = src[pos] as string;
      if (/[a-zA-Z_]/.test(c)) {
        NAME_RE.lastIndex = pos;
        const nm = (NAME_RE.exec(src) as RegExpExecArray)[0];
        tokens.push({ t: 'name', v: nm, line, col });
        advance(pos + nm.length);
        continue;
      }
      if (/\d/.test(c)) {
        const afterDot = src[pos - 1] === '.';
        FLOAT_RE.lastIndex = pos;
        const f = afterDot ? null : FLOAT_RE.exec(src);
        if (f) {
          tokens.push({ t: 'float', v: f[0].replace(/_/g, ''), line, col });
          advance(pos + f[0].length);
          continue;
        }
        INT_RE.lastIndex = pos;
        const n = (INT_RE.exec(src) as RegExpExecArray)[0];
        tokens.push({ t: 'int', v: n.replace(/_/g, ''), line, col });
        advance(pos + n.length);
        continue;
      }
      if (c === "'" || c === '"') {
        STRING_RE.lastIndex = pos;
        const s = STRING_RE.exec(src);
        if (!s) err('unexpected char ' + JSON.stringify(c) + ' (unterminated string)');
        const str = s as RegExpExecArray;
        tokens.push({ t: 'string', v: unescape(str[1] ?? str[2] ?? ''), line, col });
        advance(pos + str[0].length);
        continue;
      }
      const op = OPERATORS.find((o) => src.startsWith(o, pos));
      if (op === undefined) err(`unexpected char ${JSON.stringify(c)} at ${pos}`);
      const o = op as string;
      if (o === '(' || o === '[' || o === '{') stack.push(o === '(' ? ')' : o === '[' ? ']' : '}');
      else if (o === ')' || o === ']' || o === '}') {
        if (stack.length === 0 || stack[stack.length - 1] !== o) err(`unexpected '${o}'`);
        stack.pop();
      }
      tokens.push({ t: 'op', v: o, line, col });
      advance(pos + o.length);
    }
  }
  tokens.push({ t: 'eof', v: '', line, col: pos - lineStart + 1 });
  return tokens;
}
