import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = path.join(import.meta.dirname, '..', 'scripts', 'check-module-cycles.mjs');
const root = mkdtempSync(path.join(tmpdir(), 'opsdeck-cycles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `files` (path → source) under a fresh modules folder and runs the check on it. */
async function check(name: string, files: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const dir = path.join(root, name);
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  try {
    await run(process.execPath, [SCRIPT, dir]);
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('module cycle check (npm run lint)', () => {
  it('passes on the source tree', async () => {
    await expect(run(process.execPath, [SCRIPT])).resolves.toMatchObject({ stderr: '' });
  });

  it('fails on a cycle through a type-only import and a re-export, naming each edge', async () => {
    const out = await check('cycle', {
      'a/index.ts': "export { x } from './x.js';\n",
      'a/x.ts': "import type { Y } from '../b/index.js';\nexport const x = 1 as unknown as Y;\n",
      'b/index.ts': "export type Y = number;\nexport { c } from '../c/index.js';\n",
      'c/index.ts': "export const c = async () => (await import('../a/index.js')).x;\n",
    });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('module cycle: a, b, c');
    expect(out.stderr).toContain('a → b: ');
    expect(out.stderr).toContain('c → a: ');
  });

  it('ignores test files and one-way dependencies', async () => {
    const out = await check('acyclic', {
      'a/index.ts': "import { b } from '../b/index.js';\nexport const a = b;\n",
      'b/index.ts': 'export const b = 1;\n',
      'b/b.test.ts': "import { a } from '../a/index.js';\nvoid a;\n",
    });
    expect(out).toEqual({ code: 0, stderr: '' });
  });
});
