/* eslint-disable no-control-regex -- Python's whitespace and line-break sets include control characters. */
import { emitJsRegex } from './py-regex-emitter.fns.js';
import { parsePyRegex, PyRegexError } from './py-regex-parser.fns.js';
import type { Alternation, PyNode, PyPattern } from './py-regex-ast.js';
import { lastRun, planLastRuns, type LastRunPlan } from './py-regex-last-run.fns.js';
import { patternLead, type Lead } from './py-regex-lead.fns.js';
import { minimumLength, requiredLiteral } from './py-regex-needle.fns.js';
import { requiredCharCount, requiredTail, type CharCount } from './py-regex-precheck.fns.js';
import { createSegmentMatcher, type SegmentMatchFn } from './py-regex-segments.fns.js';
import { createPyMatcher, createSpanMatcher, groupsInsideRepeats, type PyMatchFn } from './py-regex-vm.fns.js';

export { PyRegexError };

/**
 * A Python pattern compiled for `re.match` semantics (anchored at the start of the subject,
 * every top-level branch included), in both JavaScript dialects. Pick `ascii` when the subject
 * is pure ASCII (faster, and exact there), `unicode` otherwise.
 */
export interface PyRegex {
  readonly source: string;
  readonly ascii: RegExp;
  readonly unicode: RegExp;
  /** Number of capturing groups as Python counts them (`compiled.groups`). */
  readonly groupCount: number;
  /** Named groups in definition order, each with its JavaScript group number. */
  readonly namedGroups: ReadonlyArray<{ name: string; jsIndex: number }>;
  /**
   * JavaScript numbers of named groups inside a repeat, where JavaScript and Python captures can
   * differ; empty for almost every pattern. When one of them comes back unset, `pythonMatch`
   * gives Python's captures (see py-regex-vm.fns.ts).
   */
  readonly repeatedGroups: Int32Array;
  /** A substring every match contains, when checking it first is cheaper (py-regex-needle.fns.ts). */
  readonly needle: string | null;
  /** No match is shorter than this many characters. */
  readonly minLength: number;
  /** For ASCII subjects: the indentation and first character every match starts with (py-regex-lead.fns.ts). */
  readonly lead: Lead | null;
  /** A character every match holds several times, checked first where backtracking is costly (py-regex-precheck.fns.ts). */
  readonly charCount: CharCount | null;
  /** For ASCII subjects: every match ends with a match of this, checked first where backtracking is costly. */
  readonly tail: RegExp | null;
  /**
   * For ASCII lines, where the pattern has that shape: the same captures as `ascii.exec`, found by
   * skipping to the literals after top-level `.*` (py-regex-segments.fns.ts); else null.
   */
  readonly segmented: SegmentMatchFn | null;
  /**
   * Python's captures for `subject`. Pass the native match of the `ascii` dialect when there is
   * one: the common shapes are then fixed up from it without re-matching (py-regex-last-run.fns.ts).
   */
  readonly pythonMatch: (subject: string, asciiMatch?: ArrayLike<string | undefined> | null) => (string | undefined)[] | null;
}

/**
 * Compiled patterns by source, shared by every template of the process: the library's 11 000
 * Value regexes are 1 000 distinct ones (`(\S+)`, `(\d+)`…) and a quarter of its rules repeat
 * too, so most of a template's compilation is a lookup. A PyRegex holds no per-use state (its
 * RegExps are used without the `g` flag; sticky ones get their lastIndex set before each exec).
 */
const compiled = new Map<string, PyRegex>();
const MAX_COMPILED = 16384;

/** Compiles `source` (a Python `re` pattern); throws PyRegexError when Python would reject it. */
export function compilePyRegex(source: string): PyRegex {
  let re = compiled.get(source);
  if (re === undefined) {
    re = compileUncached(source);
    // Oldest first: a long-running server with many custom templates keeps a bounded cache.
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(source, re);
  }
  return re;
}

