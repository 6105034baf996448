/* eslint-disable no-control-regex -- Python's whitespace and line-break sets include control characters. */
import { emitJsRegex } from './py-regex-emitter.fns.js';
import { parsePyRegex, PyRegexError } from './py-regex-parser.fns.js';
import { createPyMatcher, groupsInsideRepeats, type PyMatchFn } from './py-regex-vm.fns.js';

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
  readonly pythonMatch: PyMatchFn;
}

/** Compiles `source` (a Python `re` pattern); throws PyRegexError when Python would reject it. */
export function compilePyRegex(source: string): PyRegex {
  const pattern = parsePyRegex(source);
  const asciiSrc = emitJsRegex(pattern, 'ascii');
  const ascii = toRegExp(asciiSrc.source, asciiSrc.flags);
  // NOTE: the unicode dialect is built on first use: constructing \p{…} classes costs more than
  // the rest of a template's compilation, and most CLI output is pure ASCII. Both dialects are
  // emitted from the same tree; the conformance test builds every one of them eagerly.
  let unicode: RegExp | null = null;
  const unicodeRegExp = (): RegExp => {
    if (unicode === null) {
      const src = emitJsRegex(pattern, 'unicode');
      unicode = toRegExp(src.source, src.flags);
    }
    return unicode;
  };
  const namedGroups = [...pattern.groupNames].map(([name, pyIndex]) => ({ name, jsIndex: asciiSrc.groupIndex[pyIndex] ?? 0 }));
  const inside = groupsInsideRepeats(pattern);
  const repeatedGroups = Int32Array.from([...pattern.groupNames.values()].filter((g) => inside.has(g)), (g) => asciiSrc.groupIndex[g] ?? 0);
  let vm: PyMatchFn | null = null;
  const pythonMatch: PyMatchFn = (subject) => (vm ??= createPyMatcher(pattern, asciiSrc.groupIndex))(subject);
  return {
    source,
    ascii,
    get unicode() {
      return unicodeRegExp();
    },
    groupCount: pattern.groupCount,
    namedGroups,
    repeatedGroups,
    pythonMatch,
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
