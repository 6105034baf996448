import type { CallArgs, Expr, MacroDef, Stmt, Target, TemplateAst } from './ast.js';
import type { Compiler } from './compile.js';
import { Cycler, LoopState, TemplateModule, debugText, escapeHtml, makeDict, toStr, truthy, undefinedError } from './runtime.js';
import { Output, Scope } from './scope.js';
import { Markup, PyCallable, TemplateError, Undefined, hasKey, newDict, pyStr, setKey, tuple, type UndefinedMode } from './values.js';

/**
 * The interpreter's runtime: one Renderer per render call, holding its limits and counters. The
 * template itself runs as closures compiled once per parsed template (compile.ts); statements
 * that are rare (macros, blocks, includes, imports) run here.
 */
export type FilterFn = (r: Renderer, value: unknown, args: unknown[], kwargs: Record<string, unknown>) => unknown;
export type TestFn = (r: Renderer, value: unknown, args: unknown[]) => boolean;

export interface Limits {
  /** Wall-clock budget, checked every few hundred steps. */
  timeoutMs: number;
  maxOutputChars: number;
  /** Nested macro calls, includes, recursive loops. */
  maxDepth: number;
  /** Largest `range()`, string or list a template may build. */
  maxRange: number;
}

/** What stays the same for every render of one engine instance (index.ts#createJinja). */
export interface EngineEnv {
  undefinedMode: UndefinedMode;
  autoescape: boolean;
  filters: Record<string, FilterFn>;
  tests: Record<string, TestFn>;
  globals: Record<string, unknown>;
  /** The globals as the parent of every render's root scope (nothing writes to it). */
  globalScope: Scope;
  limits: Limits;
  compiler: Compiler;
}

interface BlockEntry {
  block: Stmt & { k: 'block' };
  template: string;
}

/** Per-template render state: its name, its root scope (the context), the block chains. */
export interface Frame {
  name: string;
  root: Scope;
  blocks: Map<string, BlockEntry[]>;
}

export class Renderer {
  private steps = 0;
  private depth = 0;
  private produced = 0;
  private readonly deadline: number;
  autoescape: boolean;
  tplName = '';
  line = 0;
  readonly mode: UndefinedMode;

  constructor(
    readonly env: EngineEnv,
    private readonly load: (name: string) => TemplateAst | null,
  ) {
    this.deadline = Date.now() + env.limits.timeoutMs;
    this.autoescape = env.autoescape;
    this.mode = env.undefinedMode;
  }

  tick(): void {
    if ((++this.steps & 255) === 0 && Date.now() > this.deadline) {
      throw new TemplateError('limit', `rendering took longer than ${this.env.limits.timeoutMs} ms and was stopped`);
    }
  }

  maxLen(): number {
    return this.env.limits.maxOutputChars;
  }

  render(ast: TemplateAst, name: string, vars: Record<string, unknown>): string {
    const root = new Scope(this.env.globalScope);
    root.setAll(vars);
    const out = new Output();
    this.renderTemplate(ast, { name, root, blocks: new Map() }, out);
    const s = out.toString();
    if (s.length > this.env.limits.maxOutputChars) throw new TemplateError('limit', `the output is longer than ${this.env.limits.maxOutputChars} characters`);
    return s;
  }

