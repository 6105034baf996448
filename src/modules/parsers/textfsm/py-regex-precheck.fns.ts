import { withBounds, type Alternation, type PyNode, type PyPattern } from './py-regex-ast.js';
import { emitJsRegex } from './py-regex-emitter.fns.js';

/**
 * Necessary conditions a line must meet before a backtracking-prone rule is worth running, for
 * the shapes where V8 (and Python's `sre`, which is as slow there) spend polynomial time proving
 * that a line does not match. Each check only ever rejects lines the pattern cannot match, so
 * the captures of the lines that pass are untouched.
 *
 * - A character the pattern needs several times: `\s*(.+?)\s+(\d+\.\d+\.\d+\.\d+)\s+…` needs
 *   three dots (cisco_xr_show_bfd_sessions tried every split of a continuation line first);
 *   `\s{6,}(?:[^,]+,){5}…` needs five commas (aruba_aoscx_show_vlan).
 * - The pattern's tail before `$`: `(.+?)\s+(.+?)\s+(\S+)\s+(\d+)\s*$` cannot match a line that
 *   does not end in `\s+\S+\s+\d+\s*` (cisco_wlc_ssh_show_ap_summary), and that tail is checked
 *   in linear time where the whole pattern backtracks through every way to split the line.
 */
export interface CharCount {
  /** UTF-16 code unit. */
  readonly char: string;
  readonly count: number;
}

/** Whether `line` contains `need.char` at least `need.count` times. */
export function hasCount(line: string, need: CharCount): boolean {
  let at = -1;
  for (let k = 0; k < need.count; k++) {
    at = line.indexOf(need.char, at + 1);
    if (at < 0) return false;
  }
  return true;
}

const isAnyRepeat = (n: PyNode): boolean => n.type === 'repeat' && n.max > 1 && n.body.type === 'any';

/** Repeats (max > 1) of a character class under `alt`: all of them, and those of `.`. */
function countRepeats(alt: Alternation, acc = { classes: 0, dots: 0 }): { classes: number; dots: number } {
  for (const seq of alt) {
    for (const n of seq) {
      if (n.type === 'group' || n.type === 'atomic' || n.type === 'look') countRepeats(n.body, acc);
      else if (n.type === 'repeat') {
        if (n.max > 1 && n.body.type !== 'literal') acc.classes++;
        if (isAnyRepeat(n)) acc.dots++;
        countRepeats([[n.body]], acc);
      }
    }
  }
  return acc;
}

/**
 * Adds to `counts` how many times each case-sensitive ASCII literal occurs in every match, times
 * `times`. A branch of an alternation may not be taken: alternations add nothing (counting less
 * keeps the condition necessary).
 */
function addLiteralCounts(seq: readonly PyNode[], times: number, counts: Int32Array): void {
  for (const n of seq) {
    if (n.type === 'literal') {
      if (!n.ignoreCase && n.cp < 0x80) counts[n.cp] = Math.min((counts[n.cp] as number) + times, 1e6);
    } else if ((n.type === 'group' || n.type === 'atomic') && n.body.length === 1) addLiteralCounts(n.body[0] as PyNode[], times, counts);
    else if (n.type === 'repeat' && n.min > 0) addLiteralCounts([n.body], Math.min(times * n.min, 1e6), counts);
  }
}

/** Scratch for requiredCharCount, which every pattern goes through: a new one each time cost more than the count. */
const COUNTS = new Int32Array(128);

/** The first node that is not `^`, through single-branch groups. */
function firstNode(pattern: PyPattern): PyNode | null {
  let seq = pattern.body.length === 1 ? (pattern.body[0] as PyNode[]) : null;
  while (seq !== null) {
    const node = seq.find((n) => !(n.type === 'at' && (n.at === 'bol' || n.at === 'bos')));
    if (node?.type !== 'group' || node.body.length !== 1) return node ?? null;
    seq = node.body[0] as PyNode[];
  }
  return null;
}

