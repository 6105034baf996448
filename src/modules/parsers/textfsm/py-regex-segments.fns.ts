import type { Alternation, PyNode, PyPattern } from './py-regex-ast.js';
import { emitJsRegex } from './py-regex-emitter.fns.js';

/**
 * An `sre`-style literal skip for patterns like mikrotik's
 * `^.*router-id=(\S+).*address=(\S+).*interface=(\S+)….*$`, where V8 backtracks every greedy
 * `.*` one character at a time and, each time a later part fails, rescans the rest of the line
 * for every shorter `(\S+)` before it: polynomial in the line length.
 *
 * The pattern is cut at each top-level greedy `.*`/`.+` followed by a literal L:
 * `A0 .* A1 .* A2 … .* Ak`, each Ai (i ≥ 1) starting with its Li. No backreferences, so whether
 * the rest of the pattern matches from a position depends on the position only. Then, for one
 * line (no line breaks, so `.` matches every character):
 *
 * - "`.*` Ai …" matches from p iff p + min ≤ best(i), where best(i) is the LAST position q where
 *   "Ai …" matches (the `.*` can reach any q ≥ p + min, and greedy tries the largest first). So
 *   the match is the same whatever position the previous parts end at, as long as it is ≤ that.
 * - "Ai …" matches at q iff Ai has a match from q ending at or before best(i+1) − min(i+1); the
 *   first such end in backtracking order is the one the whole pattern uses. That is Ai run as a
 *   sticky RegExp on the line cut at that bound — exact when Ai cannot see past its own end (no
 *   lookahead, `$`, `\b`, `\B`): cutting the subject only prunes paths that read beyond it.
 *
 * So best(k), best(k−1), …, best(1) are found right to left, each by trying the occurrences of
 * Li (lastIndexOf) from the right with one sticky RegExp; A0 then runs at 0 on the line cut at
 * best(1) − min(1). The captures are exactly those of the backtracking match (Python's and
 * JavaScript's agree here: no group is inside a repeat). Used for ASCII lines only.
 */
export type SegmentMatchFn = (line: string) => (string | undefined)[] | null;

interface Segment {
  /** The literal the segment starts with ('' for A0). */
  literal: string;
  /** Sticky RegExp for the segment. */
  re: RegExp;
  /** JavaScript group number in `re` → in the full RegExp, in pairs. */
  groups: Int32Array;
  /** Minimum characters of the `.*`/`.+` before the segment (0 or 1; 0 for A0). */
  skipMin: number;
}

const UNBOUNDED = 4294967295;
/** A shorter literal is found too often: each candidate costs a RegExp call. */
const MIN_LITERAL = 2;
/**
 * With one `.*` V8's backward scan is linear and a few hundred nanoseconds on a CLI line, about
 * what the segment calls cost; the polynomial rescans start with two.
 */
const MIN_CUTS = 2;

const isSkip = (n: PyNode | undefined): n is Extract<PyNode, { type: 'repeat' }> =>
  n?.type === 'repeat' && n.mode === 'greedy' && n.max === UNBOUNDED && n.min <= 1 && n.body.type === 'any';

function literalRun(seq: readonly PyNode[], from: number): string {
  let text = '';
  for (let i = from; i < seq.length; i++) {
    const n = seq[i] as PyNode;
    if (n.type !== 'literal' || n.ignoreCase || n.cp > 0x7f) break;
    text += String.fromCharCode(n.cp);
  }
  return text;
}

/** Whether a node can look at characters after its own match (or refers to another segment's group). */
function seesPastEnd(alt: Alternation): boolean {
  return alt.some((seq) =>
    seq.some((n) => {
      switch (n.type) {
        case 'at':
          return n.at !== 'bol' && n.at !== 'bos';
        case 'look':
          return !n.behind || seesPastEnd(n.body);
        case 'backref':
          return true;
        case 'group':
        case 'atomic':
          return seesPastEnd(n.body);
        case 'repeat':
          return seesPastEnd([[n.body]]);
        default:
          return false;
      }
    }),
  );
}

