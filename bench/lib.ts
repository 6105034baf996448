/**
 * Benchmark helpers: start a real Opsdeck process on loopback, drive it with autocannon for a
 * bounded time, print requests/s and latency percentiles. Figures are compared as ratios in
 * one run; absolute numbers on shared machines are noise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchServer {
  url: string;
  child: ChildProcess;
  dataDir: string;
  stop(): Promise<number | null>;
}

/** Starts `opsdeck serve` from the TypeScript sources on a free port; resolves when it listens. */
export async function startServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const dataDir = env.OPSDECK_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPSDECK_')));
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'],
    {
      cwd: ROOT,
      // One bench client is one principal making thousands of calls a minute: lift the per-principal limit (its hook still runs).
      env: { ...clean, OPSDECK_PORT: '0', OPSDECK_DATA_DIR: dataDir, OPSDECK_LOG_LEVEL: 'info', OPSDECK_RATE_LIMIT_PER_MINUTE: '10000000', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m?.[1] && !m[1].endsWith(':0')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    url,
    child,
    dataDir,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

export interface LoadResult {
  name: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Drives one endpoint for `seconds` with `connections` concurrent connections. */
export async function load(
  name: string,
  options: { url: string; method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; connections?: number; seconds?: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body ? { body: options.body } : {}),
    connections: options.connections ?? 10,
    duration: options.seconds ?? 5,
  });
  return {
    name,
    requestsPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export function printResults(title: string, results: LoadResult[]): void {
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(
    `${'endpoint'.padEnd(40)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'non2xx'.padStart(7)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(40)} ${String(r.requestsPerSec).padStart(9)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)} ${String(r.non2xx).padStart(7)}\n`,
    );
  }
}

export function ratio(a: number, b: number): string {
  return b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
}
