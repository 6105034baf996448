import type { Expr, Stmt, Target, TemplateAst } from './engine/index.js';

/**
 * Static analysis of a parsed template: the undeclared variables it reads, a JSON Schema proposed
 * from how it uses them (iterated → array, attribute or key access → object, guarded by
 * `is defined` / `default` → optional), and the stored templates it names in include/import/extends.
 */
interface Shape {
  kind: 'any' | 'object' | 'array';
  props: Map<string, Shape>;
  items: Shape | null;
}
const shape = (): Shape => ({ kind: 'any', props: new Map(), items: null });

const GLOBALS = new Set(['range', 'dict', 'lipsum', 'cycler', 'joiner', 'namespace', 'loop', 'self', 'super', 'caller', 'varargs', 'kwargs']);
/** Methods whose call says nothing about a property of the object they are called on. */
const METHODS = new Set([
  'items',
  'keys',
  'values',
  'get',
  'update',
  'pop',
  'setdefault',
  'copy',
  'append',
  'extend',
  'insert',
  'remove',
  'index',
  'count',
  'split',
  'rsplit',
  'strip',
  'lstrip',
  'rstrip',
  'upper',
  'lower',
  'startswith',
  'endswith',
  'replace',
  'format',
  'join',
  'title',
  'capitalize',
  'ljust',
  'rjust',
  'center',
  'zfill',
  'splitlines',
  'find',
]);

type Bindings = Map<string, Shape | null>;

class Analyzer {
  readonly roots = new Map<string, Shape>();
  readonly optional = new Set<string>();
  readonly required = new Set<string>();

  private asObject(s: Shape | null, prop: string): Shape | null {
    if (!s) return null;
    if (s.kind === 'any') s.kind = 'object';
    if (s.kind !== 'object') return null;
    let p = s.props.get(prop);
    if (!p) {
      p = shape();
      s.props.set(prop, p);
    }
    return p;
  }

  private asArray(s: Shape | null): Shape | null {
    if (!s) return null;
    if (s.kind === 'any') s.kind = 'array';
    if (s.kind !== 'array') return null;
    s.items ??= shape();
    return s.items;
  }

  private rootName(e: Expr): string | null {
    let cur = e;
    while (cur.k === 'getattr' || cur.k === 'getitem') cur = cur.obj;
    return cur.k === 'name' ? cur.name : null;
  }

  expr(e: Expr | null, scope: Bindings, guarded = false): Shape | null {
    if (!e) return null;
    switch (e.k) {
      case 'const':
        return null;
      case 'name': {
        if (scope.has(e.name)) return scope.get(e.name) ?? null;
        if (GLOBALS.has(e.name)) return null;
        let s = this.roots.get(e.name);
        if (!s) {
          s = shape();
          this.roots.set(e.name, s);
        }
        (guarded ? this.optional : this.required).add(e.name);
        return s;
      }
      case 'getattr':
        return this.asObject(this.expr(e.obj, scope, guarded), e.attr);
      case 'getitem': {
        this.expr(e.key, scope);
        const obj = this.expr(e.obj, scope, guarded);
        if (e.key.k === 'const' && typeof e.key.value === 'string') return this.asObject(obj, e.key.value);
        return null;
      }
      case 'call': {
        if (e.fn.k === 'getattr' && METHODS.has(e.fn.attr)) {
          const obj = this.expr(e.fn.obj, scope, guarded);
          if (obj && obj.kind === 'any' && ['items', 'keys', 'values', 'get'].includes(e.fn.attr)) obj.kind = 'object';
        } else this.expr(e.fn, scope);
        this.args(e, scope);
        return null;
      }
      case 'filter': {
        const guard = e.name === 'default' || e.name === 'd' || e.name === 'mandatory';
        this.expr(e.node, scope, guarded || guard);
        this.args(e, scope);
        return null;
      }
      case 'test': {
        const guard = ['defined', 'undefined', 'none'].includes(e.name);
        this.expr(e.node, scope, guarded || guard);
        this.args(e, scope);
        return null;
      }
      case 'tuple':
      case 'list':
        for (const i of e.items) this.expr(i, scope);
        return null;
      case 'dict':
        for (const [k, v] of e.pairs) {
          this.expr(k, scope);
          this.expr(v, scope);
        }
        return null;
      case 'slice':
        this.expr(e.start, scope);
        this.expr(e.stop, scope);
        this.expr(e.step, scope);
        return null;
      case 'bin':
      case 'and':
      case 'or':
        this.expr(e.left, scope, guarded);
        this.expr(e.right, scope, guarded || (e.k === 'and' && this.guards(e.left)));
        return null;
      case 'unary':
        this.expr(e.node, scope, guarded);
        return null;
      case 'compare':
        this.expr(e.expr, scope);
        for (const [, x] of e.ops) this.expr(x, scope);
        return null;
      case 'cond':
        this.expr(e.test, scope);
        this.expr(e.a, scope, guarded || this.guards(e.test));
        this.expr(e.b, scope, guarded);
        return null;
    }
  }

