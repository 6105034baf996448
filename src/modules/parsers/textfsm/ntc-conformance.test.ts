import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { findIndexRow, parseIndex } from './clitable.fns.js';
import { parseToRecords } from './ntc-records.fns.js';
import { createTemplateCache } from './template-cache.js';

/**
 * Conformance on the ntc-templates corpus, run the way ntc-templates' own tests run it
 * (README of the data folder): platform and command from the test path, index lookup, every
 * template of the row, clitable merge and str() conversion, then compare with parsed_sample.
 * Every .raw under tests/ is a case (not just those in MANIFEST.json).
 */
const ROOT = fileURLToPath(new URL('../../../../../shared/data/ntc-templates/', import.meta.url));
const index = parseIndex(readFileSync(path.join(ROOT, 'templates/index'), 'utf8'));
const cache = createTemplateCache(4096);

interface Case {
  id: string;
  platform: string;
  command: string;
  raw: string;
  yml: string;
}

function collect(): Case[] {
  const out: Case[] = [];
  const testsDir = path.join(ROOT, 'tests');
  for (const platform of readdirSync(testsDir).sort()) {
    for (const commandDir of readdirSync(path.join(testsDir, platform)).sort()) {
      const dir = path.join(testsDir, platform, commandDir);
      for (const f of readdirSync(dir).sort()) {
        if (!f.endsWith('.raw')) continue;
        const base = f.slice(0, -4);
        out.push({
          id: `${platform}/${commandDir}/${base}`,
          platform,
          command: commandDir.replaceAll('_', ' '),
          raw: path.join(dir, f),
          yml: path.join(dir, `${base}.yml`),
        });
      }
    }
  }
  return out;
}

const cases = collect();
let passed = 0;

describe('ntc-templates conformance', () => {
  afterAll(() => {
    console.log(`ntc-templates conformance: ${passed}/${cases.length} cases pass`);
  });

  it('finds the public corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(1275);
  });

  for (const c of cases) {
    it(c.id, () => {
      const row = findIndexRow(index, { Platform: c.platform, Command: c.command });
      expect(row, 'index row').not.toBeNull();
      const templates = (row?.templates ?? []).map((name) => ({
        name,
        template: cache.get(readFileSync(path.join(ROOT, 'templates', name), 'utf8')),
      }));
      const records = parseToRecords(templates, readFileSync(c.raw, 'utf8'));
      const expected = (parseYaml(readFileSync(c.yml, 'utf8')) as { parsed_sample?: unknown[] } | null)?.parsed_sample ?? [];
      expect(records).toEqual(expected);
      passed++;
    });
  }

  it('emits a valid JavaScript regex in both dialects for every rule of every template', async () => {
    const { compileTemplate } = await import('./textfsm-template.fns.js');
    const dir = path.join(ROOT, 'templates');
    let rules = 0;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.textfsm'))) {
      const t = compileTemplate(readFileSync(path.join(dir, f), 'utf8'));
      for (const v of t.values) expect(v.compiled.unicode).toBeInstanceOf(RegExp);
      for (const state of t.states.values()) {
        for (const rule of state) {
          expect(rule.compiled.ascii.flags).toBe('');
          expect(rule.compiled.unicode.flags).toBe('v');
          rules++;
        }
      }
    }
    expect(rules).toBeGreaterThan(15000);
  });
});
