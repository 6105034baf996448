/* eslint-disable no-control-regex -- Python's whitespace and line-break sets include control characters. */
import { describe, expect, it } from 'vitest';
import { compilePyRegex, PyRegexError } from './py-regex.fns.js';

/** Python `re` → JavaScript translation (SEMANTICS.md §10): match(), and what Python rejects. */
function match(pattern: string, subject: string): (string | undefined)[] | null {
  const re = compilePyRegex(pattern);
  let m: ArrayLike<string | undefined> | null = (/^[\x00-\x7f]*$/.test(subject) ? re.ascii : re.unicode).exec(subject);
  // As the engine does: Python's captures when a group inside a repeat came back unset.
  if (m && Array.from(re.repeatedGroups).some((g) => m?.[g] === undefined)) m = re.pythonMatch(subject);
  return m ? re.namedGroups.map((g) => m?.[g.jsIndex]) : null;
}

describe('compilePyRegex', () => {
  it.each([
    // [pattern, subject, named groups or null for no match]
    ['(?P<a>\\d+)', 'v12', null],
    ['^done|end', 'the end', null],
    ['^done|end', 'end of it', []],
    ['x{,3}y', 'xxy', []],
    ['^{master:(?P<n>\\d+)}', '{master:7}', ['7']],
    ['[]a]+(?P<r>.)', ']a]b', ['b']],
    ['(?P<a>x)(?P=a)', 'xx', ['x']],
    ['v(?P<n>\\d+)\\Z', 'v1 ', null],
    ['\\Av(?P<n>\\d+)\\Z', 'v1', ['1']],
    ['(?i:name) (?P<v>\\S+)', 'NAME x', ['x']],
    ['(?i)name', 'NaMe', []],
    ['a*+a', 'aaa', null],
    ['(?>a+)b', 'aab', []],
    ['(?P<d>\\d+)', 'n١٢', null],
    ['n(?P<d>\\d+)', 'n١٢', ['١٢']],
    ['(?P<w>\\w+)', '日本語 x', ['日本語']],
    ['a\\sb', 'a\u001fb', []],
    ['a\\sb', 'a\ufeffb', null],
    ['(?P<t>\\S.*(?<!\\s))\\s*$', 'hello world   ', ['hello world']],
    ['(?=(?P<n>\\S+))\\S+\\s+x', '10/8  x', ['10/8']],
    ['(?x) a  b  # comment', 'ab', []],
    ['(?P<c>[\\w-]+)', 'ab-c_d e', ['ab-c_d']],
    ['\\bfoo\\b', 'foo.', []],
    ['(?P<c>(?P<x>\\w+)?\\s)+z', 'BR  z', [' ', 'BR']],
    ['(?s:.)', '\u0085', []],
  ])('%s on %j', (pattern, subject, groups) => {
    expect(match(pattern as string, subject as string)).toEqual(groups);
  });

  it('keeps Python capture semantics inside repeated groups via pythonMatch', () => {
    const re = compilePyRegex('(?:(?P<c>\\w+)?\\s)+z');
    expect(re.repeatedGroups.length).toBe(1);
    const c = re.namedGroups[0]?.jsIndex ?? -1;
    const js = re.ascii.exec('BR  z');
    expect(js?.[c]).toBeUndefined();
    expect(re.pythonMatch('BR  z')?.[c]).toBe('BR');
    expect(re.pythonMatch('BR  z', js)?.[c]).toBe('BR');
  });

  // The last-run fast path (from the native match) must agree with the backtracking matcher.
  it.each([
    ['^\\s+(\\S+)\\s+\\d+\\s+((?P<c>\\w+)?\\s)+\\s+(?P<n>\\S+)', '   Eth1/1   120   B R   T  Eth1/2  '],
    ['^\\s+(\\S+)\\s+\\d+\\s+((?P<c>\\w+)?\\s)+\\s+(?P<n>\\S+)', '   Eth1/1   120      Eth1/2'],
    ['((?P<c>[a-z]+)?[ ,]+)+(?P<n>\\d+)', 'ab, cd  ,  12'],
    ['((?P<c>[a-z]+)?[ ,]+)+(?P<n>\\d+)', ' ,  12'],
    ['(?:x|((?P<c>\\w+)?\\s)+)y', 'xy'],
    ['((?P<c>\\w+)?\\w)+;', 'abc ;'],
  ])('fixes up %s on %j exactly like the backtracking matcher', (pattern, subject) => {
    const re = compilePyRegex(pattern);
    const native = re.ascii.exec(subject);
    const slow = re.pythonMatch(subject);
    const fast = re.pythonMatch(subject, native);
    for (const { jsIndex } of re.namedGroups) expect(fast?.[jsIndex]).toBe(slow?.[jsIndex]);
  });

  it.each([
    ['^.+acl-drop\\)\\s+(?P<n>\\d+)', 'acl-drop)'],
    ['^\\s+\\S+\\s+Vlan(?P<n>\\d+)', 'Vlan'],
    ['^Interface\\s+(?P<n>\\S+)', null],
    ['^HTTP\\s+server\\s+port:\\s+(?P<n>\\d+)', null],
    ['^.+(?i:abc)d', null],
    ['^.*(?:ab|cd)', null],
  ])('finds the literal every match of %s contains: %j', (pattern, needle) => {
    expect(compilePyRegex(pattern).checks.needle).toBe(needle);
  });

  it.each([
    ['^[\\w./-]+\\s+(?:\\S+\\s+){3}(?P<v>\\d+)', 9],
    ['a|bc?|(?:de){2,}', 1],
    ['(?=abc)x*(?P<a>y)?\\b$', 0],
    ['\\u00e9{2}', 2],
  ])('knows that no match of %s is shorter than %d characters', (pattern, length) => {
    expect(compilePyRegex(pattern).checks.minLength).toBe(length);
  });

  it.each([
    ['a(?i)x', 'global flags not at the start of the expression at position 1'],
    ['[\\w-a]', 'bad character range \\w-a at position 1'],
    ['x{3,2}', 'min repeat greater than max repeat at position 2'],
    ['a**', 'multiple repeat at position 2'],
    ['(?<=a+)b', 'look-behind requires fixed-width pattern at position 0'],
    ['\\q', 'bad escape \\q at position 0'],
    ['(?P<a>x)(?P<a>y)', "redefinition of group name 'a' as group 2; was group 1 at position 12"],
    ['(a)\\2', 'invalid group reference 2 at position 4'],
    ['[z-a]', 'bad character range z-a at position 1'],
    ['(', 'missing ), unterminated subpattern at position 0'],
    [')', 'unbalanced parenthesis at position 0'],
    ['^*', 'nothing to repeat at position 1'],
    ['[a', 'unterminated character set at position 0'],
    ['(?L:a)', "bad inline flags: cannot use 'L' flag with a str pattern at position 3"],
    ['\\x4', 'incomplete escape \\x4 at position 0'],
  ])('rejects %s like Python', (pattern, message) => {
    expect(() => compilePyRegex(pattern)).toThrow(new PyRegexError(message.replace(/ at position \d+$/, ''), Number(/(\d+)$/.exec(message)?.[1])));
    expect(() => compilePyRegex(pattern)).toThrow(message);
  });

  it('fails clearly on constructs JavaScript cannot express', () => {
    expect(() => compilePyRegex('(a)(?(1)b|c)')).toThrow(expect.objectContaining({ unsupported: true }));
    expect(() => compilePyRegex('\\N{EM DASH}')).toThrow(expect.objectContaining({ unsupported: true }));
  });
});