  /** `x is defined and x.y`: the right side only runs when x exists. */
  private guards(test: Expr): boolean {
    return test.k === 'test' && test.name === 'defined' && this.rootName(test.node) !== null;
  }

  private args(c: { args: Expr[]; kwargs: [string, Expr][]; dynArgs: Expr | null; dynKwargs: Expr | null }, scope: Bindings): void {
    for (const a of c.args) this.expr(a, scope);
    for (const [, v] of c.kwargs) this.expr(v, scope);
    this.expr(c.dynArgs, scope);
    this.expr(c.dynKwargs, scope);
  }

  private bind(t: Target, s: Shape | null, scope: Bindings): void {
    if (t.k === 'name') scope.set(t.name, s);
    else if (t.k === 'tuple') for (const i of t.items) this.bind(i, null, scope);
  }

  body(stmts: Stmt[], scope: Bindings): void {
    for (const s of stmts) this.stmt(s, scope);
  }

  private stmt(s: Stmt, scope: Bindings): void {
    switch (s.k) {
      case 'data':
        return;
      case 'print':
        this.expr(s.expr, scope);
        return;
      case 'if':
        this.expr(s.test, scope);
        this.body(s.body, scope);
        this.body(s.else, scope);
        return;
      case 'for': {
        const iter = this.expr(s.iter, scope);
        const inner: Bindings = new Map(scope);
        this.bind(s.target, s.iter.k === 'call' ? null : this.asArray(iter), inner);
        this.expr(s.test, inner);
        this.body(s.body, inner);
        this.body(s.else, new Map(scope));
        return;
      }
      case 'set':
        this.expr(s.expr, scope);
        if (s.target.k !== 'nsattr') this.bind(s.target, null, scope);
        return;
      case 'setblock':
        this.body(s.body, new Map(scope));
        if (s.filter) this.expr(s.filter, scope);
        if (s.target.k !== 'nsattr') this.bind(s.target, null, scope);
        return;
      case 'macro':
      case 'callblock': {
        if (s.k === 'callblock') this.expr(s.call, scope);
        else scope.set(s.def.name, null);
        const inner: Bindings = new Map(scope);
        for (const p of s.def.params) inner.set(p, null);
        for (const d of s.def.defaults) this.expr(d, inner);
        this.body(s.def.body, inner);
        return;
      }
      case 'filterblock':
        this.expr(s.filter, scope);
        this.body(s.body, new Map(scope));
        return;
      case 'with': {
        const inner: Bindings = new Map(scope);
        for (const [t, e] of s.targets) {
          this.expr(e, scope);
          this.bind(t, null, inner);
        }
        this.body(s.body, inner);
        return;
      }
      case 'autoescape':
        this.expr(s.value, scope);
        this.body(s.body, scope);
        return;
      case 'block':
        this.body(s.body, new Map(scope));
        return;
      case 'include':
      case 'extends':
        this.expr(s.template, scope);
        return;
      case 'import':
        this.expr(s.template, scope);
        scope.set(s.target, null);
        return;
      case 'fromimport':
        this.expr(s.template, scope);
        for (const [, alias] of s.names) scope.set(alias, null);
        return;
    }
  }
}

function toSchema(s: Shape): Record<string, unknown> {
  if (s.kind === 'array') return { type: 'array', items: s.items ? toSchema(s.items) : {} };
  if (s.kind === 'object') {
    const properties: Record<string, unknown> = {};
    for (const [k, v] of s.props) properties[k] = toSchema(v);
    return { type: 'object', properties };
  }
  return {};
}

export interface TemplateVariables {
  variables: string[];
  schema: Record<string, unknown>;
}

export function templateVariables(ast: TemplateAst): TemplateVariables {
  const a = new Analyzer();
  a.body(ast.body, new Map());
  const properties: Record<string, unknown> = {};
  for (const [name, s] of a.roots) properties[name] = toSchema(s);
  const required = [...a.roots.keys()].filter((n) => a.required.has(n) && !a.optional.has(n));
  return { variables: [...a.roots.keys()], schema: { type: 'object', properties, required } };
}

/** Names of templates a template includes, imports or extends with a literal name. */
export function referencedTemplates(ast: TemplateAst): string[] {
  const out = new Set<string>();
  const literal = (e: Expr): void => {
    if (e.k === 'const' && typeof e.value === 'string') out.add(e.value);
    else if (e.k === 'list' || e.k === 'tuple') e.items.forEach(literal);
    else if (e.k === 'cond') {
      literal(e.a);
      if (e.b) literal(e.b);
    }
  };
  const walk = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.k === 'include' || s.k === 'import' || s.k === 'fromimport' || s.k === 'extends') literal(s.template);
      if ('body' in s) walk(s.body);
      if (s.k === 'if' || s.k === 'for') walk(s.else);
      if (s.k === 'macro' || s.k === 'callblock') walk(s.def.body);
    }
  };
  walk(ast.body);
  return [...out];
}
