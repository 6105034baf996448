import type { CallArgs, Expr, Stmt, Target } from './ast.js';
import type { FilterFn, Frame, Renderer, TestFn } from './render.js';
import { LoopState, SliceVal, binOp, capLen, compareOp, escapeHtml, getAttr, getItem, makeDict, toList, toStr, truthy, undefinedError } from './runtime.js';
import { directMethod } from './methods.js';
import { MISSING_VAR, Scope, type Output } from './scope.js';
import { Markup, Namespace, PyFloat, TemplateError, Undefined, hasKey, isDict, newDict, num, pyStr, setKey, tuple } from './values.js';

/**
 * Compiles the syntax tree to closures once per parsed template (instead of switching on every
 * node at every render). A compiled node is the same code the tree walker ran, with what is
 * static decided at compile time: the filter or test function, the operator, the arity of a call.
 *
 * Constant folding: an operator, filter or test whose operands are all literals is computed at
 * its first evaluation and the result kept when it is a string, number, boolean or None (never a
 * list or dict, which a template could mutate) and autoescape is off; an error is not kept, so it
 * is raised at every render at its line, as Jinja2 does. `random` is never folded.
 */
export type CExpr = (r: Renderer, s: Scope) => unknown;
export type CBody = (r: Renderer, s: Scope, f: Frame, o: Output) => void;
export type CTarget = (r: Renderer, value: unknown, s: Scope) => void;
export type CFilter = (r: Renderer, s: Scope, value: unknown) => unknown;
type CArgs = (r: Renderer, s: Scope) => unknown[];
type CKwargs = (r: Renderer, s: Scope) => Record<string, unknown>;

/** Shared by calls without keyword arguments; callees only read it (macros copy it first). */
export const NO_KWARGS: Record<string, unknown> = Object.freeze(newDict());
const IMPURE_FILTERS = new Set(['random']);

/** Literal-only subtrees (their value is the same at every render). */
const PURE = new WeakSet<CExpr>();