  private renderTemplate(ast: TemplateAst, frame: Frame, out: Output): void {
    for (const [n, block] of ast.blocks) {
      const chain = frame.blocks.get(n) ?? [];
      chain.push({ block, template: frame.name });
      frame.blocks.set(n, chain);
    }
    const prevName = this.tplName;
    this.tplName = frame.name;
    try {
      if (!ast.hasExtends) {
        frame.root.vars.set('self', this.templateReference(frame));
        this.execBody(ast.body, frame.root, frame, out);
        return;
      }
      let parent: string | null = null;
      const sink = new Output();
      for (const stmt of ast.body) {
        if (stmt.k === 'extends') {
          if (parent !== null) throw new TemplateError('runtime', 'extended multiple times', stmt.line);
          parent = this.templateName(this.evalAt(stmt.template, frame.root, stmt.line));
        } else if (stmt.k !== 'block' && stmt.k !== 'data' && stmt.k !== 'print') this.env.compiler.statement(stmt)(this, frame.root, frame, sink);
      }
      if (parent === null) return;
      const parentAst = this.loadTemplate(parent, ast.body.find((s) => s.k === 'extends')?.line ?? 1);
      this.withDepth(() => this.renderTemplate(parentAst, { name: parent, root: frame.root, blocks: frame.blocks }, out));
    } finally {
      this.tplName = prevName;
    }
  }

  private templateReference(frame: Frame): TemplateModule {
    const attrs = newDict();
    for (const n of frame.blocks.keys()) {
      attrs[n] = new PyCallable(n, () => this.captured((o) => this.renderBlock(n, 0, frame, frame.root, o)));
    }
    return new TemplateModule('TemplateReference', attrs);
  }

  private evalAt(e: Expr, scope: Scope, line: number): unknown {
    try {
      return this.eval(e, scope);
    } catch (err) {
      throw this.annotate(err, line);
    }
  }

  annotate(err: unknown, line: number): unknown {
    if (err instanceof TemplateError) {
      if (err.lineno === null) err.lineno = this.line || line;
      if (err.template === null) err.template = this.tplName;
    } else if (err instanceof RangeError) {
      // Stack overflow, or a string/array past V8's size limit: both are a template asking for too much.
      const what = /call stack/i.test(err.message) ? 'the template nests too deeply' : 'the template builds a value that is too large';
      return new TemplateError('limit', what, this.line || line, this.tplName);
    }
    return err;
  }

