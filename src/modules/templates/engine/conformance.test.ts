import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createJinja, TemplateError, type UndefinedMode } from './index.js';

/** Every public case of ../shared/data/jinja2-conformance renders byte for byte like Jinja2 3.1.2. */
const ROOT = fileURLToPath(new URL('../../../../../shared/data/jinja2-conformance/', import.meta.url));

interface Case {
  name: string;
  vars: string;
  env: { trim_blocks?: boolean; lstrip_blocks?: boolean; keep_trailing_newline?: boolean; undefined?: UndefinedMode; autoescape?: boolean };
  expect: 'output' | 'error';
  error?: { kind: string; lineno: number; template: string };
}

export function loadCase(c: Case) {
  const dir = join(ROOT, 'cases', c.name);
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/^(expected|settings|vars)/.test(f)) files.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  const raw = readFileSync(join(dir, c.vars), 'utf8');
  const vars = (c.vars.endsWith('.json') ? JSON.parse(raw) : parseYaml(raw)) as Record<string, unknown>;
  const jinja = createJinja({
    trimBlocks: c.env.trim_blocks ?? false,
    lstripBlocks: c.env.lstrip_blocks ?? false,
    keepTrailingNewline: c.env.keep_trailing_newline ?? false,
    undefined: c.env.undefined ?? 'Undefined',
    autoescape: c.env.autoescape ?? false,
  });
  const render = () => jinja.render(files.get('template.j2') as string, vars, (n) => files.get(n) ?? null, 'template.j2');
  return { dir, render };
}

export const manifest = JSON.parse(readFileSync(join(ROOT, 'MANIFEST.json'), 'utf8')) as { cases: Case[] };

describe('Jinja2 conformance (public cases)', () => {
  for (const c of manifest.cases) {
    it(c.name, () => {
      const { dir, render } = loadCase(c);
      if (c.expect === 'output') {
        expect(render()).toBe(readFileSync(join(dir, 'expected.txt'), 'utf8'));
        return;
      }
      let caught: unknown = null;
      try {
        render();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TemplateError);
      const e = caught as TemplateError;
      const want = c.error as NonNullable<Case['error']>;
      expect({ kind: e.kind, lineno: e.lineno, template: e.template ?? 'template.j2' }).toEqual({
        kind: want.kind,
        lineno: want.lineno,
        template: want.template,
      });
    });
  }
});