function pure(fn: CExpr): CExpr {
  PURE.add(fn);
  return fn;
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** `fn` computed once when its operands are literals (see the module comment for what is kept). */
function foldIf(children: (CExpr | null)[], fn: CExpr): CExpr {
  if (!children.every((c) => c === null || PURE.has(c))) return fn;
  let done = false;
  let value: unknown = null;
  return pure((r, s) => {
    if (done && !r.autoescape) return value;
    const v = fn(r, s);
    if (!r.autoescape && isPrimitive(v)) {
      value = v;
      done = true;
    }
    return v;
  });
}

export class Compiler {
  private readonly exprs = new WeakMap<Expr, CExpr>();
  private readonly bodies = new WeakMap<Stmt[], CBody>();
  private readonly statements = new WeakMap<Stmt, CBody>();
  private readonly targets = new WeakMap<Target, CTarget>();
  private readonly filters = new WeakMap<Expr, CFilter>();
  private readonly argLists = new WeakMap<CallArgs, CArgs>();
  private readonly kwargLists = new WeakMap<CallArgs, CKwargs>();

  constructor(
    private readonly filterFns: Record<string, FilterFn>,
    private readonly testFns: Record<string, TestFn>,
  ) {}

  private cached<K extends object, V>(map: WeakMap<K, V>, key: K, make: () => V): V {
    let v = map.get(key);
    if (v === undefined) {
      v = make();
      map.set(key, v);
    }
    return v;
  }

  expr(e: Expr): CExpr {
    return this.cached(this.exprs, e, () => this.compileExpr(e));
  }

  body(b: Stmt[]): CBody {
    return this.cached(this.bodies, b, () => this.compileBody(b));
  }

  /** One statement run as a body of its own (its line annotated, the budget counted). */
  statement(st: Stmt): CBody {
    return this.cached(this.statements, st, () => this.compileBody([st]));
  }

  target(t: Target): CTarget {
    return this.cached(this.targets, t, () => this.compileTarget(t));
  }

  /** Applies the filter node `e` (not its input, `e.node`) to a value. */
  filter(e: Expr & { k: 'filter' }): CFilter {
    return this.cached(this.filters, e, () => this.compileFilter(e));
  }

  args(c: CallArgs): CArgs {
    return this.cached(this.argLists, c, () => this.compileArgs(c));
  }

  kwargs(c: CallArgs): CKwargs {
    return this.cached(this.kwargLists, c, () => this.compileKwargs(c));
  }

  private compileBody(body: Stmt[]): CBody {
    const stmts = body.map((st) => this.compileStmt(st));
    const lines = body.map((st) => st.line);
    const n = stmts.length;
    if (n === 0) return () => {};
    if (n === 1) {
      const only = stmts[0] as CBody;
      const line = lines[0] as number;
      return (r, s, f, o) => {
        r.tick();
        r.line = line;
        try {
          only(r, s, f, o);
        } catch (err) {
          throw r.annotate(err, line);
        }
      };
    }
    return (r, s, f, o) => {
      let i = 0;
      try {
        for (; i < n; i++) {
          r.tick();
          r.line = lines[i] as number;
          (stmts[i] as CBody)(r, s, f, o);
        }
      } catch (err) {
        throw r.annotate(err, lines[i] as number);
      }
    };
  }

  private compileStmt(st: Stmt): CBody {
    switch (st.k) {
      case 'data': {
        const text = st.text;
        return (r, _s, _f, o) => r.write(o, text);
      }
      case 'print': {
        if (st.expr.k === 'const' && typeof st.expr.value === 'string') {
          const text = st.expr.value;
          const escaped = escapeHtml(text);
          return (r, _s, _f, o) => r.write(o, r.autoescape ? escaped : text);
        }
        const x = this.expr(st.expr);
        return (r, s, _f, o) => r.write(o, r.output(x(r, s)));
      }
      case 'if': {
        const test = this.expr(st.test);
        const body = this.body(st.body);
        const orElse = this.body(st.else);
        return (r, s, f, o) => {
          if (truthy(test(r, s))) body(r, s, f, o);
          else orElse(r, s, f, o);
        };
      }
      case 'for':
        return this.compileFor(st);
      case 'set': {
        const assign = this.target(st.target);
        const x = this.expr(st.expr);
        return (r, s) => assign(r, x(r, s), s);
      }
      case 'with': {
        const targets = st.targets.map(([t, e]) => [this.target(t), this.expr(e)] as const);
        const body = this.body(st.body);
        return (r, s, f, o) => {
          const inner = new Scope(s);
          for (const [assign, x] of targets) assign(r, x(r, s), inner);
          body(r, inner, f, o);
        };
      }
      default:
        // Macros, blocks, includes, imports, call/filter blocks: the renderer's own code (their
        // expressions and bodies are compiled when it first evaluates them).
        return (r, s, f, o) => r.exec(st, s, f, o);
    }
  }

  private compileFor(st: Stmt & { k: 'for' }): CBody {
    const iter = this.expr(st.iter);
    const assign = this.target(st.target);
    const test = st.test ? this.expr(st.test) : null;
    const body = this.body(st.body);
    const orElse = this.body(st.else);
    const recursive = st.recursive;
    const run = (r: Renderer, iterValue: unknown, s: Scope, f: Frame, o: Output, depth0: number): void => {
      let items = toList(iterValue);
      if (test) {
        items = items.filter((item) => {
          const inner = new Scope(s);
          assign(r, item, inner);
          return truthy(test(r, inner));
        });
      }
      if (items.length === 0) {
        orElse(r, new Scope(s), f, o);
        return;
      }
      const recurse = recursive ? (sub: unknown): unknown => r.withDepth(() => r.captured((out) => run(r, sub, s, f, out, depth0 + 1))) : null;
      const loop = new LoopState(items, depth0, recurse);
      const inner = new Scope(s);
      for (let i = 0; i < items.length; i++) {
        r.tick();
        loop.index0 = i;
        assign(r, items[i], inner);
        inner.vars.set('loop', loop);
        body(r, inner, f, o);
      }
    };
    return (r, s, f, o) => run(r, iter(r, s), s, f, o, 0);
  }

  private compileTarget(t: Target): CTarget {
    if (t.k === 'name') {
      const name = t.name;
      return (_r, v, s) => void s.vars.set(name, v);
    }
    if (t.k === 'tuple') {
      const subs = t.items.map((i) => this.target(i));
      const n = subs.length;
      return (r, v, s) => {
        const items = toList(v);
        if (items.length !== n) {
          throw new TemplateError('runtime', `${items.length < n ? 'not enough' : 'too many'} values to unpack (expected ${n}, got ${items.length})`);
        }
        for (let i = 0; i < n; i++) (subs[i] as CTarget)(r, items[i], s);
      };
    }
    const { name, attr } = t;
    return (_r, v, s) => {
      const ns = s.lookup(name);
      if (!(ns instanceof Namespace)) throw new TemplateError('runtime', 'cannot assign attribute on non-namespace object');
      setKey(ns.attrs, attr, v);
    };
  }

  private compileExpr(e: Expr): CExpr {
    switch (e.k) {
      case 'const': {
        const value = e.value;
        return pure(() => value);
      }
      case 'name': {
        const name = e.name;
        const hint = `'${name}' is undefined`;
        return (r, s) => {
          const v = s.lookup(name);
          return v !== MISSING_VAR ? v : new Undefined(r.mode, hint, name);
        };
      }
      case 'getattr': {
        const obj = this.expr(e.obj);
        const attr = e.attr;
        return (r, s) => getAttr(obj(r, s), attr, r.mode);
      }
      case 'getitem': {
        const obj = this.expr(e.obj);
        const key = this.expr(e.key);
        return (r, s) => getItem(obj(r, s), key(r, s), r.mode);
      }
      case 'slice': {
        const start = e.start ? this.expr(e.start) : null;
        const stop = e.stop ? this.expr(e.stop) : null;
        const step = e.step ? this.expr(e.step) : null;
        const fn: CExpr = (r, s) => new SliceVal(start ? start(r, s) : null, stop ? stop(r, s) : null, step ? step(r, s) : null);
        return [start, stop, step].every((c) => c === null || PURE.has(c)) ? pure(fn) : fn;
      }
      case 'tuple':
      case 'list': {
        const items = e.items.map((i) => this.expr(i));
        const isTuple = e.k === 'tuple';
        const fn: CExpr = (r, s) => {
          const out = new Array<unknown>(items.length);
          for (let i = 0; i < items.length; i++) out[i] = (items[i] as CExpr)(r, s);
          return isTuple ? tuple(out) : out;
        };
        return items.every((c) => PURE.has(c)) ? pure(fn) : fn;
      }
      case 'dict': {
        const pairs = e.pairs.map(([k, v]) => [this.expr(k), this.expr(v)] as const);
        const fn: CExpr = (r, s) => makeDict(pairs.map(([k, v]) => [pyStr(k(r, s)), v(r, s)]));
        return pairs.every(([k, v]) => PURE.has(k) && PURE.has(v)) ? pure(fn) : fn;
      }
      case 'and': {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        return foldIf([left, right], (r, s) => {
          const l = left(r, s);
          return truthy(l) ? right(r, s) : l;
        });
      }
      case 'or': {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        return foldIf([left, right], (r, s) => {
          const l = left(r, s);
          return truthy(l) ? l : right(r, s);
        });
      }
      case 'unary': {
        const node = this.expr(e.node);
        const op = e.op;
        if (op === 'not') return foldIf([node], (r, s) => !truthy(node(r, s)));
        return foldIf([node], (r, s) => {
          const v = node(r, s);
          if (v instanceof Undefined) throw undefinedError(v);
          if (typeof v === 'number' || typeof v === 'boolean') return op === '-' ? -num(v) : num(v);
          if (v instanceof PyFloat) return new PyFloat(op === '-' ? -v.v : v.v);
          throw new TemplateError('runtime', `bad operand type for unary ${op}: '${pyStr(v)}'`);
        });
      }
      case 'bin': {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        const op = e.op;
        if (op === '~') {
          return foldIf([left, right], (r, s) => {
            const a = left(r, s);
            const b = right(r, s);
            const str = capLen(toStr(a) + toStr(b), r.maxLen());
            return r.autoescape && (a instanceof Markup || b instanceof Markup) ? new Markup(str) : str;
          });
        }
        return foldIf([left, right], (r, s) => binOp(op, left(r, s), right(r, s), r.maxLen()));
      }
      case 'compare': {
        const first = this.expr(e.expr);
        const ops = e.ops.map(([op, x]) => [op, this.expr(x)] as const);
        const children = [first, ...ops.map(([, x]) => x)];
        if (ops.length === 1) {
          const [op, right] = ops[0] as readonly [string, CExpr];
          return foldIf(children, (r, s) => compareOp(op, first(r, s), right(r, s)));
        }
        return foldIf(children, (r, s) => {
          let left = first(r, s);
          for (const [op, x] of ops) {
            const right = x(r, s);
            if (!compareOp(op, left, right)) return false;
            left = right;
          }
          return true;
        });
      }
      case 'cond': {
        const test = this.expr(e.test);
        const a = this.expr(e.a);
        const b = e.b ? this.expr(e.b) : null;
        return foldIf([test, a, b], (r, s) => {
          if (truthy(test(r, s))) return a(r, s);
          return b ? b(r, s) : new Undefined('Undefined', 'the inline if-expression on line evaluated to false and no else section was defined.');
        });
      }
      case 'call': {
        const args = this.args(e);
        const kwargs = this.kwargs(e);
        if (e.fn.k === 'getattr') {
          // `x.method(...)` on a string, list or dict calls the method table's function directly.
          const obj = this.expr(e.fn.obj);
          const attr = e.fn.attr;
          return (r, s) => {
            const self = obj(r, s);
            const m = directMethod(self, attr);
            if (m === undefined) {
              const f = getAttr(self, attr, r.mode);
              const a = args(r, s);
              return r.callValue(f, a, kwargs(r, s));
            }
            const a = args(r, s);
            return m(self as never, a, kwargs(r, s));
          };
        }
        const fn = this.expr(e.fn);
        return (r, s) => {
          const f = fn(r, s);
          const a = args(r, s);
          return r.callValue(f, a, kwargs(r, s));
        };
      }
      case 'filter': {
        const apply = this.filter(e);
        if (e.node === null) return (r, s) => apply(r, s, null);
        const node = this.expr(e.node);
        const fn: CExpr = (r, s) => apply(r, s, node(r, s));
        return IMPURE_FILTERS.has(e.name) ? fn : foldIf([node, ...this.argExprs(e)], fn);
      }
      case 'test': {
        const test = hasKey(this.testFns, e.name) ? this.testFns[e.name] : undefined;
        const name = e.name;
        const args = this.args(e);
        const kwargs = e.kwargs.length > 0 || e.dynKwargs ? this.kwargs(e) : null;
        const node = this.expr(e.node);
        return foldIf([node, ...this.argExprs(e)], (r, s) => {
          if (!test) throw new TemplateError('runtime', `No test named '${name}' found.`);
          const a = args(r, s);
          if (kwargs) kwargs(r, s);
          return test(r, node(r, s), a);
        });
      }
    }
  }

  /** Every argument expression of a call, compiled (for the folding check). */
  private argExprs(c: CallArgs): CExpr[] {
    const all = [...c.args, ...c.kwargs.map(([, v]) => v)];
    if (c.dynArgs) all.push(c.dynArgs);
    if (c.dynKwargs) all.push(c.dynKwargs);
    return all.map((x) => this.expr(x));
  }

  private compileFilter(e: Expr & { k: 'filter' }): CFilter {
    const fn = hasKey(this.filterFns, e.name) ? this.filterFns[e.name] : undefined;
    const name = e.name;
    const args = this.args(e);
    const kwargs = this.kwargs(e);
    return (r, s, value) => {
      if (!fn) throw new TemplateError('runtime', `No filter named '${name}' found.`);
      const a = args(r, s);
      const result = fn(r, value, a, kwargs(r, s));
      if (typeof result === 'string' && result.length > r.env.limits.maxOutputChars) {
        throw new TemplateError('limit', `a string of more than ${r.env.limits.maxOutputChars} characters`);
      }
      return result;
    };
  }

  private compileArgs(c: CallArgs): CArgs {
    const items = c.args.map((a) => this.expr(a));
    const dyn = c.dynArgs ? this.expr(c.dynArgs) : null;
    const n = items.length;
    if (!dyn && n === 0) return () => [];
    if (!dyn && n === 1) {
      const only = items[0] as CExpr;
      return (r, s) => [only(r, s)];
    }
    return (r, s) => {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push((items[i] as CExpr)(r, s));
      if (dyn) out.push(...toList(dyn(r, s)));
      return out;
    };
  }

  private compileKwargs(c: CallArgs): CKwargs {
    if (c.kwargs.length === 0 && !c.dynKwargs) return () => NO_KWARGS;
    const pairs = c.kwargs.map(([k, v]) => [k, this.expr(v)] as const);
    const dyn = c.dynKwargs ? this.expr(c.dynKwargs) : null;
    return (r, s) => {
      const kwargs = newDict();
      for (const [k, v] of pairs) kwargs[k] = v(r, s);
      if (dyn) {
        const d = dyn(r, s);
        if (isDict(d)) for (const k of Object.keys(d)) setKey(kwargs, k, d[k]);
      }
      return kwargs;
    };
  }
}
