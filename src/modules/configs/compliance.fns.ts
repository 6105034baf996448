import { linearTest } from '../../platform/linear-regex.js';

/** What a compliance rule checks; `parent` (an RE2 pattern over a whole top-level line) scopes either kind to blocks. */
export interface RuleCheck {
  kind: 'must_contain' | 'must_not_match';
  /** must_contain: the lines that must be present (compared without surrounding whitespace). */
  lines: readonly string[];
  /** must_contain: the lines must appear in this order (other lines may come between them). */
  ordered: boolean;
  /** must_not_match: RE2 pattern no line may match. */
  pattern: string | null;
  parent: string | null;
}

export interface RuleOutcome {
  status: 'compliant' | 'noncompliant';
  /** Lines to add, as a configuration snippet: under a block, its header line then the indented children. */
  missing: string[];
  /** Lines that must not be there (must_not_match), under their block's header when scoped. */
  extra: string[];
}

/** Lists are capped so that a result row, an API answer and an event stay small. */
export const MAX_LINES = 100;
export const MAX_LINE_CHARS = 500;

interface Block {
  header: string;
  children: string[];
}

/**
 * Indentation-structured configurations (IOS, IOS-XE, NX-OS, IOS-XR, EOS): a top-level line is
 * a block's header, the indented lines after it are its children (nested levels included).
 */
export function blocksOf(text: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      current?.children.push(line.trim());
      continue;
    }
    current = { header: line.trimEnd(), children: [] };
    blocks.push(current);
  }
  return blocks;
}

/** The lines of `want` not found in `have`; in order, a greedy subsequence match decides which are out of place. */
function missingOf(have: readonly string[], want: readonly string[], ordered: boolean): string[] {
  if (!ordered) {
    const present = new Set(have);
    return want.filter((w) => !present.has(w.trim()));
  }
  const missing: string[] = [];
  let at = 0;
  for (const w of want) {
    const found = have.indexOf(w.trim(), at);
    if (found === -1) missing.push(w.trim());
    else at = found + 1;
  }
  return missing;
}

const cap = (lines: string[]) => lines.slice(0, MAX_LINES).map((l) => l.slice(0, MAX_LINE_CHARS));

/** Evaluates one rule against one configuration text (pure; patterns were checked as RE2 when saved). */
export function evaluateRule(rule: RuleCheck, text: string): RuleOutcome {
  const missing: string[] = [];
  const extra: string[] = [];
  if (rule.parent === null) {
    const all = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (rule.kind === 'must_contain') missing.push(...missingOf(all, rule.lines, rule.ordered));
    else if (linearTest(`(?m)${rule.pattern!}`, text)) extra.push(...all.filter((l) => linearTest(rule.pattern!, l)));
  } else {
    const parent = `^(?:${rule.parent})$`;
    const blocks = blocksOf(text).filter((b) => linearTest(parent, b.header));
    if (rule.kind === 'must_contain' && blocks.length === 0) missing.push(rule.parent, ...rule.lines.map((l) => ` ${l.trim()}`));
    for (const b of blocks) {
      const found = rule.kind === 'must_contain' ? missingOf(b.children, rule.lines, rule.ordered) : b.children.filter((l) => linearTest(rule.pattern!, l));
      if (found.length > 0) (rule.kind === 'must_contain' ? missing : extra).push(b.header, ...found.map((l) => ` ${l}`));
    }
  }
  return { status: missing.length + extra.length === 0 ? 'compliant' : 'noncompliant', missing: cap(missing), extra: cap(extra) };
}
