import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './process.js';

const PRELUDE = path.join(ROOT, 'test/helpers/doc-prelude.sh');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface BlockResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a block needs besides its own: OPSDECK_* variables of the caller are dropped. */
export function blockEnv(base: string, extra: Record<string, string>): Record<string, string> {
  const inherited = Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith('OPSDECK_') && e[1] !== undefined);
  return { ...Object.fromEntries(inherited), DOCTEST_BASE: base, DOCTEST_ROOT: ROOT, DOCTEST_TSX: TSX, ...extra };
}

/**
 * Runs one `sh` block with bash after test/helpers/doc-prelude.sh (errexit, curl against `base`,
 * `opsdeck` from the sources). The block's process group is killed after `timeoutMs`.
 */
export function runDocBlock(script: string, options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<BlockResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `source ${JSON.stringify(PRELUDE)}\n${script}`], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[harness] killed after ${options.timeoutMs} ms`;
      process.kill(-child.pid!, 'SIGKILL');
    }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
