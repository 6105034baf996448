import { describe, expect, it } from 'vitest';
import { createJinja, PRODUCT_OPTIONS, TemplateError } from './index.js';

/**
 * Known sandbox-escape payloads (Jinja2 SSTI, Nunjucks constructor chains, prototype pollution) and
 * resource exhaustion. Each must end in a TemplateError or in output that carries nothing of the
 * host: no function source, no process data, no polluted prototype.
 */
const jinja = createJinja({ ...PRODUCT_OPTIONS, limits: { timeoutMs: 300, maxOutputChars: 100_000, maxDepth: 32, maxRange: 10_000 } });
const lenient = createJinja({ ...PRODUCT_OPTIONS, undefined: 'ChainableUndefined' });

const PAYLOADS = [
  "{{ range.constructor('return process')() }}",
  "{{ range.constructor.constructor('return process.pid')() }}",
  "{{ ''.constructor.constructor('return globalThis')() }}",
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  "{{ ''.__class__.__mro__ }}",
  '{{ cycler.__init__.__globals__.os.popen("id").read() }}',
  '{{ joiner.__init__.__globals__ }}',
  '{{ namespace.__init__.__globals__ }}',
  '{{ self._TemplateReference__context }}',
  '{{ self.__init__.__globals__ }}',
  '{{ lipsum.__globals__["os"] }}',
  '{{ x.__proto__ }}',
  "{{ x['__proto__'] }}",
  '{{ x.constructor }}',
  "{{ x['constructor']['constructor']('return 1')() }}",
  '{{ [].constructor }}',
  '{{ [].map.constructor }}',
  '{{ x.toString() }}',
  '{{ x.hasOwnProperty("a") }}',
  '{{ x.valueOf }}',
  '{{ loop.__proto__ }}',
  '{% for i in [1] %}{{ loop.constructor }}{% endfor %}',
  '{{ "a".split.constructor }}',
  "{{ ''.split.__globals__ }}",
  '{{ x.items.__self__ }}',
  '{{ dict.__call__ }}',
  "{{ ''|attr('constructor') }}",
  "{{ x|attr('__proto__') }}",
  '{% set ns = namespace() %}{% set ns.__proto__ = 1 %}{{ ns.__proto__ }}',
  '{{ caller.constructor }}',
  "{% macro m() %}{% endmacro %}{{ m.constructor('return process')() }}",
  '{{ m.__globals__ }}',
  '{{ (1).__class__ }}',
  '{{ require }}',
  '{{ process }}',
  '{{ globalThis }}',
  "{{ import('fs') }}",
  "{% include '/etc/passwd' %}",
  "{% include '../../../../etc/passwd' %}",
  "{% import 'file:///etc/passwd' as p %}",
  "{% extends 'http://127.0.0.1/x' %}",
];

function attempt(engine: typeof jinja, src: string): { output: string | null; error: TemplateError | null } {
  try {
    return { output: engine.render(src, { x: { a: 1 } }), error: null };
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err; // a raw JS error would mean the engine reached host code
    return { output: null, error: err };
  }
}

describe('escape payloads', () => {
  for (const p of PAYLOADS) {
    it(p, () => {
      for (const engine of [jinja, lenient]) {
        const { output } = attempt(engine, p);
        if (output !== null) expect(output).not.toMatch(/native code|function|process|\[object|=>|root:|Object|pid|^\d{2,}$/);
      }
    });
  }

  it('dict updates cannot pollute JavaScript prototypes', () => {
    const src =
      "{% set d = {} %}{% set _ = d.update({'__proto__': {'polluted': 'yes'}}) %}{% set _ = x.update({'__proto__': {'polluted': 'yes'}}) %}{{ d.polluted }}|{{ d.__proto__.polluted }}";
    const out = lenient.render(src, { x: {} });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(out).toBe('|yes');
  });

  it('includes resolve only through the loader', () => {
    const seen: string[] = [];
    expect(() => jinja.render("{% include 'a' %}", {}, (n) => (seen.push(n), null))).toThrow(TemplateError);
    expect(seen).toEqual(['a']);
  });
});

describe('resource limits', () => {
  const limit = (src: string) => {
    const { error } = attempt(jinja, src);
    expect(error?.kind).toBe('limit');
  };
  it('range(10**9) is refused', () => limit('{{ range(10**9)|length }}'));
  it('string and list repetition are capped', () => {
    limit("{{ 'x' * 10**9 }}");
    limit('{{ [1] * 10**9 }}');
  });
  it('deep macro recursion is stopped', () => limit('{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}'));
  it('a recursive loop without end is stopped', () => limit('{% for x in [[1]] recursive %}{{ loop([x]) }}{% endfor %}'));
  it('huge output is stopped', () => limit('{% for i in range(10000) %}{% for j in range(10000) %}xxxxxxxxxxxxxxxx{% endfor %}{% endfor %}'));
  it('a loop that would run for hours is stopped by the time budget', () =>
    limit('{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000) %}{% endfor %}{% endfor %}{% endfor %}'));
  it('a list that grows while it is iterated is stopped', () => limit('{% set l = [1] %}{% for x in l %}{% set _ = l.append(x) %}{% endfor %}'));
  it('huge padding filters are capped', () => limit("{{ 'a'|center(10**9) }}"));
  it('absurd nesting is a syntax error, not a crash', () => {
    expect(() => jinja.parse(`{{ ${'('.repeat(200_000)}1${')'.repeat(200_000)} }}`)).toThrow(TemplateError);
  });
});
