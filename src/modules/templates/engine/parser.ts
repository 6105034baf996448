import type { CallArgs, Expr, MacroDef, Stmt, Target, TemplateAst } from './ast.js';
import { tokenize, type LexOptions, type Token } from './lexer.js';
import { float, TemplateError } from './values.js';

/**
 * Jinja2's grammar (jinja2/parser.py), including its operator precedence (unary minus binds
 * tighter than `**`, `**` is left-associative) and its compile-time checks: an unknown filter or
 * test is a syntax error except inside an `if` statement or an inline `if`, where Jinja 3.1
 * defers the check to when the code runs.
 */
export interface ParseOptions extends LexOptions {
  filters: ReadonlySet<string>;
  tests: ReadonlySet<string>;
}

const COMPARE_OPS: Record<string, string> = { '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'lteq', '>': 'gt', '>=': 'gteq' };

class Parser {
  private i = 0;
  private soft = false;
  private readonly blocks = new Map<string, Stmt & { k: 'block' }>();
  private hasExtends = false;

  constructor(
    private readonly tokens: Token[],
    private readonly opts: ParseOptions,
  ) {}

  private get cur(): Token {
    return this.tokens[this.i] as Token;
  }
  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.cur;
    if (t.t !== 'eof') this.i++;
    return t;
  }
  private fail(msg: string, tok: Token = this.cur): never {
    throw new TemplateError('syntax', msg, tok.line, null, tok.col);
  }
  private isOp(v: string): boolean {
    return this.cur.t === 'op' && this.cur.v === v;
  }
  private isName(v: string): boolean {
    return this.cur.t === 'name' && this.cur.v === v;
  }
  private skipOp(v: string): boolean {
    if (!this.isOp(v)) return false;
    this.i++;
    return true;
  }
  private skipName(v: string): boolean {
    if (!this.isName(v)) return false;
    this.i++;
    return true;
  }
  private describe(t: Token): string {
    if (t.t === 'eof') return 'end of template';
    if (t.t === 'block_end') return 'end of statement block';
    if (t.t === 'var_end') return 'end of print statement';
    return `'${t.v}'`;
  }
  private expectOp(v: string): Token {
    if (!this.isOp(v)) this.failExpected(`'${v}'`);
    return this.next();
  }
  private expectName(v?: string): Token {
    if (this.cur.t !== 'name' || (v !== undefined && this.cur.v !== v)) this.failExpected(v ? `'${v}'` : 'name');
    return this.next();
  }
  private expect(t: Token['t']): Token {
    if (this.cur.t !== t) this.failExpected(t.replace('_', ' '));
    return this.next();
  }
  private failExpected(what: string): never {
    if (this.cur.t === 'eof') this.fail(`unexpected end of template, expected ${what}.`);
    return this.fail(`expected token ${what}, got ${this.describe(this.cur)}`);
  }

  parseTemplate(): TemplateAst {
    const body = this.subparse(null);
    return { body, blocks: this.blocks, hasExtends: this.hasExtends };
  }

  /** Statements until `{% <one of ends> %}` (left unconsumed after `{%`) or the end. */
  private subparse(ends: string[] | null): Stmt[] {
    const body: Stmt[] = [];
    for (;;) {
      const t = this.cur;
      if (t.t === 'eof') {
        if (ends) this.fail(`Unexpected end of template. Jinja was looking for the following tags: ${ends.map((e) => `'${e}'`).join(' or ')}.`);
        return body;
      }
      if (t.t === 'data') {
        body.push({ k: 'data', line: t.line, text: t.v });
        this.next();
      } else if (t.t === 'var_begin') {
        this.next();
        const expr = this.parseTuple(true);
        this.expect('var_end');
        body.push({ k: 'print', line: t.line, expr });
      } else if (t.t === 'block_begin') {
        this.next();
        if (ends && this.cur.t === 'name' && ends.includes(this.cur.v)) return body;
        body.push(this.parseStatement(ends));
      } else this.fail('unexpected token');
    }
  }

  private parseStatement(ends: string[] | null): Stmt {
    const tok = this.cur;
    if (tok.t !== 'name') this.fail('tag name expected');
    const line = tok.line;
    const wasSoft = this.soft;
    let stmt: Stmt;
    switch (tok.v) {
      case 'for':
        stmt = this.withHard(() => this.parseFor());
        break;
      case 'if':
        stmt = this.parseIf();
        break;
      case 'set':
        stmt = this.parseSet();
        break;
      case 'macro':
        stmt = this.withHard(() => this.parseMacro());
        break;
      case 'call':
        stmt = this.withHard(() => this.parseCallBlock());
        break;
      case 'filter':
        stmt = this.withHard(() => this.parseFilterBlock());
        break;
      case 'include':
        stmt = this.parseInclude();
        break;
      case 'import':
        stmt = this.parseImport();
        break;
      case 'from':
        stmt = this.parseFrom();
        break;
      case 'extends':
        this.next();
        this.hasExtends = true;
        stmt = { k: 'extends', line, template: this.parseExpression() };
        break;
      case 'block':
        stmt = this.withHard(() => this.parseBlock());
        break;
      case 'with':
        stmt = this.withHard(() => this.parseWith());
        break;
      case 'autoescape': {
        this.next();
        const value = this.parseExpression();
        this.expect('block_end');
        const body = this.subparse(['endautoescape']);
        this.next();
        stmt = { k: 'autoescape', line, value, body };
        break;
      }
      default:
        if (ends) this.fail(`Encountered unknown tag '${tok.v}'. Jinja was looking for the following tags: ${ends.map((e) => `'${e}'`).join(' or ')}.`);
        this.fail(`Encountered unknown tag '${tok.v}'.`);
    }
    this.soft = wasSoft;
    this.expect('block_end');
    return stmt;
  }

  private withHard<T>(fn: () => T): T {
    const was = this.soft;
    this.soft = false;
    try {
      return fn();
    } finally {
      this.soft = was;
    }
  }

  private parseFor(): Stmt {
    const line = this.next().line;
    const target = this.parseAssignTarget(['in']);
    this.expectName('in');
    const iter = this.parseTuple(false, ['recursive']);
    let test: Expr | null = null;
    if (this.skipName('if')) test = this.parseExpression();
    const recursive = this.skipName('recursive');
    this.expect('block_end');
    const body = this.subparse(['endfor', 'else']);
    let elseBody: Stmt[] = [];
    if (this.next().v === 'else') {
      this.expect('block_end');
      elseBody = this.subparse(['endfor']);
      this.next();
    }
    return { k: 'for', line, target, iter, body, else: elseBody, test, recursive };
  }

  private parseIf(): Stmt {
    const line = this.next().line;
    const was = this.soft;
    this.soft = true;
    const test = this.parseTuple(false);
    this.expect('block_end');
    const body = this.subparse(['elif', 'else', 'endif']);
    const node: Stmt = { k: 'if', line, test, body, else: [] };
    let tail = node;
    for (;;) {
      const t = this.next();
      if (t.v === 'elif') {
        const test2 = this.parseTuple(false);
        this.expect('block_end');
        const b = this.subparse(['elif', 'else', 'endif']);
        const n: Stmt = { k: 'if', line: t.line, test: test2, body: b, else: [] };
        tail.else = [n];
        tail = n;
      } else if (t.v === 'else') {
        this.expect('block_end');
        tail.else = this.subparse(['endif']);
        this.next();
        break;
      } else break;
    }
    this.soft = was;
    return node;
  }

  private parseSet(): Stmt {
    const line = this.next().line;
    const target = this.parseAssignTarget(null, true);
    if (this.skipOp('=')) return { k: 'set', line, target, expr: this.parseTuple(true) };
    const filter = this.isOp('|') ? this.parseFilter(null) : null;
    this.expect('block_end');
    const body = this.withHard(() => this.subparse(['endset']));
    this.next();
    return { k: 'setblock', line, target, filter, body };
  }

  private parseSignature(def: MacroDef): void {
    this.expectOp('(');
    while (!this.isOp(')')) {
      if (def.params.length > 0) this.expectOp(',');
      const name = this.expectName();
      def.params.push(name.v);
      if (this.skipOp('=')) def.defaults.push(this.parseExpression());
      else if (def.defaults.some((d) => d !== null)) this.fail('non-default argument follows default argument', name);
      else def.defaults.push(null);
    }
    this.expectOp(')');
  }

  private parseMacro(): Stmt {
    const line = this.next().line;
    const name = this.expectName().v;
    const def: MacroDef = { name, params: [], defaults: [], body: [], line };
    this.parseSignature(def);
    this.expect('block_end');
    def.body = this.subparse(['endmacro']);
    this.next();
    return { k: 'macro', line, def };
  }

  private parseCallBlock(): Stmt {
    const line = this.next().line;
    const def: MacroDef = { name: 'caller', params: [], defaults: [], body: [], line };
    if (this.isOp('(')) this.parseSignature(def);
    const call = this.parseExpression();
    if (call.k !== 'call') this.fail('expected call', this.cur);
    this.expect('block_end');
    def.body = this.subparse(['endcall']);
    this.next();
    return { k: 'callblock', line, call, def };
  }

  private parseFilterBlock(): Stmt {
    const line = this.next().line;
    const filter = this.parseFilter(null, true);
    this.expect('block_end');
    const body = this.subparse(['endfilter']);
    this.next();
    return { k: 'filterblock', line, filter, body };
  }

  private parseContextModifier(dflt: boolean): boolean {
    if ((this.isName('with') || this.isName('without')) && this.peek().t === 'name' && this.peek().v === 'context') {
      const w = this.next().v === 'with';
      this.next();
      return w;
    }
    return dflt;
  }

  private parseInclude(): Stmt {
    const line = this.next().line;
    const template = this.parseExpression();
    let ignoreMissing = false;
    if (this.isName('ignore') && this.peek().t === 'name' && this.peek().v === 'missing') {
      this.i += 2;
      ignoreMissing = true;
    }
    return { k: 'include', line, template, ignoreMissing, withContext: this.parseContextModifier(true) };
  }

  private parseImport(): Stmt {
    const line = this.next().line;
    const template = this.parseExpression();
    this.expectName('as');
    const target = this.expectName().v;
    return { k: 'import', line, template, target, withContext: this.parseContextModifier(false) };
  }

  private parseFrom(): Stmt {
    const line = this.next().line;
    const template = this.parseExpression();
    this.expectName('import');
    const names: [string, string][] = [];
    for (;;) {
      if (names.length > 0 && !this.skipOp(',')) break;
      if ((this.isName('with') || this.isName('without')) && this.peek().t === 'name' && this.peek().v === 'context') break;
      if (this.cur.t !== 'name') break;
      const name = this.expectName().v;
      if (name.startsWith('_')) this.fail('names starting with an underline can not be imported');
      const alias = this.skipName('as') ? this.expectName().v : name;
      names.push([name, alias]);
    }
    return { k: 'fromimport', line, template, names, withContext: this.parseContextModifier(false) };
  }

  private parseBlock(): Stmt {
    const line = this.next().line;
    const nameTok = this.expectName();
    const scoped = this.skipName('scoped');
    const required = this.skipName('required');
    this.expect('block_end');
    const body = this.subparse(['endblock']);
    this.next();
    if (this.cur.t === 'name' && !this.skipName(nameTok.v)) this.fail(`mismatching name for endblock`);
    if (this.blocks.has(nameTok.v)) this.fail(`block '${nameTok.v}' defined twice`, nameTok);
    const block = { k: 'block' as const, line, name: nameTok.v, body, scoped, required };
    this.blocks.set(nameTok.v, block);
    return block;
  }

  private parseWith(): Stmt {
    const line = this.next().line;
    const targets: [Target, Expr][] = [];
    while (this.cur.t !== 'block_end') {
      if (targets.length > 0) this.expectOp(',');
      const target = this.parseAssignTarget(null);
      this.expectOp('=');
      targets.push([target, this.parseExpression()]);
    }
    this.expect('block_end');
    const body = this.subparse(['endwith']);
    this.next();
    return { k: 'with', line, targets, body };
  }

  private parseAssignTarget(extraEnd: string[] | null, withNamespace = false): Target {
    const line = this.cur.line;
    if (withNamespace && this.cur.t === 'name' && this.peek().t === 'op' && this.peek().v === '.') {
      const name = this.next().v;
      this.next();
      return { k: 'nsattr', line, name, attr: this.expectName().v };
    }
    const items: Target[] = [];
    let trailingComma = false;
    const one = (): Target => {
      if (this.skipOp('(')) {
        const t = this.parseAssignTarget(null);
        this.expectOp(')');
        return t;
      }
      const n = this.expectName();
      if (['true', 'false', 'none', 'True', 'False', 'None'].includes(n.v)) this.fail(`can't assign to '${n.v}'`, n);
      return { k: 'name', line: n.line, name: n.v };
    };
    for (;;) {
      if (items.length > 0) {
        if (!this.skipOp(',')) break;
        trailingComma = true;
        if (this.cur.t !== 'name' && !this.isOp('(')) break;
        if (extraEnd && this.cur.t === 'name' && extraEnd.includes(this.cur.v)) break;
      }
      items.push(one());
      trailingComma = false;
    }
    if (items.length === 1 && !trailingComma) return items[0] as Target;
    return { k: 'tuple', line, items };
  }

  // --- expressions ---

  parseExpression(withCondexpr = true): Expr {
    return withCondexpr ? this.parseCondexpr() : this.parseOr();
  }

  private parseCondexpr(): Expr {
    const line = this.cur.line;
    let expr1 = this.parseOr();
    while (this.isName('if')) {
      this.next();
      const was = this.soft;
      this.soft = true;
      const test = this.parseOr();
      const b = this.skipName('else') ? this.parseCondexpr() : null;
      this.soft = was;
      expr1 = { k: 'cond', line, test, a: expr1, b };
    }
    return expr1;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isName('or')) {
      const line = this.next().line;
      left = { k: 'or', line, left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isName('and')) {
      const line = this.next().line;
      left = { k: 'and', line, left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isName('not')) {
      const line = this.next().line;
      return { k: 'unary', line, op: 'not', node: this.parseNot() };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const line = this.cur.line;
    const expr = this.parseMath1();
    const ops: [string, Expr][] = [];
    for (;;) {
      const t = this.cur;
      if (t.t === 'op' && COMPARE_OPS[t.v] !== undefined) {
        this.next();
        ops.push([COMPARE_OPS[t.v] as string, this.parseMath1()]);
      } else if (this.isName('in')) {
        this.next();
        ops.push(['in', this.parseMath1()]);
      } else if (this.isName('not') && this.peek().t === 'name' && this.peek().v === 'in') {
        this.i += 2;
        ops.push(['notin', this.parseMath1()]);
      } else break;
    }
    return ops.length === 0 ? expr : { k: 'compare', line, expr, ops };
  }

  private parseMath1(): Expr {
    let left = this.parseConcat();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { k: 'bin', line: t.line, op: t.v, left, right: this.parseConcat() };
    }
    return left;
  }

  private parseConcat(): Expr {
    let left = this.parseMath2();
    while (this.isOp('~')) {
      const t = this.next();
      left = { k: 'bin', line: t.line, op: '~', left, right: this.parseMath2() };
    }
    return left;
  }

  private parseMath2(): Expr {
    let left = this.parsePow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { k: 'bin', line: t.line, op: t.v, left, right: this.parsePow() };
    }
    return left;
  }

  private parsePow(): Expr {
    let left = this.parseUnary();
    while (this.isOp('**')) {
      const t = this.next();
      left = { k: 'bin', line: t.line, op: '**', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(withFilter = true): Expr {
    const t = this.cur;
    let node: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      this.next();
      node = { k: 'unary', line: t.line, op: t.v, node: this.parseUnary(false) };
    } else node = this.parsePrimary();
    node = this.parsePostfix(node);
    if (withFilter) node = this.parseFilterExpr(node);
    return node;
  }

  private parsePrimary(): Expr {
    const t = this.cur;
    const line = t.line;
    if (t.t === 'name') {
      this.next();
      if (t.v === 'true' || t.v === 'True') return { k: 'const', line, value: true };
      if (t.v === 'false' || t.v === 'False') return { k: 'const', line, value: false };
      if (t.v === 'none' || t.v === 'None') return { k: 'const', line, value: null };
      return { k: 'name', line, name: t.v };
    }
    if (t.t === 'string') {
      let s = this.next().v;
      while (this.cur.t === 'string') s += this.next().v;
      return { k: 'const', line, value: s };
    }
    if (t.t === 'int') {
      this.next();
      return { k: 'const', line, value: Number(t.v) };
    }
    if (t.t === 'float') {
      this.next();
      const n = Number(t.v);
      return { k: 'const', line, value: float(n) };
    }
    if (this.isOp('(')) {
      this.next();
      const e = this.parseTuple(true, null, true);
      this.expectOp(')');
      return e;
    }
    if (this.isOp('[')) {
      this.next();
      const items: Expr[] = [];
      while (!this.isOp(']')) {
        if (items.length > 0) this.expectOp(',');
        if (this.isOp(']')) break;
        items.push(this.parseExpression());
      }
      this.expectOp(']');
      return { k: 'list', line, items };
    }
    if (this.isOp('{')) {
      this.next();
      const pairs: [Expr, Expr][] = [];
      while (!this.isOp('}')) {
        if (pairs.length > 0) this.expectOp(',');
        if (this.isOp('}')) break;
        const key = this.parseExpression();
        this.expectOp(':');
        pairs.push([key, this.parseExpression()]);
      }
      this.expectOp('}');
      return { k: 'dict', line, pairs };
    }
    if (t.t === 'eof') this.fail('unexpected end of template');
    return this.fail(`unexpected ${this.describe(t)}`);
  }

  parseTuple(withCondexpr: boolean, extraEnd: string[] | null = null, explicitParens = false): Expr {
    const line = this.cur.line;
    const items: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length > 0) this.expectOp(',');
      if (this.isTupleEnd(extraEnd)) break;
      items.push(this.parseExpression(withCondexpr));
      if (this.isOp(',')) isTuple = true;
      else break;
    }
    if (!isTuple) {
      if (items.length > 0) return items[0] as Expr;
      if (!explicitParens) this.fail(`Expected an expression, got ${this.describe(this.cur)}`);
    }
    return { k: 'tuple', line, items };
  }

  private isTupleEnd(extraEnd: string[] | null): boolean {
    const t = this.cur;
    if (t.t === 'var_end' || t.t === 'block_end' || t.t === 'eof') return true;
    if (t.t === 'op' && t.v === ')') return true;
    return extraEnd !== null && t.t === 'name' && extraEnd.includes(t.v);
  }

  private parsePostfix(node: Expr): Expr {
    for (;;) {
      const t = this.cur;
      if (this.isOp('.')) {
        this.next();
        const a = this.next();
        if (a.t === 'name') node = { k: 'getattr', line: t.line, obj: node, attr: a.v };
        else if (a.t === 'int') node = { k: 'getitem', line: t.line, obj: node, key: { k: 'const', line: a.line, value: Number(a.v) } };
        else this.fail('expected name or number', a);
      } else if (this.isOp('[')) {
        this.next();
        const subs: Expr[] = [];
        while (!this.isOp(']')) {
          if (subs.length > 0) {
            this.expectOp(',');
            if (this.isOp(']')) break;
          }
          subs.push(this.parseSubscribed());
        }
        this.expectOp(']');
        const key = subs.length === 1 ? (subs[0] as Expr) : { k: 'tuple' as const, line: t.line, items: subs };
        node = { k: 'getitem', line: t.line, obj: node, key };
      } else if (this.isOp('(')) {
        node = { k: 'call', line: t.line, fn: node, ...this.parseCallArgs() };
      } else return node;
    }
  }

  private parseSubscribed(): Expr {
    const line = this.cur.line;
    const parts: (Expr | null)[] = [];
    if (this.isOp(':')) {
      this.next();
      parts.push(null);
    } else {
      const e = this.parseExpression();
      if (!this.isOp(':')) return e;
      this.next();
      parts.push(e);
    }
    parts.push(this.isOp(':') || this.isOp(']') || this.isOp(',') ? null : this.parseExpression());
    if (this.skipOp(':')) parts.push(this.isOp(']') || this.isOp(',') ? null : this.parseExpression());
    else parts.push(null);
    return { k: 'slice', line, start: parts[0] ?? null, stop: parts[1] ?? null, step: parts[2] ?? null };
  }

  private parseCallArgs(): CallArgs {
    this.expectOp('(');
    const out: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    let first = true;
    while (!this.isOp(')')) {
      if (!first) {
        this.expectOp(',');
        if (this.isOp(')')) break;
      }
      first = false;
      if (this.skipOp('**')) out.dynKwargs = this.parseExpression();
      else if (this.skipOp('*')) out.dynArgs = this.parseExpression();
      else if (this.cur.t === 'name' && this.peek().t === 'op' && this.peek().v === '=') {
        const key = this.next().v;
        this.next();
        out.kwargs.push([key, this.parseExpression()]);
      } else out.args.push(this.parseExpression());
    }
    this.expectOp(')');
    return out;
  }

  private parseFilterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) node = this.parseFilter(node);
      else if (this.isName('is')) node = this.parseTest(node);
      else if (this.isOp('(')) node = { k: 'call', line: this.cur.line, fn: node, ...this.parseCallArgs() };
      else return node;
    }
  }

  private dottedName(): Token {
    const tok = this.expectName();
    let name = tok.v;
    while (this.isOp('.')) {
      this.next();
      name += '.' + this.expectName().v;
    }
    return { ...tok, v: name };
  }

  private parseFilter(node: Expr | null, startInline = false): Expr {
    let first = true;
    while (this.isOp('|') || (startInline && first)) {
      if (!(startInline && first)) this.next();
      first = false;
      const tok = this.dottedName();
      const known = this.opts.filters.has(tok.v);
      if (!known && !this.soft) this.fail(`No filter named '${tok.v}'.`, tok);
      const args: CallArgs = this.isOp('(') ? this.parseCallArgs() : { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
      node = { k: 'filter', line: tok.line, node, name: tok.v, known, ...args };
    }
    return node as Expr;
  }

  private parseTest(node: Expr): Expr {
    const line = this.next().line;
    const negated = this.skipName('not');
    const tok = this.dottedName();
    const known = this.opts.tests.has(tok.v);
    if (!known && !this.soft) this.fail(`No test named '${tok.v}'.`, tok);
    let args: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    const c = this.cur;
    if (this.isOp('(')) args = this.parseCallArgs();
    else if (
      (c.t === 'name' || c.t === 'string' || c.t === 'int' || c.t === 'float' || (c.t === 'op' && (c.v === '[' || c.v === '{'))) &&
      !(c.t === 'name' && ['else', 'or', 'and'].includes(c.v))
    ) {
      if (c.t === 'name' && c.v === 'is') this.fail('You cannot chain multiple tests with is');
      args.args.push(this.parsePostfix(this.parsePrimary()));
    }
    const test: Expr = { k: 'test', line, node, name: tok.v, known, ...args };
    return negated ? { k: 'unary', line, op: 'not', node: test } : test;
  }
}

export function parseTemplate(source: string, opts: ParseOptions): TemplateAst {
  const tokens = tokenize(source, opts);
  // Jinja reports "unexpected end" on the line where the last token starts.
  const last = tokens[tokens.length - 2];
  if (last) (tokens[tokens.length - 1] as Token).line = last.line;
  return new Parser(tokens, opts).parseTemplate();
}
