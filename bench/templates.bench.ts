/**
 * Template render throughput: Opsdeck's Jinja2 engine against the reference (Debian
 * python3-jinja2) on every output case of the conformance corpus, in one run. Prints renders/s
 * over the corpus (one render of every case), bytes/s, the ratio, and the cases where Opsdeck is
 * under 2× faster (--cases: every case).
 *
 *   npx tsx bench/templates.bench.ts [--min-ms=20] [--rounds=3] [--warmup-ms=50] [--cases]
 *
 * What is measured, the same on both sides: the template (and what it includes, imports or
 * extends) is compiled once — Python: `Environment.get_template`, with `auto_reload=False` so a
 * cached template is not stat()ed per use; Opsdeck: `createJinja().render`, whose parse cache
 * holds the syntax tree and its compiled closures — and a timed render is rendering it with the
 * case's variables: Python `template.render(vars)`, Opsdeck `jinja.render(source, vars, loader)`
 * (the cache lookup by source included). Not measured: parsing/compiling, and the worker-thread
 * round trip of the server (render-pool.ts), which is the same message passing whatever the engine.
 * A round renders one case repeatedly for at least --min-ms of CPU time; a side's time for a case
 * is its best of --rounds rounds. Rounds alternate between the two engines case by case (the
 * Python side is a child process answering one round per request), so both are timed in the same
 * seconds of this shared machine.
 *
 * Each Opsdeck case first renders for --warmup-ms uncounted, all cases before the first timed round
 * (the JIT's warm-up, steady state as in a server; Python has none).
 *
 * Needs python3-jinja2 and python3-yaml (apt-get install -y python3-jinja2 python3-yaml);
 * OPSDECK_BENCH_PYTHON picks the interpreter (default /usr/bin/python3). The Opsdeck side runs
 * in this process on the calling thread (the engine itself, bundled by esbuild as the build would
 * compile it); CPU time on both sides (process.cpuUsage / time.process_time), so waiting for a
 * core is not counted.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { buildSync } from 'esbuild';
import YAML from 'yaml';
import type { createJinja as CreateJinja, UndefinedMode } from '../src/modules/templates/engine/index.js';
import { ROOT } from './lib.js';

// NOTE: the engine is measured as production runs it, compiled to plain JavaScript. Under tsx every
// call across module boundaries goes through an export getter, which made renders 4-5x slower.
const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-jinja-')), 'engine.cjs');
buildSync({
  entryPoints: [path.join(ROOT, 'src/modules/templates/engine/index.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: bundle,
  logLevel: 'error',
});
const { createJinja } = createRequire(import.meta.url)(bundle) as { createJinja: typeof CreateJinja };

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const MIN_MS = Number(args['min-ms'] ?? 20);
const ROUNDS = Number(args['rounds'] ?? 3);
const WARMUP_MS = Number(args['warmup-ms'] ?? 50);
const ALL_CASES = 'cases' in args;
const TARGET = 2;
const CORPUS = path.resolve(ROOT, '../shared/data/jinja2-conformance');
const PYTHON = process.env.OPSDECK_BENCH_PYTHON ?? '/usr/bin/python3';

interface Env {
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  keep_trailing_newline?: boolean;
  undefined?: UndefinedMode;
  autoescape?: boolean;
}
interface Case {
  name: string;
  dir: string;
  env: Env;
  vars: Record<string, unknown>;
  files: Map<string, string>;
}

function readFiles(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) readFiles(p, base, out);
    else if (f.endsWith('.j2')) out.set(path.relative(base, p), fs.readFileSync(p, 'utf8'));
  }
  return out;
}

const manifest = JSON.parse(fs.readFileSync(path.join(CORPUS, 'MANIFEST.json'), 'utf8')) as {
  cases: { name: string; vars: string; env: Env; expect: string }[];
};
const cases: Case[] = manifest.cases
  .filter((c) => c.expect === 'output')
  .map((c) => {
    const dir = path.join(CORPUS, 'cases', c.name);
    const raw = fs.readFileSync(path.join(dir, c.vars), 'utf8');
    return {
      name: c.name,
      dir,
      env: c.env,
      vars: (c.vars.endsWith('.json') ? JSON.parse(raw) : YAML.parse(raw)) as Record<string, unknown>,
      files: readFiles(dir),
    };
  });

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** One Opsdeck engine per case, its template rendered once (parsed, compiled) and warmed up. */
function prepareOpsdeck(c: Case): { render: () => string; bytes: number } {
  const jinja = createJinja({
    trimBlocks: c.env.trim_blocks ?? false,
    lstripBlocks: c.env.lstrip_blocks ?? false,
    keepTrailingNewline: c.env.keep_trailing_newline ?? false,
    undefined: c.env.undefined ?? 'Undefined',
    autoescape: c.env.autoescape ?? false,
  });
  const source = c.files.get('template.j2') as string;
  const load = (n: string) => c.files.get(n) ?? null;
  const render = () => jinja.render(source, c.vars, load, 'template.j2');
  const text = render();
  // Warm-up, not counted: a server renders its templates many times, so steady-state (JIT-compiled) speed is what matters.
  for (const start = cpuSeconds(); cpuSeconds() - start < WARMUP_MS / 1000; ) render();
  return { render, bytes: Buffer.byteLength(text) };
}

