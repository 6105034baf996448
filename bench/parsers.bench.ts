/**
 * TextFSM throughput: Opsdeck's engine against the reference (Debian python3-textfsm) on the
 * same templates and inputs — every ntc-templates test case, each template of its index row —
 * in one run. Prints records/s and bytes/s over the corpus, the overall ratio, every template
 * where we are under 3× faster, and template compile times.
 *
 *   npx tsx bench/parsers.bench.ts [--min-ms=5] [--filter=cisco_ios]
 *
 * Needs python3-textfsm (apt-get install -y python3-textfsm); set OPSDECK_BENCH_PYTHON to pick
 * the interpreter. Both sides parse a template compiled once, then per run: parse + records with
 * lower-cased keys and str() cells (bench/textfsm_ref.py does the same for Python). The two sides
 * alternate case by case (Python in a long-lived child process), two rounds, best per side, and
 * both count CPU time of their own process, not wall time: on a shared machine, time spent
 * waiting for a core would otherwise swamp the figures.
 *
 * Last, a catastrophic-backtracking template/input pair goes through the parse service (worker
 * pool, 1 s budget) and the time until it is stopped is printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { createMemoryCustomTemplateStore } from '../src/modules/parsers/custom-template.store.js';
import { createParsersService } from '../src/modules/parsers/parsers.service.js';
import fs from 'node:fs';
import path from 'node:path';
import { parseIndex, findIndexRow } from '../src/modules/parsers/textfsm/clitable.fns.js';
import { parseToRecords } from '../src/modules/parsers/textfsm/ntc-records.fns.js';
import { createTemplateCache } from '../src/modules/parsers/textfsm/template-cache.js';
import { compileTemplate } from '../src/modules/parsers/textfsm/textfsm-template.fns.js';
import { ROOT } from './lib.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const MIN_MS = Number(args['min-ms'] ?? 5);
const FILTER = args['filter'] ?? '';
const TARGET = 3;
const DATA = path.resolve(ROOT, '../shared/data/ntc-templates');
const TEMPLATES = path.join(DATA, 'templates');

interface BenchCase {
  id: string;
  template: string;
  raw: string;
}

interface Timing {
  id: string;
  seconds_per_run: number;
  records: number;
  bytes: number;
}

function collectCases(): BenchCase[] {
  const index = parseIndex(fs.readFileSync(path.join(TEMPLATES, 'index'), 'utf8'));
  const out: BenchCase[] = [];
  const tests = path.join(DATA, 'tests');
  for (const platform of fs.readdirSync(tests).sort()) {
    for (const commandDir of fs.readdirSync(path.join(tests, platform)).sort()) {
      const row = findIndexRow(index, { Platform: platform, Command: commandDir.replaceAll('_', ' ') });
      if (row === null) continue;
      for (const f of fs.readdirSync(path.join(tests, platform, commandDir)).sort()) {
        if (!f.endsWith('.raw')) continue;
        for (const t of row.templates) {
          const id = `${platform}/${commandDir}/${f}#${t}`;
          if (!id.includes(FILTER)) continue;
          out.push({ id, template: path.join(TEMPLATES, t), raw: path.join(tests, platform, commandDir, f) });
        }
      }
    }
  }
  return out;
}

function findPython(): string | null {
  const candidates = [process.env.OPSDECK_BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import textfsm'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

interface PythonPeer {
  version: string;
  time(c: BenchCase): Promise<Timing>;
  compileTimes(): Promise<Record<string, number>>;
  close(): void;
}

async function startPython(python: string): Promise<PythonPeer> {
  const child = spawn(python, ['-W', 'ignore', path.join(ROOT, 'bench/textfsm_ref.py'), '--lines'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const r = await lines.next();
    if (r.done) throw new Error('textfsm_ref.py exited');
    return JSON.parse(r.value as string) as T;
  };
  const { version } = await next<{ version: string }>();
  return {
    version,
    time(c) {
      child.stdin.write(`${JSON.stringify({ min_ms: MIN_MS, ...c })}\n`);
      return next<Timing>();
    },
    compileTimes() {
      child.stdin.write(`${JSON.stringify({ compile: true })}\n`);
      return next<Record<string, number>>();
    },
    close: () => child.stdin.end(),
  };
}

const ourCache = createTemplateCache(4096);

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function measureOurs(c: BenchCase): Timing {
  const template = ourCache.get(fs.readFileSync(c.template, 'utf8'));
  const text = fs.readFileSync(c.raw, 'utf8');
  const unit = [{ name: c.template, template }];
  let runs = 0;
  let records: number;
  let elapsed: number;
  // The clock is read once per batch (doubling), as textfsm_ref.py does: reading it costs about
  // as much as parsing a one-line output.
  let batch = 1;
  const start = cpuSeconds();
  for (;;) {
    records = 0;
    for (let i = 0; i < batch; i++) records = parseToRecords(unit, text).length;
    runs += batch;
    batch *= 2;
    elapsed = cpuSeconds() - start;
    if (elapsed * 1000 >= MIN_MS && runs >= 3) break;
  }
  return { id: c.id, seconds_per_run: elapsed / runs, records, bytes: Buffer.byteLength(text, 'utf8') };
}

/** Two rounds over the corpus, Python and Opsdeck alternating per case; the best time of each. */
async function runBoth(peer: PythonPeer, cases: BenchCase[]): Promise<{ ref: Timing[]; ours: Timing[] }> {
  const ref: Timing[] = [];
  const ours: Timing[] = [];
  const best = (a: Timing | undefined, b: Timing): Timing => (a && a.seconds_per_run < b.seconds_per_run ? a : b);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i] as BenchCase;
      ref[i] = best(ref[i], await peer.time(c));
      ours[i] = best(ours[i], measureOurs(c));
    }
  }
  return { ref, ours };
}

