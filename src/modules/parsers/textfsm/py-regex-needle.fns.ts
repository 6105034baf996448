import type { PyNode, PyPattern } from './py-regex-ast.js';
import { firstChars } from './py-regex-lead.fns.js';

/**
 * A literal every match must contain, worth checking with `String#includes` before running the
 * RegExp: the longest run of case-sensitive literals on the pattern's mandatory path, when
 * something that can backtrack comes before it. Rules like `^.+acl-drop\)\s+(\d+)` (a hundred of
 * them in one template) otherwise make V8 scan and backtrack over every line once per rule; a
 * substring search rejects most lines far sooner. Python's `sre` has a similar trick built in
 * (it skips ahead to the literal after a repeat), which is why such templates were slow here.
 * Null when there is no such literal, or when nothing before it can run over the literal's first
 * character (then the RegExp fails as fast as a substring search would: `^HTTP\s+port:`).
 */
export function requiredLiteral(pattern: PyPattern): string | null {
  if (pattern.body.length !== 1) return null;
  // NOTE: plain loops, no inner named closures: this runs for every rule of every template.
  const flat: PyNode[] = [];
  flattenInto(pattern.body[0] as PyNode[], flat);
  let best = '';
  let bestStart = 0;
  let run = '';
  let runStart = 0;
  for (let i = 0; i <= flat.length; i++) {
    const node = flat[i];
    if (node?.type === 'literal' && !node.ignoreCase) {
      if (run === '') runStart = i;
      run += String.fromCodePoint(node.cp);
      continue;
    }
    if (run.length > best.length) {
      best = run;
      bestStart = runStart;
    }
    run = '';
  }
  if (best.length < 2) return null;
  const first = best.codePointAt(0) as number;
  for (let i = 0; i < bestStart; i++) {
    const node = flat[i] as PyNode;
    if (node.type === 'repeat' && node.max > 1 && canMatch(node.body, first)) return best;
  }
  return null;
}

/** The sequence with single-branch groups opened up. */
function flattenInto(seq: readonly PyNode[], out: PyNode[]): void {
  for (const node of seq) {
    if (node.type === 'group' && node.body.length === 1) flattenInto(node.body[0] as PyNode[], out);
    else out.push(node);
  }
}

/** Whether `node` could consume the character `cp` (true when unsure). */
function canMatch(node: PyNode, cp: number): boolean {
  if (cp > 0x7f || !(node.type === 'any' || node.type === 'set' || node.type === 'category' || node.type === 'literal')) return true;
  const chars = firstChars(node);
  return chars === null || chars[cp] === 1;
}

/**
 * The fewest characters (code points, so never more UTF-16 units) any match can span. A line
 * shorter than that cannot match: templates like huawei_vrp_display_port_vlan try
 * `(?:\S+\s+){60}`-style rules on every line, and most are decided by this comparison alone.
 */
export function minimumLength(pattern: PyPattern): number {
  return altLength(pattern.body);
}

function altLength(a: readonly (readonly PyNode[])[]): number {
  let least = Infinity;
  for (const seq of a) {
    let sum = 0;
    for (const n of seq) sum += nodeLength(n);
    least = Math.min(least, sum);
  }
  return least === Infinity ? 0 : least;
}

function nodeLength(n: PyNode): number {
  switch (n.type) {
    case 'literal':
    case 'any':
    case 'set':
    case 'category':
      return 1;
    case 'group':
    case 'atomic':
      return altLength(n.body);
    case 'repeat':
      return n.min === 0 ? 0 : Math.min(n.min * nodeLength(n.body), 1e6);
    // Lookarounds and anchors are zero-width; a backreference may be empty.
    default:
      return 0;
  }
}
