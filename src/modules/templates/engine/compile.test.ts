import { describe, expect, it } from 'vitest';
import { createJinja, PRODUCT_OPTIONS, TemplateError } from './index.js';

/**
 * The compiled form (compile.ts) is reused across renders, and literal-only expressions are
 * computed once: what a render does must not leak into the next one, and errors must still
 * surface at every render.
 */
const jinja = createJinja({ ...PRODUCT_OPTIONS });
const lenient = createJinja({ ...PRODUCT_OPTIONS, undefined: 'Undefined', trimBlocks: false, lstripBlocks: false, keepTrailingNewline: false });

function renderTwice(source: string, vars: Record<string, unknown> = {}): [string, string] {
  return [jinja.render(source, vars), jinja.render(source, vars)];
}

function failure(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('the render did not fail');
}

describe('compiled templates', () => {
  it('renders a folded literal expression the same every time', () => {
    const source = "{{ '%-6s|%04d' | format('gi0', 7) }} {{ 2 ** 10 - 24 }} {{ 'a' ~ 1 ~ none }} {{ 'x' if 1 < 2 else 'y' }}";
    expect(renderTwice(source)).toEqual(['gi0   |0007 1000 a1None x', 'gi0   |0007 1000 a1None x']);
  });

  it('builds a new list from a literal at every render, so a mutation does not carry over', () => {
    const source = "{% set l = [1, 2] %}{{ l.append(3) or '' }}{{ l | length }}";
    expect(renderTwice(source)).toEqual(['3', '3']);
  });

  it('raises a literal expression that fails at every render, with its line', () => {
    for (let i = 0; i < 2; i++) {
      const err = failure(() => jinja.render('ok\n{{ 1 // 0 }}', {}));
      expect(err.kind).toBe('runtime');
      expect(err.lineno).toBe(2);
    }
  });

  it('never folds random', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(jinja.render('{{ [1, 2, 3, 4, 5, 6, 7, 8] | random }}', {}));
    expect(seen.size).toBeGreaterThan(1);
  });

  it('keeps escaping a folded value under autoescape', () => {
    const source = "{% autoescape true %}{{ '<b>' ~ 1 }}{% endautoescape %}|{{ '<b>' ~ 1 }}";
    expect(renderTwice(source)).toEqual(['&lt;b&gt;1|<b>1', '&lt;b&gt;1|<b>1']);
  });

  it('reads variables per render, not from the previous one', () => {
    const source = '{% for i in items %}{{ loop.index }}:{{ i.name[:2] }}{{ i.name[-1] }} {% endfor %}{{ x }}';
    expect(jinja.render(source, { items: [{ name: 'abc' }], x: 1 })).toBe('1:abc 1');
    expect(jinja.render(source, { items: [{ name: 'xyz' }, { name: 'pq' }], x: 2 })).toBe('1:xyz 2:pqq 2');
  });

  it('indexes and slices strings by code point, astral characters included', () => {
    expect(jinja.render('{{ s[1] }}|{{ s[1:3] }}|{{ s[-1] }}|{{ s[::-1] }}|{{ t[1:3] }}|{{ t[0] }}', { s: 'a😀bc', t: 'wxyz' })).toBe('😀|😀b|c|cb😀a|xy|w');
  });

  it('prefers a dict method over a key of the same name, as Jinja2 does, and reads other keys', () => {
    expect(jinja.render('{{ d.items() | list }} {{ d.name }}', { d: { items: 1, name: 'r1' } })).toBe("[('items', 1), ('name', 'r1')] r1");
  });

  it('binds macro arguments by position and keyword, leaving the rest in kwargs', () => {
    const source = '{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1) }} {{ m(1, 3, 4) }} {{ m(a=5, c=6) }} {{ m(1, a=7) }}';
    expect(lenient.render(source, {})).toBe("1-2-()-{} 1-3-(4,)-{} 5-2-()-{'c': 6} 1-2-()-{'a': 7}");
  });

  it('keeps globals shared but not writable: a template-level set shadows a global for that render only', () => {
    expect(jinja.render('{% set range = 5 %}{{ range }}', {})).toBe('5');
    expect(jinja.render('{{ range(3) | list }}', {})).toBe('[0, 1, 2]');
  });
});
