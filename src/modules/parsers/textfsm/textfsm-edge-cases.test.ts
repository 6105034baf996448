import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pyStrListItem } from './py-text.fns.js';
import { runTemplate } from './textfsm-engine.fns.js';
import { compileTemplate } from './textfsm-template.fns.js';
import { TemplateError, TextFsmError } from './textfsm.errors.js';

/**
 * Every edge case of SEMANTICS.md §11 (edge_cases.json), observed on the reference TextFSM.
 * Where upstream 2.1.0 differs from Debian 1.1.0 (Value regex checks, §9) we follow 2.1.0, as
 * SEMANTICS.md recommends and ntc-templates pins. One case crashes the reference with a Python
 * TypeError; we fail that parse with a TextFsmError instead.
 */
interface Outcome {
  header?: string[];
  rows?: unknown[][];
  ntc_rows?: unknown[][];
  error?: string;
  message?: string;
}
interface EdgeCase {
  id: string;
  note: string;
  template: string;
  input: string;
  debian_1_1_0: Outcome;
  upstream_2_1_0?: Outcome;
}

const file = new URL('../../../../../shared/data/textfsm-google/edge_cases.json', import.meta.url);
const cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: EdgeCase[] }).cases;

function run(c: EdgeCase) {
  const template = compileTemplate(c.template);
  return runTemplate(template, c.input);
}

describe('TextFSM edge cases (SEMANTICS.md §11)', () => {
  it('covers all 105 documented cases', () => {
    expect(cases).toHaveLength(105);
  });

  for (const c of cases) {
    const expected = c.upstream_2_1_0 ?? c.debian_1_1_0;
    it(`${c.id}: ${c.note}`, () => {
      if (expected.error === 'TypeError') {
        expect(() => run(c)).toThrow(TextFsmError);
        return;
      }
      if (expected.error !== undefined) {
        const Cls = expected.error === 'TextFSMTemplateError' ? TemplateError : TextFsmError;
        expect(() => run(c)).toThrow(Cls);
        expect(() => run(c)).toThrow(expected.message);
        try {
          run(c);
        } catch (err) {
          expect((err as Error).message).toBe(expected.message);
        }
        return;
      }
      const table = run(c);
      expect(table.header).toEqual(expected.header);
      expect(table.rows).toEqual(expected.rows);
      if (expected.ntc_rows) {
        const ntc = table.rows.map((row) => row.map((cell) => (typeof cell === 'string' ? cell : cell.map(pyStrListItem))));
        expect(ntc).toEqual(expected.ntc_rows);
      }
    });
  }

  it('reports template errors with their line number and a stable code', () => {
    const err = (() => {
      try {
        compileTemplate('Value A (\\S+)\n\nStart\n  ^${A}[ -> Record\n');
      } catch (e) {
        return e as TemplateError;
      }
      throw new Error('expected a TemplateError');
    })();
    expect(err.line).toBe(4);
    expect(err.code).toBe('PARSER_TEMPLATE_INVALID');
    expect(err.status).toBe(422);
    expect(err.detail).toBe('unterminated character set at position 11');
  });

  it('rejects constructs JavaScript cannot express with PARSER_TEMPLATE_UNSUPPORTED', () => {
    expect(() => compileTemplate('Value A (\\S+)\n\nStart\n  ^(a)?(?(1)b|c)${A} -> Record\n')).toThrow(
      expect.objectContaining({ code: 'PARSER_TEMPLATE_UNSUPPORTED', line: 4 }),
    );
  });
});
