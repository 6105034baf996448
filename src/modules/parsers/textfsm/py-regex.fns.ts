/* eslint-disable no-control-regex -- Python's whitespace and line-break sets include control characters. */
import { emitJsRegex } from './py-regex-emitter.fns.js';
import { parsePyRegex, PyRegexError } from './py-regex-parser.fns.js';
import { groupNode, withBody, type Alternation, type PyNode, type PyPattern } from './py-regex-ast.js';
import { lastRun, planLastRuns, type LastRunPlan } from './py-regex-last-run.fns.js';
import { patternLead, type Lead } from './py-regex-lead.fns.js';
import { minimumLength, requiredLiteral } from './py-regex-needle.fns.js';
import { requiredCharCount, requiredTail, type CharCount } from './py-regex-precheck.fns.js';
import { createSegmentMatcher, type SegmentMatchFn } from './py-regex-segments.fns.js';
import { createPyMatcher, createSpanMatcher, groupsInsideRepeats, type PyMatchFn } from './py-regex-vm.fns.js';

export { PyRegexError };

/**
 * Checks that decide cheaply that a line cannot match, and a faster matcher for one shape; each
 * only ever skips work, never changes a result. Analysed from the pattern on first use (`checks`):
 * a template's rules in states a parse never reaches, or under rules that always match first,
 * never need them, and compiling the whole library is most of what a process does before its
 * first parses.
 */
export interface PreChecks {
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
  return new PyRegex(source);
}

const NO_GROUPS = new Int32Array(0);

/**
 * A Python pattern compiled for `re.match` semantics (anchored at the start of the subject,
 * every top-level branch included), in both JavaScript dialects. Pick `ascii` when the subject
 * is pure ASCII (faster, and exact there), `unicode` otherwise. Made by `compilePyRegex` only.
 *
 * A class, not an object literal: V8 puts an object literal with a getter in dictionary mode,
 * which costs every property read in the parse loop and several hundred bytes per pattern, and
 * per-pattern closures are each an object of their own.
 */
export class PyRegex {
  readonly ascii: RegExp;
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
  private readonly groupIndex: number[];
  /** The last-run repeats (py-regex-last-run.fns.ts), when they cover every repeated group; else null. */
  private readonly lastRuns: { wrapper: number; group: number; runChars: Uint8Array }[] | null;
  private unicodeRegExp: RegExp | null = null;
  private preChecks: PreChecks | null = null;
  private vm: PyMatchFn | null = null;

  constructor(readonly source: string) {
    const { pattern, inside, plan, emitted } = analyse(source);
    const asciiSrc = emitJsRegex(emitted, 'ascii');
    this.ascii = toRegExp(asciiSrc.source, asciiSrc.flags);
    const groupIndex = (this.groupIndex = asciiSrc.groupIndex);
    this.groupCount = pattern.groupCount;
    this.namedGroups = [...pattern.groupNames].map(([name, pyIndex]) => ({ name, jsIndex: groupIndex[pyIndex] ?? 0 }));
    const repeated: number[] = [];
    for (const g of pattern.groupNames.values()) if (inside.has(g)) repeated.push(groupIndex[g] ?? 0);
    this.repeatedGroups = repeated.length === 0 ? NO_GROUPS : Int32Array.from(repeated);
    const lastRuns = (plan?.repeats ?? []).map((r) => ({ wrapper: groupIndex[r.wrapper] ?? 0, group: groupIndex[r.group] ?? 0, runChars: r.runChars }));
    this.lastRuns = lastRuns.length > 0 && repeated.every((g) => lastRuns.some((r) => r.group === g)) ? lastRuns : null;
  }

  /** The pre-checks, analysed on first use from the pattern parsed again (see `unicode`). */
  get checks(): PreChecks {
    if (this.preChecks === null) {
      const pattern = parsePyRegex(this.source);
      const groupIndex = this.groupIndex;
      this.preChecks = {
        needle: requiredLiteral(pattern),
        minLength: minimumLength(pattern),
        lead: patternLead(pattern),
        charCount: requiredCharCount(pattern),
        tail: requiredTail(pattern),
        segmented: groupsInsideRepeats(pattern).size === 0 ? createSegmentMatcher(pattern, groupIndex, Math.max(0, ...groupIndex)) : null,
      };
    }
    return this.preChecks;
  }

  /**
   * Built on first use: constructing \p{…} classes costs more than the rest of a template's
   * compilation, and most CLI output is pure ASCII. Both dialects are emitted from the same tree;
   * the conformance test builds every one of them eagerly. The tree is parsed again then rather
   * than kept: thousands of cached patterns would otherwise hold their trees, and a bigger heap
   * makes every garbage collection (during parses too) slower.
   */
  get unicode(): RegExp {
    if (this.unicodeRegExp === null) {
      const src = emitJsRegex(analyse(this.source).emitted, 'unicode');
      this.unicodeRegExp = toRegExp(src.source, src.flags);
    }
    return this.unicodeRegExp;
  }

  pythonMatch(subject: string, asciiMatch?: ArrayLike<string | undefined> | null): (string | undefined)[] | null {
    if (this.lastRuns !== null && asciiMatch) {
      const out = Array.from(asciiMatch);
      for (const r of this.lastRuns) {
        const text = out[r.wrapper];
        if (out[r.group] === undefined && text !== undefined) out[r.group] = lastRun(text, r.runChars);
      }
      return out;
    }
    if (this.vm === null) {
      const again = analyse(this.source);
      this.vm = createPythonMatch(again.pattern, again.inside, this.groupIndex);
    }
    return this.vm(subject);
  }
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
      case 'group':
        return withBody(node, wrap(node.body, inLook));
      case 'atomic':
        return withBody(node, wrap(node.body, inLook));
      case 'look':
        return withBody(node, wrap(node.body, true));
      case 'repeat': {
        if (node.max <= 1 || !contains(node)) return withBody(node, wrapNode(node.body, inLook));
        if (inLook) simple = false;
        repeats.push(node);
        return groupNode(pattern.groupCount + repeats.length, null, [[node]]);
      }
      default:
        return node;
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
