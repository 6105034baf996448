import type { FieldError } from '../../platform/errors.js';
import { checkLinearRegex, LinearRegexError, linearMatches, linearTest } from '../../platform/linear-regex.js';
import { compareTexts } from './diff.fns.js';
import type { PlatformProfile } from './platform-profiles.fns.js';

/** Masks one line with the profile's rules: group 1 of a match is kept, the rest replaced. */
export function maskLine(line: string, profile: Pick<PlatformProfile, 'mask'>): string {
  let out = line;
  for (const rule of profile.mask) {
    const m = linearMatches(rule.pattern, out, 1)[0];
    if (!m) continue;
    out = `${out.slice(0, m.start)}${m.groups[1] ?? ''}${rule.replacement}${out.slice(m.end)}`;
  }
  return out;
}

/**
 * The text kept in Git for a device: CRLF and trailing whitespace gone, the profile's noise
 * lines (timestamps, counters) removed, secrets masked, leading and trailing blank lines
 * dropped, one final newline. Two reads of an unchanged device give the same text.
 */
export function normalizeConfig(text: string, profile: Pick<PlatformProfile, 'stripLines' | 'mask'>): string {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => !profile.stripLines.some((p) => linearTest(p, l)))
    .map((l) => maskLine(l, profile));
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

export interface DiffSummary {
  added: number;
  removed: number;
  /** The first changed lines, `+`/`-` prefixed (already masked: they come from the stored text). */
  lines: string[];
  truncated: boolean;
}

/** Lines added and removed between two stored versions, and the first `max` changed lines. */
export function diffSummary(before: string, after: string, path: string, max = 20): DiffSummary {
  const { file } = compareTexts({ path, text: before }, { path, text: after }, 0);
  const changed = file.hunks.flatMap((h) => h.lines.filter((l) => l.type !== 'context').map((l) => `${l.type === 'add' ? '+' : '-'}${l.text}`.slice(0, 500)));
  return { added: file.additions, removed: file.deletions, lines: changed.slice(0, max), truncated: changed.length > max };
}

/** RE2 syntax of every pattern a profile holds; errors name the field (`body.strip_lines.2`). */
export function checkProfilePatterns(p: {
  prompt?: string | null | undefined;
  strip_lines?: readonly string[] | undefined;
  mask?: readonly { pattern: string }[] | undefined;
}): FieldError[] {
  const errors: FieldError[] = [];
  const check = (pattern: string, path: string) => {
    try {
      checkLinearRegex(pattern);
    } catch (err) {
      if (!(err instanceof LinearRegexError)) throw err;
      errors.push({ path, message: `not a valid RE2 pattern: ${err.message}`.slice(0, 500) });
    }
  };
  if (p.prompt) check(p.prompt, 'body.prompt');
  p.strip_lines?.forEach((s, i) => check(s, `body.strip_lines.${i}`));
  p.mask?.forEach((m, i) => check(m.pattern, `body.mask.${i}.pattern`));
  return errors;
}