function hasBackref(alt: Alternation): boolean {
  return alt.some((seq) =>
    seq.some((n) => {
      if (n.type === 'backref') return true;
      if (n.type === 'group' || n.type === 'atomic' || n.type === 'look') return hasBackref(n.body);
      return n.type === 'repeat' && hasBackref([[n.body]]);
    }),
  );
}

/**
 * A matcher for `pattern` (which must have no group inside a repeat) returning the captures at the
 * full RegExp's group numbers (`jsIndex`), or null when the pattern does not have that shape.
 */
export function createSegmentMatcher(pattern: PyPattern, jsIndex: readonly number[], jsGroupCount: number): SegmentMatchFn | null {
  if (pattern.body.length !== 1) return null;
  const seq = pattern.body[0] as PyNode[];
  const cuts: number[] = [];
  for (let i = 0; i < seq.length - 1; i++) if (isSkip(seq[i]) && literalRun(seq, i + 1).length >= MIN_LITERAL) cuts.push(i);
  if (cuts.length < MIN_CUTS || hasBackref(pattern.body)) return null;
  const parts = [seq.slice(0, cuts[0])];
  cuts.forEach((cut, k) => parts.push(seq.slice(cut + 1, cuts[k + 1] ?? seq.length)));
  // Every part but the last runs on a cut line.
  if (parts.slice(0, -1).some((part) => seesPastEnd([part]))) return null;

  const segments: Segment[] = parts.map((part, k) => {
    const emitted = emitJsRegex({ body: [part], groupCount: pattern.groupCount, groupNames: pattern.groupNames }, 'ascii');
    const groups: number[] = [];
    for (let g = 1; g <= pattern.groupCount; g++) if (emitted.groupIndex[g]) groups.push(emitted.groupIndex[g] as number, jsIndex[g] ?? 0);
    const skip = k === 0 ? null : (seq[cuts[k - 1] as number] as Extract<PyNode, { type: 'repeat' }>);
    return { literal: k === 0 ? '' : literalRun(part, 0), re: new RegExp(emitted.source, 'y'), groups: Int32Array.from(groups), skipMin: skip?.min ?? 0 };
  });
  const last = segments.length - 1;
  // A line where A0 fails outright fails at once natively (`^Device.*ID` on most lines), while
  // the segments are tried right to left: so A0 is tried first on the whole line, which can only
  // reject lines it cannot match on any cut of the line either.
  const first = segments[0] as Segment;
  const firstCanFail = parts[0]?.some((n) => !(n.type === 'at' && (n.at === 'bol' || n.at === 'bos'))) ?? false;

  return (line) => {
    if (firstCanFail) {
      first.re.lastIndex = 0;
      if (!first.re.test(line)) return null;
    }
    const out = new Array<string | undefined>(jsGroupCount + 1);
    let bound = line.length;
    // A0 made only of `^` matches at 0 on any cut of the line: nothing to run.
    for (let k = last; k >= (firstCanFail ? 0 : 1); k--) {
      const s = segments[k] as Segment;
      const subject = k === last ? line : line.slice(0, bound);
      let m: RegExpExecArray | null = null;
      let q = k === 0 ? 0 : bound < s.literal.length ? -1 : line.lastIndexOf(s.literal, bound - s.literal.length);
      while (q >= 0) {
        s.re.lastIndex = q;
        m = s.re.exec(subject);
        if (m !== null || k === 0) break;
        q = q === 0 ? -1 : line.lastIndexOf(s.literal, q - 1);
      }
      if (m === null) return null;
      const g = s.groups;
      for (let j = 0; j < g.length; j += 2) out[g[j + 1] as number] = m[g[j] as number];
      bound = q - s.skipMin;
      if (bound < 0) return null;
    }
    return out;
  };
}