/** The tree a pattern is emitted from: Python's groups, then the last-run plan's wrapper groups. */
function analyse(source: string): { pattern: PyPattern; inside: Set<number>; plan: LastRunPlan | null; emitted: PyPattern } {
  const pattern = parsePyRegex(source);
  const inside = groupsInsideRepeats(pattern);
  const plan = planLastRuns(pattern, inside);
  return { pattern, inside, plan, emitted: plan?.pattern ?? pattern };
}

function compileUncached(source: string): PyRegex {
  const { pattern, inside, plan, emitted } = analyse(source);
  const asciiSrc = emitJsRegex(emitted, 'ascii');
  const ascii = toRegExp(asciiSrc.source, asciiSrc.flags);
  const groupIndex = asciiSrc.groupIndex;
  // NOTE: the unicode dialect is built on first use: constructing \p{…} classes costs more than
  // the rest of a template's compilation, and most CLI output is pure ASCII. Both dialects are
  // emitted from the same tree; the conformance test builds every one of them eagerly. The tree
  // is parsed again then rather than kept: thousands of cached patterns would otherwise hold
  // their trees, and a bigger heap makes every garbage collection (during parses too) slower.
  let unicode: RegExp | null = null;
  const unicodeRegExp = (): RegExp => {
    if (unicode === null) {
      const src = emitJsRegex(analyse(source).emitted, 'unicode');
      unicode = toRegExp(src.source, src.flags);
    }
    return unicode;
  };
  const namedGroups = [...pattern.groupNames].map(([name, pyIndex]) => ({ name, jsIndex: groupIndex[pyIndex] ?? 0 }));
  const repeatedGroups = Int32Array.from([...pattern.groupNames.values()].filter((g) => inside.has(g)), (g) => groupIndex[g] ?? 0);
  const lastRuns = (plan?.repeats ?? []).map((r) => ({ wrapper: groupIndex[r.wrapper] ?? 0, group: groupIndex[r.group] ?? 0, runChars: r.runChars }));
  const fast = lastRuns.length > 0 && Array.from(repeatedGroups).every((g) => lastRuns.some((r) => r.group === g));
  let vm: PyMatchFn | null = null;
  const pythonMatch = (subject: string, asciiMatch?: ArrayLike<string | undefined> | null): (string | undefined)[] | null => {
    if (fast && asciiMatch) {
      const out = Array.from(asciiMatch);
      for (const r of lastRuns) {
        const text = out[r.wrapper];
        if (out[r.group] === undefined && text !== undefined) out[r.group] = lastRun(text, r.runChars);
      }
      return out;
    }
    if (vm === null) {
      const again = analyse(source);
      vm = createPythonMatch(again.pattern, again.inside, groupIndex);
    }
    return vm(subject);
  };
  return {
    source,
    ascii,
    get unicode() {
      return unicodeRegExp();
    },
    groupCount: pattern.groupCount,
    namedGroups,
    repeatedGroups,
    needle: requiredLiteral(pattern),
    minLength: minimumLength(pattern),
    lead: patternLead(pattern),
    charCount: requiredCharCount(pattern),
    tail: requiredTail(pattern),
    segmented: inside.size === 0 ? createSegmentMatcher(pattern, groupIndex, Math.max(0, ...groupIndex)) : null,
    pythonMatch,
  };
}

/**
 * Python's captures for a subject the native RegExp matched but where a group inside a repeat came
 * back unset. Fast path: a twin RegExp with each such repeat wrapped in a capture group and the `d`
 * flag gives the span each repeat matched; the backtracking matcher then re-runs only that repeat
 * over only that span (createSpanMatcher). Patterns with backreferences, or with such a repeat
 * inside a lookaround, use the backtracking matcher on the whole subject.
 */