function opsdeckRound(render: () => string): number {
  let n = 0;
  const start = cpuSeconds();
  for (; cpuSeconds() - start < MIN_MS / 1000; n++) render();
  return (cpuSeconds() - start) / n;
}

const py = spawn(PYTHON, [path.join(ROOT, 'bench/jinja2_ref.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
let pyErr = '';
py.stderr.on('data', (d: Buffer) => (pyErr += d.toString()));
const replies = readline.createInterface({ input: py.stdout })[Symbol.asyncIterator]();
async function askPython<T>(doc: unknown): Promise<T> {
  py.stdin.write(`${JSON.stringify(doc)}\n`);
  const line = await replies.next();
  if (line.done) {
    process.stderr.write(`reference Jinja2 failed (apt-get install -y python3-jinja2 python3-yaml): ${pyErr}\n`);
    process.exit(1);
  }
  return JSON.parse(line.value as string) as T;
}

const ref = await askPython<{ version: string; cases: { name: string; bytes: number }[] }>({
  cases: cases.map((c) => ({ name: c.name, dir: c.dir, env: c.env, vars: c.vars })),
});

let opsTotal = 0;
let pyTotal = 0;
let bytes = 0;
const slow: string[] = [];
// Every case is compiled and warmed up before any is timed: the engine's code is shared by all
// templates, and the JIT's work on it (counted in this process's CPU time) is over by then.
const prepared = cases.map(prepareOpsdeck);
for (const [i, c] of cases.entries()) {
  const ops = prepared[i] as ReturnType<typeof prepareOpsdeck>;
  let opsBest = Infinity;
  let pyBest = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which side goes first, so neither always runs right after the other's round.
    if (r % 2 === 1) opsBest = Math.min(opsBest, opsdeckRound(ops.render));
    pyBest = Math.min(pyBest, (await askPython<{ seconds_per_render: number }>({ case: i, min_ms: MIN_MS })).seconds_per_render);
    if (r % 2 === 0) opsBest = Math.min(opsBest, opsdeckRound(ops.render));
  }
  opsTotal += opsBest;
  pyTotal += pyBest;
  bytes += ops.bytes;
  const ratio = pyBest / opsBest;
  if (ratio < TARGET || ALL_CASES) {
    slow.push(`  ${c.name}: ${ratio.toFixed(2)}× (python ${(pyBest * 1e6).toFixed(1)} µs, opsdeck ${(opsBest * 1e6).toFixed(1)} µs)`);
  }
}
py.stdin.end();
if (ref.cases.length !== cases.length) throw new Error('the reference answered a different number of cases');

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
process.stdout.write(
  `Jinja2 ${ref.version} (${PYTHON}) vs Opsdeck engine, ${cases.length} output cases, best of ${ROUNDS} interleaved rounds ≥ ${MIN_MS} ms CPU each\n`,
);
process.stdout.write('  measured: rendering an already compiled template (both sides; parse/compile and the worker round trip not counted)\n');
process.stdout.write(`  python  : ${fmt(1 / pyTotal)} corpus renders/s (${fmt(cases.length / pyTotal)} templates/s, ${fmt(bytes / pyTotal / 1024)} KiB/s)\n`);
process.stdout.write(
  `  opsdeck : ${fmt(1 / opsTotal)} corpus renders/s (${fmt(cases.length / opsTotal)} templates/s, ${fmt(bytes / opsTotal / 1024)} KiB/s)\n`,
);
process.stdout.write(`  ratio   : ${(pyTotal / opsTotal).toFixed(2)}× (target ≥ ${TARGET}×)\n`);
if (slow.length > 0) process.stdout.write(`${ALL_CASES ? 'cases' : `cases under ${TARGET}×`}:\n${slow.join('\n')}\n`);
