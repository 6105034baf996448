// @ts-check
/**
 * Fails when modules depend on each other in a cycle, counting every import between them
 * (type-only, re-exports and dynamic `import()` included). Module granularity: an import of
 * `modules/<b>/…` from any file under `modules/<a>/` is the edge a → b. Test files are left
 * out: a test may reach a module its module does not depend on.
 * Hand-written because dependency-cruiser's and import-x's `no-cycle` rules work per file and
 * take seconds over the tree; this reads each file once and matches its import specifiers (~0.1 s).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const MODULES = process.argv[2] ?? path.join(import.meta.dirname, '..', 'src', 'modules');
/** `… from './x.js'` (imports and re-exports, type-only too), `import './x.js'` and `import('./x.js')`. */
const SPECIFIER = /\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** @returns {string[]} */
function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** @type {Map<string, Map<string, string>>} module → (module it imports → one file:line that does) */
const edges = new Map();
for (const mod of readdirSync(MODULES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)) {
  const out = new Map();
  edges.set(mod, out);
  for (const file of sourceFiles(path.join(MODULES, mod))) {
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? '';
      const rel = path.relative(MODULES, path.resolve(path.dirname(file), spec));
      const to = rel.startsWith('..') ? null : rel.split(path.sep)[0];
      if (to && to !== mod && !out.has(to)) out.set(to, `${path.relative(process.cwd(), file)} → ${spec}`);
    }
  }
}

// Tarjan's strongly connected components: every component with more than one module is a cycle.
let index = 0;
const stack = [];
/** @type {Map<string, { index: number; low: number; on: boolean }>} */
const state = new Map();
const cycles = [];
function visit(v) {
  const s = { index, low: index, on: true };
  index++;
  state.set(v, s);
  stack.push(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    const t = state.get(w);
    if (!t) {
      visit(w);
      s.low = Math.min(s.low, /** @type {any} */ (state.get(w)).low);
    } else if (t.on) s.low = Math.min(s.low, t.index);
  }
  if (s.low === s.index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      /** @type {any} */ (state.get(w)).on = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  }
}
for (const v of edges.keys()) if (!state.has(v)) visit(v);

if (cycles.length > 0) {
  for (const component of cycles) {
    console.error(`module cycle: ${component.join(', ')}`);
    for (const a of component) for (const [b, where] of edges.get(a) ?? []) if (component.includes(b)) console.error(`  ${a} → ${b}: ${where}`);
  }
  process.exit(1);
}
