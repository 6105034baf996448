import { describe, expect, it } from 'vitest';
import { hasCount } from './py-regex-precheck.fns.js';
import { compilePyRegex } from './py-regex.fns.js';

/** Necessary-condition pre-checks (py-regex-precheck.fns.ts): never reject a line the pattern matches. */
describe('regex pre-checks', () => {
  it.each([
    ['^\\s*(?P<i>.+?)\\s+(?P<a>\\d+\\.\\d+\\.\\d+\\.\\d+)\\s+\\S+', { char: '.', count: 3 }],
    ['^\\s{6,}(?:[^,]+,){5}(?P<i>[^,]+),*', { char: ',', count: 5 }],
    // Starts with a literal: the RegExp rejects most lines at once, no count needed.
    ['^Vlan\\s+(?P<a>\\S+)\\.(?P<b>\\S+)\\.', null],
    // Needed once only, or not at all (optional, or inside an alternation branch).
    ['^\\s*(?P<a>\\S+)\\s+x\\s+(?P<b>\\S+)', null],
    ['^\\s*(?P<a>\\S+)(?:\\.\\.)?\\s+(?P<b>\\S+)', null],
    ['^\\s*(?P<a>\\S+)\\s+(?:\\.\\.|--)\\s+(?P<b>\\S+)', null],
    // Case-insensitive letters can be either case.
    ['^\\s*(?P<a>\\S+)\\s+(?i:aa)\\s+(?P<b>\\S+)', null],
  ])('requires of %s: %j', (pattern, count) => {
    expect(compilePyRegex(pattern).checks.charCount).toEqual(count);
  });

  it.each([
    [
      '^(?P<a>\\S+)\\s+(?P<l>.+?)\\s+(?P<p>.+?)\\s+(?P<c>\\S+)\\s+(?P<n>\\d+)\\s*$',
      '(?:[\\u0009-\\u000D\\u001C-\\u0020]([^\\u0009-\\u000D\\u001C-\\u0020]+)[\\u0009-\\u000D\\u001C-\\u0020]+(\\d+)[\\u0009-\\u000D\\u001C-\\u0020]*)$',
    ],
    // One `.`-repeat: V8 fails such a line in linear time anyway.
    ['^(?P<a>\\S+)\\s+(?P<l>.+?)\\s+(?P<n>\\d+)\\s*$', null],
    // Not anchored at the end: the tail anywhere in the line, once something backtracks before it.
    // A leading `X+` is searched for as `X` (the same lines have a match), `X*` not at all.
    ['^(?P<l>.+?)\\s+(?P<p>.+?)\\s+(?P<n>\\d+)', '[\\u0009-\\u000D\\u001C-\\u0020](\\d+)'],
    [
      '^\\s*(?P<v>.+?)\\s+\\|\\s+(?P<c>\\S+)(?=\\s+(Up|Down))',
      '[\\u0009-\\u000D\\u001C-\\u0020]\\|[\\u0009-\\u000D\\u001C-\\u0020]+([^\\u0009-\\u000D\\u001C-\\u0020]+)(?=[\\u0009-\\u000D\\u001C-\\u0020]+(Up|Down))',
    ],
    ['^(?P<l>.+?)\\s+(?P<n>\\d+)', null],
    ['^\\s+(?P<n>\\d+).*\\((?P<t>.+?)\\s*\\S{2,4}\\)', '[^\\u0009-\\u000D\\u001C-\\u0020]{2}\\)'],
    // Nothing after the last `.`-repeat but optional space.
    ['^(?P<l>.+?)\\s+(?P<p>.+?)\\s*$', null],
    // The tail must not reach back across a `.`-repeat or hold a backreference.
    ['^(?P<l>.+?)\\s+(?P<p>.+)(?P=l)$', null],
  ])('checks the tail of %s first: %s', (pattern, tail) => {
    expect(compilePyRegex(pattern).checks.tail?.source ?? null).toBe(tail);
  });

  it('counts characters up to what is needed', () => {
    expect(hasCount('a.b.c', { char: '.', count: 2 })).toBe(true);
    expect(hasCount('a.b.c', { char: '.', count: 3 })).toBe(false);
    expect(hasCount('', { char: ',', count: 1 })).toBe(false);
  });

  // Equivalence: whenever the full pattern matches, the checks pass; they only decide faster
  // that a line cannot match.
  it.each([
    [
      '^\\s*(?P<i>.+?)\\s+(?P<a>\\d+\\.\\d+\\.\\d+\\.\\d+)\\s+\\S+\\s+\\S+\\s+(?P<s>\\S+)',
      [
        'Fo0/0/1/0           10.100.100.141  45ms(15ms*3)     6s(2s*3)         UP',
        '                                                             No    n/a            ',
        '1.2.3 4.5.6.7 a b c',
        'a 1.2.3.4 b c',
        '...',
        'x 1.2.3.4 b c d',
      ],
    ],
    [
      '^\\s*(?P<v>.+?)\\s+\\|\\s+(?P<c>\\S+)\\s+(?P<i>\\S+)',
      ['  MGMTVLAN   | Manual  10.1.1.1', '       |        Proxy ARP ', '  a | b c d', ' | |  x y', 'a|b c'],
    ],
    [
      '^\\s+(?P<n>\\d+).*\\((?P<t>.+?)\\s+\\S+\\)',
      ['   0    N/A   6.7 mA   0.6 mW (-2.19 dBm)   0.5 mW (-2.33 dBm)', '   Lane    Temp    Tx Power   Rx Power', ' 1 (a b) c', ' 1 (a) ', ' 1 ( b)'],
    ],
    ['^\\s{6,}(?:[^,]+,){2}(?P<i>[^,]+),*', ['       a,b,c', '       a,b', '      ,,,', '        a,b,c,d,e,f', ' a,b,c']],
    [
      '^(?P<a>\\S+)\\s+(?P<l>.+?)\\s+(?P<p>.+?)\\s+(?P<c>\\S+)\\s+(?P<n>\\d+)\\s*$',
      ['AP1   2  default location  port1  NL  3', 'AP1 2 x y NL Registered', 'a b c d 1 ', 'a b c d e', 'a  b  c  d  12  ', 'a b c 1'],
    ],
  ])('never rejects a line %s matches', (pattern, lines) => {
    const re = compilePyRegex(pattern);
    for (const line of lines) {
      const passes = (re.checks.charCount === null || hasCount(line, re.checks.charCount)) && (re.checks.tail === null || re.checks.tail.test(line));
      if (re.ascii.test(line)) expect(passes, line).toBe(true);
    }
    // Each pattern's list holds at least one line the checks reject.
    expect(
      lines.some((line) => !((re.checks.charCount === null || hasCount(line, re.checks.charCount)) && (re.checks.tail === null || re.checks.tail.test(line)))),
    ).toBe(true);
  });
});