  withDepth<T>(fn: () => T): T {
    if (++this.depth > this.env.limits.maxDepth) {
      this.depth--;
      throw new TemplateError('limit', `recursion deeper than ${this.env.limits.maxDepth} levels`);
    }
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  write(out: Output, s: string): void {
    this.produced += s.length;
    if (this.produced > this.env.limits.maxOutputChars * 4) {
      throw new TemplateError('limit', `the output is longer than ${this.env.limits.maxOutputChars} characters`);
    }
    out.write(s);
  }

  captured(fn: (out: Output) => void): string | Markup {
    const out = new Output();
    fn(out);
    const s = out.toString();
    return this.autoescape ? new Markup(s) : s;
  }

  execBody(body: Stmt[], scope: Scope, frame: Frame, out: Output): void {
    this.env.compiler.body(body)(this, scope, frame, out);
  }

  /** The statements compile.ts leaves to the renderer (it compiles the others). */
  exec(stmt: Stmt, scope: Scope, frame: Frame, out: Output): void {
    switch (stmt.k) {
      case 'setblock': {
        let v: unknown = this.captured((o) => this.execBody(stmt.body, new Scope(scope), frame, o));
        if (stmt.filter) v = this.applyFilterChain(stmt.filter, v, scope);
        this.assign(stmt.target, v, scope);
        return;
      }
      case 'macro':
        scope.vars.set(stmt.def.name, this.makeMacro(stmt.def, scope, frame, null));
        return;
      case 'callblock': {
        const caller = this.makeMacro(stmt.def, scope, frame, null);
        const call = stmt.call as Expr & { k: 'call' };
        const fn = this.eval(call.fn, scope);
        const [args, given] = this.evalArgs(call, scope);
        const kwargs = Object.assign(newDict(), given);
        kwargs.caller = caller;
        this.write(out, this.output(this.callValue(fn, args, kwargs)));
        return;
      }
      case 'filterblock': {
        const body = this.captured((o) => this.execBody(stmt.body, new Scope(scope), frame, o));
        this.write(out, this.output(this.applyFilterChain(stmt.filter, body, scope)));
        return;
      }
      case 'autoescape': {
        const was = this.autoescape;
        this.autoescape = truthy(this.eval(stmt.value, scope));
        try {
          this.execBody(stmt.body, new Scope(scope), frame, out);
        } finally {
          this.autoescape = was;
        }
        return;
      }
      case 'block':
        this.renderBlock(stmt.name, 0, frame, stmt.scoped ? scope : frame.root, out);
        return;
      case 'include':
        this.execInclude(stmt, scope, out);
        return;
      case 'import': {
        scope.vars.set(stmt.target, this.importModule(stmt.template, stmt.withContext, scope, stmt.line));
        return;
      }
      case 'fromimport': {
        const mod = this.importModule(stmt.template, stmt.withContext, scope, stmt.line);
        for (const [name, alias] of stmt.names) {
          scope.vars.set(
            alias,
            hasKey(mod.attrs, name)
              ? mod.attrs[name]
              : new Undefined(this.mode, `the template ${mod.name} does not export the requested name '${name}'`, alias),
          );
        }
        return;
      }
      case 'extends':
        throw new TemplateError('syntax', 'extends must be at the top level of a template', stmt.line);
    }
  }

  private renderBlock(name: string, index: number, frame: Frame, parentScope: Scope, out: Output): void {
    const chain = frame.blocks.get(name) ?? [];
    const entry = chain[index];
    if (!entry) return;
    const scope = new Scope(parentScope);
    scope.vars.set(
      'super',
      new PyCallable('super', () => {
        if (index + 1 >= chain.length) throw new TemplateError('runtime', `there is no parent block called '${name}'`);
        return this.captured((o) => this.renderBlock(name, index + 1, frame, parentScope, o));
      }),
    );
    const prev = this.tplName;
    this.tplName = entry.template;
    try {
      this.withDepth(() => this.execBody(entry.block.body, scope, frame, out));
    } finally {
      this.tplName = prev;
    }
  }

  private templateName(v: unknown): string {
    if (v instanceof Undefined) throw undefinedError(v);
    if (typeof v !== 'string') throw new TemplateError('runtime', `template name must be a string, not ${pyStr(v)}`);
    return v;
  }

  private loadTemplate(name: string, line: number): TemplateAst {
    const ast = this.load(name);
    if (ast === null) throw new TemplateError('template_not_found', name, line, this.tplName);
    return ast;
  }

  private execInclude(stmt: Stmt & { k: 'include' }, scope: Scope, out: Output): void {
    const value = this.eval(stmt.template, scope);
    const names = Array.isArray(value) ? value.map((v) => this.templateName(v)) : [this.templateName(value)];
    let ast: TemplateAst | null = null;
    let name = '';
    for (const n of names) {
      ast = this.load(n);
      name = n;
      if (ast) break;
    }
    if (!ast) {
      if (stmt.ignoreMissing) return;
      throw new TemplateError('template_not_found', names.join(', '), stmt.line, this.tplName);
    }
    const root = new Scope(null);
    if (stmt.withContext) {
      const flat = scope.flatten();
      delete flat.loop;
      root.setAll(flat);
    } else root.setAll(this.env.globals);
    const found = ast;
    this.withDepth(() => this.renderTemplate(found, { name, root, blocks: new Map() }, out));
  }

  private importModule(template: Expr, withContext: boolean, scope: Scope, line: number): TemplateModule {
    const name = this.templateName(this.eval(template, scope));
    const ast = this.loadTemplate(name, line);
    const root = new Scope(null);
    root.setAll(withContext ? scope.flatten() : this.env.globals);
    const before = new Set(root.vars.keys());
    this.withDepth(() => this.renderTemplate(ast, { name, root, blocks: new Map() }, new Output()));
    const attrs = newDict();
    for (const [k, v] of root.vars) {
      if (!k.startsWith('_') && k !== 'self' && (!before.has(k) || v instanceof PyCallable)) setKey(attrs, k, v);
    }
    return new TemplateModule(name, attrs);
  }

  private makeMacro(def: MacroDef, defScope: Scope, frame: Frame, _unused: null): PyCallable {
    const template = this.tplName;
    const body = this.env.compiler.body(def.body);
    const params = def.params;
    const fn = (args: unknown[], kwargs: Record<string, unknown>): unknown =>
      this.withDepth(() => {
        const scope = new Scope(defScope);
        for (let i = 0; i < params.length; i++) {
          const p = params[i] as string;
          if (i < args.length) scope.vars.set(p, args[i]);
          else if (hasKey(kwargs, p)) scope.vars.set(p, kwargs[p]);
          else {
            const d = def.defaults[i];
            scope.vars.set(p, d ? this.eval(d, scope) : new Undefined(this.mode, `parameter '${p}' was not provided`, p));
          }
        }
        scope.vars.set('varargs', tuple(args.slice(params.length)));
        scope.vars.set('caller', hasKey(kwargs, 'caller') ? kwargs.caller : new Undefined(this.mode, "'caller' is undefined", 'caller'));
        // `kwargs`: the keyword arguments no parameter took (a parameter given by position leaves its keyword here).
        const rest = newDict();
        for (const k of Object.keys(kwargs)) {
          const i = k === 'caller' ? -1 : params.indexOf(k);
          if (k !== 'caller' && (i < 0 || i < args.length)) setKey(rest, k, kwargs[k]);
        }
        scope.vars.set('kwargs', rest);
        const prev = this.tplName;
        this.tplName = template;
        try {
          return this.captured((o) => body(this, scope, frame, o));
        } finally {
          this.tplName = prev;
        }
      });
    return new PyCallable(
      def.name,
      fn,
      makeDict([
        ['name', def.name],
        ['arguments', tuple([...def.params])],
      ]),
    );
  }

  private assign(target: Target, value: unknown, scope: Scope): void {
    this.env.compiler.target(target)(this, value, scope);
  }

  output(v: unknown): string {
    if (typeof v === 'string') return this.autoescape ? escapeHtml(v) : v;
    if (v instanceof Markup) return v.s;
    if (v instanceof Undefined) {
      if (v.mode === 'StrictUndefined') throw undefinedError(v);
      return v.mode === 'DebugUndefined' ? debugText(v) : '';
    }
    const s = pyStr(v);
    return this.autoescape ? escapeHtml(s) : s;
  }

  eval(e: Expr, scope: Scope): unknown {
    return this.env.compiler.expr(e)(this, scope);
  }

  evalArgs(c: CallArgs, scope: Scope): [unknown[], Record<string, unknown>] {
    const args = this.env.compiler.args(c)(this, scope);
    return [args, this.env.compiler.kwargs(c)(this, scope)];
  }

  callValue(fn: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown {
    if (fn instanceof PyCallable) return fn.fn(args, kwargs);
    if (fn instanceof LoopState) {
      if (!fn.recurse) throw new TemplateError('runtime', "Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
      return fn.recurse(args[0]);
    }
    if (fn instanceof Undefined) throw undefinedError(fn);
    if (fn instanceof Cycler) throw new TemplateError('runtime', "'Cycler' object is not callable");
    throw new TemplateError('runtime', `'${pyStr(fn)}' object is not callable`);
  }

  private applyFilterChain(f: Expr, value: unknown, scope: Scope): unknown {
    if (f.k !== 'filter') return value;
    const inner = f.node ? this.applyFilterChain(f.node, value, scope) : value;
    return this.env.compiler.filter(f)(this, scope, inner);
  }
}

export { Scope, Output };
export function newCycler(items: unknown[]): Cycler {
  return new Cycler(items);
}
export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}
export const str = toStr;
export function escapeValue(v: unknown): Markup {
  if (v instanceof Markup) return v;
  return new Markup(escapeHtml(toStr(v)));
}