/**
 * The literal character every match needs most often, when that is at least twice and the
 * pattern can backtrack; null otherwise, or when the pattern starts with a literal (the RegExp
 * then rejects most lines at their first character, sooner than a count could).
 */
export function requiredCharCount(pattern: PyPattern): CharCount | null {
  if (pattern.body.length !== 1 || countRepeats(pattern.body).classes < 2 || firstNode(pattern)?.type === 'literal') return null;
  const counts = COUNTS.fill(0);
  addLiteralCounts(pattern.body[0] as PyNode[], 1, counts);
  let best = 0;
  for (let cp = 1; cp < 128; cp++) if ((counts[cp] as number) > (counts[best] as number)) best = cp;
  return (counts[best] as number) >= 2 ? { char: String.fromCharCode(best), count: counts[best] as number } : null;
}

/**
 * A RegExp (ASCII dialect) for the pattern's tail — the top-level nodes after its last `.`-repeat —
 * or null. Every match of the pattern contains a match of the tail (ending the line when the
 * pattern ends in `$`), so a line where the tail matches nowhere cannot match the pattern; and
 * with no `.`-repeat in it, the tail is tested in about linear time. Only for patterns that
 * backtrack before the tail: two `.`-repeats when anchored at the end (V8 proves a failure of
 * one in linear time there), a `.`-repeat and another repeat otherwise (`^\s*(.+?)\s+\|…`).
 */
export function requiredTail(pattern: PyPattern): RegExp | null {
  if (pattern.body.length !== 1) return null;
  const seq = pattern.body[0] as PyNode[];
  const last = seq[seq.length - 1];
  const anchored = last?.type === 'at' && (last.at === 'eol' || last.at === 'eos');
  const end = anchored ? seq.length - 1 : seq.length;
  let start = end;
  while (start > 0 && simpleTail(seq[start - 1] as PyNode)) start--;
  // The tail must stop at a `.`-repeat: otherwise it is most of the pattern, and no cheaper.
  if (start === 0 || countRepeats([[seq[start - 1] as PyNode]]).dots === 0) return null;
  const before = countRepeats([seq.slice(0, start)]);
  if (anchored ? before.dots < 2 : before.classes < 2) return null;
  const tail = seq.slice(start, end);
  if (!tail.some((n) => consumes(n))) return null;
  // The tail is searched for anywhere in the line: a leading `X+` would be tried from every
  // character of a run of X (a run of spaces, in CLI tables), each try running on to the end of
  // the run. `X R` occurs exactly where `X+ R` does, one `X` later; `X* R` wherever R does.
  while (tail[0]?.type === 'repeat' && tail[0].mode !== 'possessive' && tail.length > 1) {
    const lead = tail[0];
    if (lead.min === 0) tail.shift();
    else if (lead.min === lead.max) break;
    else tail[0] = lead.min === 1 ? lead.body : withBounds(lead, lead.min, lead.min);
  }
  const emitted = emitJsRegex({ body: [tail], groupCount: pattern.groupCount, groupNames: new Map() }, 'ascii');
  return new RegExp(anchored ? `(?:${emitted.source})$` : emitted.source);
}

/**
 * Nodes the tail may hold: no `.`-repeats (the tail test must stay about linear), no
 * backreferences. Lookarounds and anchors are fine: the tail's match sits where it sits in the
 * pattern's match, with the same text around it.
 */
function simpleTail(node: PyNode): boolean {
  switch (node.type) {
    case 'literal':
    case 'set':
    case 'category':
    case 'at':
      return true;
    case 'repeat':
      return node.body.type !== 'any' && simpleTail(node.body);
    case 'group':
    case 'look':
    case 'atomic':
      return node.body.every((seq) => seq.every(simpleTail));
    default:
      return false;
  }
}

/** Whether the node always consumes at least one character. */
function consumes(node: PyNode): boolean {
  if (node.type === 'literal' || node.type === 'set' || node.type === 'category') return true;
  if (node.type === 'repeat') return node.min > 0 && consumes(node.body);
  return node.type === 'group' && node.body.every((seq) => seq.some(consumes));
}