function createPythonMatch(pattern: PyPattern, inside: ReadonlySet<number>, jsIndex: readonly number[]): PyMatchFn {
  const repeats: PyNode[] = [];
  let simple = true;
  const contains = (node: PyNode): boolean => {
    if (node.type === 'group') return (node.index !== null && inside.has(node.index)) || node.body.some((seq) => seq.some(contains));
    if (node.type === 'look' || node.type === 'atomic') return node.body.some((seq) => seq.some(contains));
    return node.type === 'repeat' && contains(node.body);
  };
  const wrap = (alt: Alternation, inLook: boolean): Alternation => alt.map((seq) => seq.map((node) => wrapNode(node, inLook)));
  const wrapNode = (node: PyNode, inLook: boolean): PyNode => {
    switch (node.type) {
      case 'backref':
        simple = false;
        return node;
      case 'group': return { ...node, body: wrap(node.body, inLook) };
      case 'atomic': return { ...node, body: wrap(node.body, inLook) };
      case 'look': return { ...node, body: wrap(node.body, true) };
      case 'repeat': {
        if (node.max <= 1 || !contains(node)) return { ...node, body: wrapNode(node.body, inLook) };
        if (inLook) simple = false;
        repeats.push(node);
        return { type: 'group', index: pattern.groupCount + repeats.length, name: null, body: [[node]] };
      }
      default: return node;
    }
  };
  const wrapped: PyPattern = { body: wrap(pattern.body, false), groupCount: pattern.groupCount, groupNames: pattern.groupNames };
  if (!simple || repeats.length === 0) return createPyMatcher(pattern, jsIndex);
  wrapped.groupCount += repeats.length;

  const twins: { ascii: RegExp | null; unicode: RegExp | null; groupIndex: number[] | null } = { ascii: null, unicode: null, groupIndex: null };
  const twin = (unicode: boolean): RegExp => {
    const key = unicode ? 'unicode' : 'ascii';
    let re = twins[key];
    if (re === null) {
      const emitted = emitJsRegex(wrapped, key);
      twins.groupIndex = emitted.groupIndex; // same numbering in both dialects
      re = twins[key] = toRegExp(emitted.source, `${emitted.flags}d`);
    }
    return re;
  };
  const spans = repeats.map((node) => createSpanMatcher(pattern, node));
  const groupsOf = repeats.map((node) => {
    const found: number[] = [];
    const walk = (n: PyNode): void => {
      if (n.type === 'group') {
        if (n.index !== null) found.push(n.index);
        n.body.forEach((seq) => seq.forEach(walk));
      } else if (n.type === 'look' || n.type === 'atomic') n.body.forEach((seq) => seq.forEach(walk));
      else if (n.type === 'repeat') walk(n.body);
    };
    walk(node);
    return found;
  });
  const slow = createPyMatcher(pattern, jsIndex);

  return (subject) => {
    const m = twin(!isAsciiText(subject)).exec(subject) as (RegExpExecArray & { indices: [number, number][] }) | null;
    if (m === null) return null;
    const aux = twins.groupIndex as number[];
    const out: (string | undefined)[] = [];
    for (let g = 1; g <= pattern.groupCount; g++) out[jsIndex[g] ?? 0] = m[aux[g] ?? 0];
    for (let k = 0; k < repeats.length; k++) {
      const span = m.indices[aux[pattern.groupCount + 1 + k] ?? 0];
      if (span === undefined) continue;
      const caps = (spans[k] as ReturnType<typeof createSpanMatcher>)(subject, span[0], span[1]);
      if (caps === null) return slow(subject);
      for (const g of groupsOf[k] as number[]) {
        const start = caps[2 * g] as number;
        out[jsIndex[g] ?? 0] = start < 0 ? undefined : subject.slice(start, caps[2 * g + 1]);
      }
    }
    return out;
  };
}

function toRegExp(source: string, flags: string): RegExp {
  try {
    return new RegExp(`^(?:${source})`, flags);
  } catch (err) {
    // NOTE: only reachable through engine limits (e.g. huge repeat counts); Python accepted it.
    throw new PyRegexError(`cannot be expressed as a JavaScript regular expression: ${(err as Error).message}`, 0, true);
  }
}

const NON_ASCII = /[^\x00-\x7f]/;

/** True when `text` holds only ASCII, so the `ascii` dialect of every pattern is exact on it. */
export function isAsciiText(text: string): boolean {
  return !NON_ASCII.test(text);
}
