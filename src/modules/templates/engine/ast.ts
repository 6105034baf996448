/** The syntax tree the parser builds and the interpreter walks. Every node knows its line. */
export interface CallArgs {
  args: Expr[];
  kwargs: [string, Expr][];
  dynArgs: Expr | null;
  dynKwargs: Expr | null;
}

export type Expr =
  | { k: 'const'; line: number; value: unknown }
  | { k: 'name'; line: number; name: string }
  | { k: 'tuple'; line: number; items: Expr[] }
  | { k: 'list'; line: number; items: Expr[] }
  | { k: 'dict'; line: number; pairs: [Expr, Expr][] }
  | { k: 'getattr'; line: number; obj: Expr; attr: string }
  | { k: 'getitem'; line: number; obj: Expr; key: Expr }
  | { k: 'slice'; line: number; start: Expr | null; stop: Expr | null; step: Expr | null }
  | ({ k: 'call'; line: number; fn: Expr } & CallArgs)
  | ({ k: 'filter'; line: number; node: Expr | null; name: string; known: boolean } & CallArgs)
  | ({ k: 'test'; line: number; node: Expr; name: string; known: boolean } & CallArgs)
  | { k: 'bin'; line: number; op: string; left: Expr; right: Expr }
  | { k: 'unary'; line: number; op: string; node: Expr }
  | { k: 'and' | 'or'; line: number; left: Expr; right: Expr }
  | { k: 'compare'; line: number; expr: Expr; ops: [string, Expr][] }
  | { k: 'cond'; line: number; test: Expr; a: Expr; b: Expr | null };

export type Target =
  | { k: 'name'; line: number; name: string }
  | { k: 'tuple'; line: number; items: Target[] }
  | { k: 'nsattr'; line: number; name: string; attr: string };

export interface MacroDef {
  name: string;
  params: string[];
  defaults: (Expr | null)[];
  body: Stmt[];
  line: number;
}

export type Stmt =
  | { k: 'data'; line: number; text: string }
  | { k: 'print'; line: number; expr: Expr }
  | { k: 'for'; line: number; target: Target; iter: Expr; body: Stmt[]; else: Stmt[]; test: Expr | null; recursive: boolean }
  | { k: 'if'; line: number; test: Expr; body: Stmt[]; else: Stmt[] }
  | { k: 'macro'; line: number; def: MacroDef }
  | { k: 'callblock'; line: number; call: Expr; def: MacroDef }
  | { k: 'filterblock'; line: number; filter: Expr; body: Stmt[] }
  | { k: 'set'; line: number; target: Target; expr: Expr }
  | { k: 'setblock'; line: number; target: Target; filter: Expr | null; body: Stmt[] }
  | { k: 'include'; line: number; template: Expr; ignoreMissing: boolean; withContext: boolean }
  | { k: 'import'; line: number; template: Expr; target: string; withContext: boolean }
  | { k: 'fromimport'; line: number; template: Expr; names: [string, string][]; withContext: boolean }
  | { k: 'extends'; line: number; template: Expr }
  | { k: 'block'; line: number; name: string; body: Stmt[]; scoped: boolean; required: boolean }
  | { k: 'with'; line: number; targets: [Target, Expr][]; body: Stmt[] }
  | { k: 'autoescape'; line: number; value: Expr; body: Stmt[] };

export interface TemplateAst {
  body: Stmt[];
  blocks: Map<string, Stmt & { k: 'block' }>;
  hasExtends: boolean;
}
