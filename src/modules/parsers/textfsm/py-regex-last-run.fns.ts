import { groupNode, withBody, type Alternation, type PyNode, type PyPattern } from './py-regex-ast.js';
import { emitJsRegex } from './py-regex-emitter.fns.js';

/**
 * The fast path for the one shape of "capture inside a repeat" that templates actually use:
 * `((?P<CAPABILITIES>\w+)?\s)+` — a repeat whose body is an optional group around `Y+` followed by
 * separators `T`, where no character matches both Y and T. Every iteration then either starts
 * with one whole run of Y characters (and the group takes part) or does not, whatever way the
 * engine split the text into iterations; so Python's value (the last iteration in which the group
 * took part) is simply the last run of Y characters in the text the repeat matched.
 *
 * The repeat is wrapped in an extra capture group in the emitted RegExp, so the native match
 * already carries that text: fixing a match costs a scan of a few characters instead of a
 * backtracking re-match. Decided per character on ASCII tables, so only used on ASCII subjects.
 */
export interface LastRunRepeat {
  /** Python group number of the wrapper group added around the repeat. */
  wrapper: number;
  /** Python group number of the optional group inside. */
  group: number;
  /** ASCII characters Y matches. */
  runChars: Uint8Array;
}

export interface LastRunPlan {
  /** The pattern with a wrapper group (numbered after the real ones) around each such repeat. */
  pattern: PyPattern;
  repeats: LastRunRepeat[];
}

type Atom = Extract<PyNode, { type: 'literal' | 'any' | 'set' | 'category' }>;
const isAtom = (n: PyNode): n is Atom => n.type === 'literal' || n.type === 'any' || n.type === 'set' || n.type === 'category';

function asciiTable(atom: Atom): Uint8Array {
  const re = new RegExp(`^(?:${emitJsRegex({ body: [[atom]], groupCount: 0, groupNames: new Map() }, 'ascii').source})$`);
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
  return table;
}

/** The sequence inside single-branch groups: `((X)?\s)` → [`(X)?`, `\s`]. */
function bodySequence(node: PyNode): PyNode[] | null {
  let n = node;
  for (;;) {
    if (n.type !== 'group' || n.body.length !== 1) return null;
    const seq = n.body[0] as PyNode[];
    if (seq.length === 1 && (seq[0] as PyNode).type === 'group') {
      n = seq[0] as PyNode;
      continue;
    }
    return seq;
  }
}

/** Matches the shape; returns the optional group and Y's table, or null. */
function analyse(repeat: Extract<PyNode, { type: 'repeat' }>): { group: number; runChars: Uint8Array } | null {
  if (repeat.max <= 1) return null;
  const seq = bodySequence(repeat.body);
  if (seq === null || seq.length < 2) return null;
  const [first, ...rest] = seq as [PyNode, ...PyNode[]];
  if (first.type !== 'repeat' || first.min !== 0 || first.max !== 1 || first.mode !== 'greedy') return null;
  const g = first.body;
  if (g.type !== 'group' || g.index === null || g.body.length !== 1 || g.body[0]?.length !== 1) return null;
  const y = g.body[0][0] as PyNode;
  if (y.type !== 'repeat' || y.min < 1 || y.max < 4294967295 || !isAtom(y.body)) return null;
  const runChars = asciiTable(y.body);
  let separatorWidth = 0;
  for (const t of rest) {
    const atom = isAtom(t) ? t : t.type === 'repeat' && isAtom(t.body) ? t.body : null;
    if (atom === null) return null;
    const table = asciiTable(atom);
    for (let c = 0; c < 128; c++) if (table[c] && runChars[c]) return null;
    separatorWidth += isAtom(t) ? 1 : (t as Extract<PyNode, { type: 'repeat' }>).min;
  }
  // Without a separator two runs could be split or joined differently: not this shape.
  return separatorWidth >= 1 ? { group: g.index, runChars } : null;
}

/** Finds the repeats of that shape among those holding groups in `inside`; null if none. */
export function planLastRuns(pattern: PyPattern, inside: ReadonlySet<number>): LastRunPlan | null {
  if (inside.size === 0) return null;
  const repeats: LastRunRepeat[] = [];
  const walkAlt = (alt: Alternation): Alternation => alt.map((seq) => seq.map(walk));
  const walk = (node: PyNode): PyNode => {
    switch (node.type) {
      case 'group':
        return withBody(node, walkAlt(node.body));
      case 'atomic':
      case 'look':
        return withBody(node, walkAlt(node.body));
      case 'repeat': {
        const found = analyse(node);
        if (found === null || !inside.has(found.group)) return withBody(node, walk(node.body));
        const wrapper = pattern.groupCount + repeats.length + 1;
        repeats.push({ wrapper, ...found });
        return groupNode(wrapper, null, [[node]]);
      }
      default:
        return node;
    }
  };
  const body = walkAlt(pattern.body);
  if (repeats.length === 0) return null;
  return { pattern: { body, groupCount: pattern.groupCount + repeats.length, groupNames: pattern.groupNames }, repeats };
}

/** The last run of `runChars` characters in `text` (ASCII), or undefined. */
export function lastRun(text: string, runChars: Uint8Array): string | undefined {
  let end = text.length - 1;
  while (end >= 0 && runChars[text.charCodeAt(end)] !== 1) end--;
  if (end < 0) return undefined;
  let start = end;
  while (start > 0 && runChars[text.charCodeAt(start - 1)] === 1) start--;
  return text.slice(start, end + 1);
}
