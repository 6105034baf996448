/**
 * Template render throughput: Opsdeck's Jinja2 engine against the reference (Debian
 * python3-jinja2) on every output case of the conformance corpus, in one run. Both sides compile
 * each template once, then render it repeatedly for at least --min-ms of CPU time per round; a
 * side's time for a case is its best of --rounds rounds. Prints renders/s over the corpus (one
 * render of every case), bytes/s, the ratio, and the cases where Opsdeck is under 2× faster.
 *
 *   npx tsx bench/templates.bench.ts [--min-ms=20] [--rounds=3] [--warmup-ms=50]
 *
 * Each Opsdeck case first renders for --warmup-ms uncounted (the JIT's warm-up; Python has none).
 *
 * Needs python3-jinja2 and python3-yaml (apt-get install -y python3-jinja2 python3-yaml);
 * OPSDECK_BENCH_PYTHON picks the interpreter (default /usr/bin/python3). The Opsdeck side runs
 * in this process on the calling thread (the engine itself, bundled by esbuild as the build would
 * compile it, no worker round trip); CPU time on
 * both sides (process.cpuUsage / time.process_time), so waiting for a core is not counted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import YAML from 'yaml';
import type { createJinja as CreateJinja, UndefinedMode } from '../src/modules/templates/engine/index.js';
import { ROOT } from './lib.js';

// NOTE: the engine is measured as production runs it, compiled to plain JavaScript. Under tsx every
// call across module boundaries goes through an export getter, which made renders 4-5x slower.
const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-jinja-')), 'engine.cjs');
buildSync({ entryPoints: [path.join(ROOT, 'src/modules/templates/engine/index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, logLevel: 'error' });
const { createJinja } = createRequire(import.meta.url)(bundle) as { createJinja: typeof CreateJinja };

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const MIN_MS = Number(args['min-ms'] ?? 20);
const ROUNDS = Number(args['rounds'] ?? 3);
const WARMUP_MS = Number(args['warmup-ms'] ?? 50);
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

const manifest = JSON.parse(fs.readFileSync(path.join(CORPUS, 'MANIFEST.json'), 'utf8')) as { cases: { name: string; vars: string; env: Env; expect: string }[] };
const cases: Case[] = manifest.cases
  .filter((c) => c.expect === 'output')
  .map((c) => {
    const dir = path.join(CORPUS, 'cases', c.name);
    const raw = fs.readFileSync(path.join(dir, c.vars), 'utf8');
    return { name: c.name, dir, env: c.env, vars: (c.vars.endsWith('.json') ? JSON.parse(raw) : YAML.parse(raw)) as Record<string, unknown>, files: readFiles(dir) };
  });

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function timeOpsdeck(c: Case): { seconds: number; bytes: number } {
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
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = cpuSeconds();
    for (; cpuSeconds() - start < MIN_MS / 1000; n++) render();
    best = Math.min(best, (cpuSeconds() - start) / n);
  }
  return { seconds: best, bytes: Buffer.byteLength(text) };
}

const py = spawnSync(PYTHON, [path.join(ROOT, 'bench/jinja2_ref.py')], {
  input: JSON.stringify({ min_ms: MIN_MS, rounds: ROUNDS, cases: cases.map((c) => ({ name: c.name, dir: c.dir, env: c.env, vars: c.vars })) }),
  maxBuffer: 64 * 1024 * 1024,
});
if (py.status !== 0) {
  process.stderr.write(`reference Jinja2 failed (apt-get install -y python3-jinja2 python3-yaml): ${py.stderr.toString()}\n`);
  process.exit(1);
}
const ref = JSON.parse(py.stdout.toString()) as { version: string; cases: { name: string; seconds_per_render: number; bytes: number }[] };
const refBy = new Map(ref.cases.map((c) => [c.name, c]));

let opsTotal = 0;
let pyTotal = 0;
let bytes = 0;
const slow: string[] = [];
for (const c of cases) {
  const o = timeOpsdeck(c);
  const p = refBy.get(c.name);
  if (!p) continue;
  opsTotal += o.seconds;
  pyTotal += p.seconds_per_render;
  bytes += o.bytes;
  const ratio = p.seconds_per_render / o.seconds;
  if (ratio < TARGET) slow.push(`  ${c.name}: ${ratio.toFixed(2)}×`);
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
process.stdout.write(`Jinja2 ${ref.version} (${PYTHON}) vs Opsdeck engine, ${cases.length} output cases, best of ${ROUNDS} rounds ≥ ${MIN_MS} ms CPU each\n`);
process.stdout.write(`  python  : ${fmt(1 / pyTotal)} corpus renders/s (${fmt(cases.length / pyTotal)} templates/s, ${fmt(bytes / pyTotal / 1024)} KiB/s)\n`);
process.stdout.write(`  opsdeck : ${fmt(1 / opsTotal)} corpus renders/s (${fmt(cases.length / opsTotal)} templates/s, ${fmt(bytes / opsTotal / 1024)} KiB/s)\n`);
process.stdout.write(`  ratio   : ${(pyTotal / opsTotal).toFixed(2)}× (target ≥ ${TARGET}×)\n`);
if (slow.length > 0) process.stdout.write(`cases under ${TARGET}×:\n${slow.join('\n')}\n`);
