import { describe, expect, it } from 'vitest';
import { allowsLead, leadingSpaces } from './py-regex-lead.fns.js';
import { compilePyRegex } from './py-regex.fns.js';

const charsOf = (table: Uint8Array): string => Array.from(table, (v, c) => (v ? String.fromCharCode(c) : '')).join('');

/** What every match starts with (py-regex-lead.fns.ts): indentation bounds and first characters. */
describe('regex leads', () => {
  it.each([
    ['^\\s+Temperature:\\s+(?P<t>\\S+)', 1, 4294967295, 'T'],
    ['^\\s*Flags:', 0, 4294967295, 'F'],
    ['^Interface\\s+(?P<i>\\S+)', 0, 0, 'I'],
    ['^  \\s{2,3}(?P<n>\\d+)', 4, 5, '0123456789'],
    ['^[ \\t]+(?i:vlan)', 1, 4294967295, 'Vv'],
    ['^\\s*(?P<a>[A-C]|x)\\b', 0, 4294967295, 'ABCx'],
    ['^(?=\\S)(?P<p>[^,\\s]+),', 0, 0, charsOfAllBut(', \t\n\v\f\r\x1c\x1d\x1e\x1f')],
  ])('%s starts with %i to %i spaces and one of %j', (pattern, min, max, chars) => {
    const lead = compilePyRegex(pattern).checks.lead;
    expect(lead && { min: lead.min, max: lead.max, chars: charsOf(lead.chars) }).toEqual({ min, max, chars });
  });

  it.each([
    // The first non-space node could match a space, or is optional: the indentation is not fixed.
    '^\\s*(?P<a>.+?)\\s+(?P<b>\\d+)',
    '^\\s*\\S*x',
    '^(?P<a>\\D+)',
    '^\\s+(?P<a>\\d+)?\\s',
    // Alternatives at the top, an empty pattern, a backreference first.
    '^a|^b',
    '^\\s*$',
    // A non-ASCII letter ignoring case may match an ASCII one (U+212A KELVIN SIGN is k).
    '^(?i:\\u212a)',
  ])('%s has no lead', (pattern) => {
    expect(compilePyRegex(pattern).checks.lead).toBeNull();
  });

  // Necessary condition only: a line the pattern matches always passes.
  it.each([
    ['^\\s+Temperature:\\s+(?P<t>\\S+)', ['  Temperature: 25 C', 'Temperature: 25', '  Voltage: 3.3', '   ', '']],
    ['^  \\s{2,3}(?P<n>\\d+)', ['    1', '     22 x', '   3', '      4', '    x']],
    ['^\\s*(?P<a>[A-C]|x)\\b', ['A', '   x y', '  D', 'ab', '\tB']],
    ['(?i)^\\s*flags:', ['Flags: X', '  FLAGS:', 'flag', ' -F']],
  ])('never rejects a line %s matches', (pattern, lines) => {
    const re = compilePyRegex(pattern);
    const lead = re.checks.lead;
    expect(lead).not.toBeNull();
    if (lead === null) return;
    for (const line of lines) if (re.ascii.test(line)) expect(allowsLead(line, leadingSpaces(line), lead), line).toBe(true);
    expect(lines.some((line) => !allowsLead(line, leadingSpaces(line), lead))).toBe(true);
  });
});

function charsOfAllBut(excluded: string): string {
  let out = '';
  for (let c = 0; c < 128; c++) if (!excluded.includes(String.fromCharCode(c))) out += String.fromCharCode(c);
  return out;
}
