import type { TemplateAst } from './ast.js';
import { builtinFilters, builtinGlobals, builtinTests } from './filters.js';
import { networkFilters, networkTests } from './network-filters.js';
import { parseTemplate } from './parser.js';
import { Compiler } from './compile.js';
import { Renderer, type EngineEnv, type FilterFn, type Limits, type TestFn } from './render.js';
import { Scope } from './scope.js';
import { TemplateError, type UndefinedMode } from './values.js';

/**
 * Opsdeck's Jinja2 engine: a bounded interpreter over JSON-like data (see values.ts for why a
 * template cannot reach JavaScript objects). Options are fixed by the server, never by a request.
 */
export interface JinjaOptions {
  trimBlocks: boolean;
  lstripBlocks: boolean;
  keepTrailingNewline: boolean;
  undefined: UndefinedMode;
  autoescape: boolean;
  limits?: Partial<Limits>;
  /** Add the Ansible/netaddr network filters and tests (network-filters.ts). */
  network?: boolean;
}

/** Resolves an included, imported or extended name to its source, or null when there is none. */
export type TemplateLoader = (name: string) => string | null;

export const DEFAULT_LIMITS: Limits = { timeoutMs: 2000, maxOutputChars: 4_000_000, maxDepth: 64, maxRange: 100_000 };

export const PRODUCT_OPTIONS: JinjaOptions = {
  trimBlocks: true,
  lstripBlocks: true,
  keepTrailingNewline: true,
  undefined: 'StrictUndefined',
  autoescape: false,
  network: true,
};

export function createJinja(options: JinjaOptions) {
  const filters: Record<string, FilterFn> = Object.assign(
    Object.create(null) as Record<string, FilterFn>,
    builtinFilters,
    options.network ? networkFilters : {},
  );
  const tests: Record<string, TestFn> = Object.assign(Object.create(null) as Record<string, TestFn>, builtinTests, options.network ? networkTests : {});
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const globals = builtinGlobals(limits.maxRange);
  const parseOpts = { ...options, filters: new Set(Object.keys(filters)), tests: new Set(Object.keys(tests)) };
  const globalScope = new Scope(null);
  globalScope.setAll(globals);
  const env: EngineEnv = {
    undefinedMode: options.undefined,
    autoescape: options.autoescape,
    filters,
    tests,
    globals,
    globalScope,
    limits,
    compiler: new Compiler(filters, tests),
  };
  // Parsed templates by source, least recently used first (each is compiled to closures once, on its first render).
  const cache = new Map<string, TemplateAst>();

  function parse(source: string, name: string | null = null): TemplateAst {
    let ast = cache.get(source);
    if (ast) {
      if (cache.size > 1) {
        cache.delete(source);
        cache.set(source, ast);
      }
      return ast;
    }
    try {
      ast = parseTemplate(source, parseOpts);
    } catch (err) {
      // A recursive-descent parser meets absurd nesting (`((((…`) as a stack overflow: a syntax error here.
      if (err instanceof RangeError) throw new TemplateError('syntax', 'the template nests too deeply', null, name);
      if (err instanceof TemplateError && err.template === null) err.template = name;
      throw err;
    }
    if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
    cache.set(source, ast);
    return ast;
  }

  function render(source: string, vars: Record<string, unknown>, loader: TemplateLoader = () => null, name = 'template'): string {
    const ast = parse(source, name);
    const renderer = new Renderer(env, (n) => {
      const src = loader(n);
      return src === null ? null : parse(src, n);
    });
    return renderer.render(ast, name, vars);
  }

  return { parse, render, filterNames: () => Object.keys(filters), testNames: () => Object.keys(tests) };
}
export type Jinja = ReturnType<typeof createJinja>;
export { TemplateError } from './values.js';
export type { ErrorKind, UndefinedMode } from './values.js';
export type { Limits } from './render.js';
export type { TemplateAst, Expr, Stmt, Target } from './ast.js';