/** Time until the service stops a catastrophically backtracking parse (worker pool, 1 s budget). */
async function catastrophicStop(): Promise<string> {
  const store = createMemoryCustomTemplateStore([{ name: 'evil.textfsm', content: 'Value A ((a+)+b)\n\nStart\n  ^${A} -> Record\n' }]);
  const service = createParsersService({ libraryDirs: [], customTemplates: store, workers: 1, timeoutMs: 1000 });
  try {
    await service.parse(SYSTEM_ACTOR, { template: 'evil.textfsm', output: 'warm\n' });
    const started = performance.now();
    const outcome = await service.parse(SYSTEM_ACTOR, { template: 'evil.textfsm', output: `${'a'.repeat(40)}c\n` }).then(
      () => 'finished',
      (err: { code?: string }) => err.code ?? 'failed',
    );
    return `${outcome} after ${(performance.now() - started).toFixed(0)} ms`;
  } finally {
    await service.close();
  }
}

function compileTimes(files: string[]): { coldMeanMs: number; warmMeanMs: number; warmMaxMs: number; warmMaxFile: string; cachedMs: number } {
  const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
  const pass = (): number[] => texts.map((t) => {
    const s = cpuSeconds();
    compileTemplate(t);
    return (cpuSeconds() - s) * 1000;
  });
  const cold = pass();
  pass();
  const warm = pass();
  const maxIdx = warm.indexOf(Math.max(...warm));
  const cache = createTemplateCache(4096);
  texts.forEach((t) => cache.get(t));
  const s = process.hrtime.bigint();
  texts.forEach((t) => cache.get(t));
  const cachedMs = Number(process.hrtime.bigint() - s) / 1e6 / texts.length;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { coldMeanMs: mean(cold), warmMeanMs: mean(warm), warmMaxMs: warm[maxIdx] ?? 0, warmMaxFile: path.basename(files[maxIdx] ?? ''), cachedMs };
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

async function main(): Promise<void> {
  const python = findPython();
  if (python === null) {
    console.error('python3-textfsm not found: apt-get install -y python3-textfsm (or set OPSDECK_BENCH_PYTHON)');
    process.exit(1);
  }
  const cases = collectCases();
  console.log(`parsers bench: ${cases.length} (case, template) pairs from ntc-templates, min ${MIN_MS} ms per pair and side`);
  const peer = await startPython(python);
  const { ref: refCases, ours } = await runBoth(peer, cases);
  const ref = { version: peer.version, cases: refCases, compile: await peer.compileTimes() };
  peer.close();
  const refById = new Map(ref.cases.map((t) => [t.id, t]));

  let bytes = 0, records = 0, tRef = 0, tOurs = 0;
  const perTemplate = new Map<string, { ref: number; ours: number; cases: number }>();
  for (const o of ours) {
    const r = refById.get(o.id);
    if (!r) continue;
    if (r.records !== o.records) console.warn(`record count differs on ${o.id}: python ${r.records}, ours ${o.records}`);
    bytes += o.bytes;
    records += o.records;
    tRef += r.seconds_per_run;
    tOurs += o.seconds_per_run;
    const name = path.basename(o.id.split('#')[1] ?? '');
    const agg = perTemplate.get(name) ?? { ref: 0, ours: 0, cases: 0 };
    agg.ref += r.seconds_per_run;
    agg.ours += o.seconds_per_run;
    agg.cases++;
    perTemplate.set(name, agg);
  }
  console.log(`\n                 records/s     bytes/s`);
  console.log(`python textfsm  ${fmt(records / tRef).padStart(9)}  ${fmt(bytes / tRef).padStart(10)}   (${ref.version})`);
  console.log(`opsdeck         ${fmt(records / tOurs).padStart(9)}  ${fmt(bytes / tOurs).padStart(10)}`);
  console.log(`\noverall: opsdeck is ${(tRef / tOurs).toFixed(2)}x faster than python3-textfsm over the corpus`);

  const ratios = [...perTemplate].map(([name, a]) => ({ name, ratio: a.ref / a.ours, cases: a.cases })).sort((a, b) => a.ratio - b.ratio);
  const under = ratios.filter((r) => r.ratio < TARGET);
  const median = ratios[Math.floor(ratios.length / 2)]?.ratio ?? 0;
  console.log(`per template (${ratios.length}): worst ${ratios[0]?.ratio.toFixed(2)}x (${ratios[0]?.name}), median ${median.toFixed(2)}x, best ${ratios.at(-1)?.ratio.toFixed(2)}x`);
  if (under.length === 0) console.log(`every template is at least ${TARGET}x faster`);
  else {
    console.log(`templates under ${TARGET}x (${under.length}):`);
    for (const u of under) console.log(`  ${u.ratio.toFixed(2)}x  ${u.name} (${u.cases} cases)`);
  }

  const files = [...new Set(cases.map((c) => c.template))];
  const c = compileTimes(files);
  const refCompile = Object.values(ref.compile);
  const refMean = (refCompile.reduce((a, b) => a + b, 0) / refCompile.length) * 1000;
  console.log(`\ntemplate compile (${files.length} templates): cold mean ${c.coldMeanMs.toFixed(3)} ms, warm mean ${c.warmMeanMs.toFixed(3)} ms, warm max ${c.warmMaxMs.toFixed(3)} ms (${c.warmMaxFile}); cached lookup ${(c.cachedMs * 1000).toFixed(2)} µs; python first compile mean ${refMean.toFixed(3)} ms`);
}

await main();
console.log(`\ncatastrophic backtracking ((a+)+b on 40 a's) through the parse service: ${await catastrophicStop()}`);
