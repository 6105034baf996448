import { describe, expect, it } from 'vitest';
import { compilePyRegex } from './py-regex.fns.js';

/** The `.*L` literal skip (py-regex-segments.fns.ts) gives exactly the backtracking match's captures. */
const groups = (pattern: string, m: ArrayLike<string | undefined> | null): (string | undefined)[] | null => {
  const re = compilePyRegex(pattern);
  return m === null ? null : re.namedGroups.map((g) => m[g.jsIndex]);
};

const MIKROTIK = '^.*router-id=(?P<id>\\S+).*address=(?P<addr>\\S+).*interface=(?P<if>\\S+).*$';

describe('segment matcher', () => {
  it.each([
    [
      MIKROTIK,
      [
        ' 0 instance=default router-id=89.188.172.2 address=89.188.172.81 interface=vlan68 priority=128 dr-address=0.0.0.0 backup-dr-address=0.0.0.0 state="Full"',
        // The last "address=" is not the one that leads to a match; a shorter (\S+) is.
        'router-id=a-address=b-interface=c',
        'router-id=x address=1 address=2 interface=i address=3',
        'router-id=x router-id=y address=1 interface=i',
        'router-id= address=1 interface=i',
        'interface=i router-id=x address=1',
        'router-id=xaddress=yinterface=z',
        '',
      ],
    ],
    // `.+` needs a character before the literal; prefix with captures; a lazy group in the middle.
    ['^(?P<p>\\w+):.+ab(?P<a>.+?)\\s.+cd(?P<c>\\d*)$', ['x:ab1 cd2', 'x:_ab1 _cd2', 'x:abab1 2 _cd3cd4', 'x:ab1 cd', 'x:_ab cd', ':_ab1 _cd2', 'x:_abz _cdcd']],
    // Greedy parts inside a segment that must give back characters to the next segment.
    ['^(?P<a>\\S+).*->(?P<b>\\S*).*->(?P<c>.*)', ['a->b->c', 'a->->', 'a->b->c->d', '->x->y', 'a-> -> ->', 'a->b']],
    // Atomic groups and possessive repeats inside segments.
    ['^(?>(?P<a>x+)).*==(?P<b>y++).*==(?P<c>z)', ['xx==yy==z', 'x==y==y==z', 'xx==yyz==z', '==y==z']],
  ])('matches %s like the backtracking RegExp', (pattern, lines) => {
    const re = compilePyRegex(pattern);
    expect(re.checks.segmented).not.toBeNull();
    for (const line of lines) expect(groups(pattern, re.checks.segmented?.(line) ?? null), line).toEqual(groups(pattern, re.ascii.exec(line)));
  });

  it.each([
    ['one `.*` only', '^(?P<a>\\S+).*address=(?P<b>\\S+)'],
    ['lazy', '^.*?ab(?P<a>\\S+).*?cd(?P<b>\\S+)'],
    ['its cuts inside a group', '^(?:.*ab(?P<a>\\S+).*cd(?P<b>\\S+)).*ef'],
    ['one-character literals', '^.*a(?P<a>\\S+).*b(?P<b>\\S+).*c'],
    ['case-insensitive literals', '^.*(?i:ab)(?P<a>\\S+).*(?i:cd)(?P<b>\\S+).*ef'],
    ['`$` before the last cut', '^.*ab(?P<a>\\S+|$).*cd(?P<b>\\S+).*ef'],
    ['`\\b` before the last cut', '^.*ab(?P<a>\\w+)\\b.*cd(?P<b>\\S+).*ef'],
    ['lookahead before the last cut', '^.*ab(?P<a>\\S+)(?=x).*cd.*ef'],
    ['backreference', '^.*ab(?P<a>\\S+).*cd(?P=a).*ef'],
    ['alternation at the top', '^.*ab(?P<a>\\S+).*cd.*ef|x'],
    ['group inside a repeat', '^.*ab((?P<a>\\S)?,)+.*cd.*ef'],
  ])('does not apply to a pattern with %s', (_what, pattern) => {
    expect(compilePyRegex(pattern).checks.segmented).toBeNull();
  });

  it('may use lookbehind and `\\b` where nothing follows the segment', () => {
    const pattern = '^.*ab(?<=b)(?P<a>\\w+).*cd(?P<b>\\w+)\\b(?=\\s)';
    const re = compilePyRegex(pattern);
    expect(re.checks.segmented).not.toBeNull();
    for (const line of ['ab1 cd2 efx', 'ab1 cd2', 'abab1 cdcd2 cd3x cd4 ']) {
      expect(groups(pattern, re.checks.segmented?.(line) ?? null)).toEqual(groups(pattern, re.ascii.exec(line)));
    }
  });
});
