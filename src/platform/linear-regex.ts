import { RE2JS } from 're2js';

/**
 * Regular expressions written by users (custom-field validation, later filters and templates)
 * run on RE2's linear-time engine (re2js, a pure-JavaScript port: no native build). V8's
 * backtracking engine took 2.8 s on `^(a+)+$` against 30 characters, ×4 per two more, with the
 * event loop blocked. RE2 syntax has no backreferences or lookaround; such a pattern is refused
 * when it is saved. Compiled patterns are kept by source (the same few are used on every write).
 */
const cache = new Map<string, RE2JS>();
const CACHE_MAX = 500;

export class LinearRegexError extends Error {}

function compile(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      throw new LinearRegexError(err instanceof Error ? err.message : String(err));
    }
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(pattern, re);
  }
  return re;
}

/** Throws LinearRegexError (with RE2's reason) when the pattern is not valid RE2 syntax. */
export function checkLinearRegex(pattern: string): void {
  compile(pattern);
}

/** Whether the pattern matches anywhere in the text (like RegExp#test), in linear time. */
export function linearTest(pattern: string, text: string): boolean {
  return compile(pattern).matcher(text).find();
}

export interface LinearMatch {
  start: number;
  end: number;
  /** Group 0 is the whole match; a group that did not take part is null. */
  groups: (string | null)[];
  named: Record<string, string | null>;
}

/** Every non-overlapping match, left to right, in linear time (at most `limit`). */
export function linearMatches(pattern: string, text: string, limit = Number.POSITIVE_INFINITY): LinearMatch[] {
  const re = compile(pattern);
  const m = re.matcher(text);
  const out: LinearMatch[] = [];
  while (out.length < limit && m.find()) {
    const groups: (string | null)[] = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g));
    out.push({ start: m.start(), end: m.end(), groups, named: m.getNamedGroups() });
  }
  return out;
}
