import type { Alternation, PyNode, PyPattern } from './py-regex-ast.js';
import { emitJsRegex } from './py-regex-emitter.fns.js';

/**
 * A small backtracking matcher over the Python pattern tree, with Python's capture semantics.
 *
 * Why: inside a quantified group, JavaScript resets every capture at each iteration, while
 * Python keeps a group's value from the last iteration in which it took part. For
 * `(${CAPABILITIES}?\s)+` (cisco_nxos_show_lldp_neighbors) the two disagree. The engine matches
 * with the native RegExp and calls this only when such a group came back unset, so the slow
 * path is rare. Character tests reuse the emitted (unicode dialect) JavaScript classes.
 */
type Cont = (pos: number) => boolean;
type Matcher = (pos: number, k: Cont) => boolean;

export type PyMatchFn = (subject: string) => (string | undefined)[] | null;

/**
 * Python group numbers of capture groups where JavaScript and Python can disagree: inside a repeat
 * that can iterate twice, and optional within one iteration (under `?`, `*`, `{0,n}` or an
 * alternation). A group that every iteration sets holds the last iteration's value in both.
 */
export function groupsInsideRepeats(pattern: PyPattern): Set<number> {
  const found = new Set<number>();
  // NOTE: module-level walkers, not closures: this runs for every pattern of every template.
  walkRepeats(pattern.body, false, false, found);
  return found;
}

function walkRepeats(alt: Alternation, inside: boolean, optional: boolean, found: Set<number>): void {
  const branchy = alt.length > 1;
  for (const seq of alt) for (const node of seq) visitRepeats(node, inside, optional || branchy, found);
}

function visitRepeats(node: PyNode, inside: boolean, optional: boolean, found: Set<number>): void {
  if (node.type === 'group') {
    if (inside && optional && node.index !== null) found.add(node.index);
    walkRepeats(node.body, inside, optional, found);
  } else if (node.type === 'look' || node.type === 'atomic') walkRepeats(node.body, inside, optional || node.type === 'look', found);
  else if (node.type === 'repeat') {
    if (node.max > 1) visitRepeats(node.body, true, node.min === 0 && inside ? optional : false, found);
    else visitRepeats(node.body, inside, optional || node.min === 0, found);
  }
}

/** Builds a matcher for `pattern`; results are indexed by JavaScript group number (`jsIndex`). */
export function createPyMatcher(pattern: PyPattern, jsIndex: readonly number[]): PyMatchFn {
  const vm = createVm(pattern);
  const root = vm.compileAlt(pattern.body);
  return (s) => {
    vm.reset(s);
    let matched: boolean;
    try {
      matched = root(0, () => true);
    } catch {
      return null; // NOTE: stack exhaustion on a huge line; the caller keeps the native result.
    }
    if (!matched) return null;
    const out: (string | undefined)[] = [];
    for (let g = 1; g <= pattern.groupCount; g++) {
      const start = vm.caps[2 * g] as number;
      out[jsIndex[g] ?? 0] = start < 0 ? undefined : s.slice(start, vm.caps[2 * g + 1]);
    }
    return out;
  };
}

/**
 * Python's captures for the groups inside one repeat node, given the span the native match gave
 * that repeat: the first way (in backtracking order) to match exactly `subject[start, end)` with
 * the repeat is the one the full match used, as long as nothing after the repeat depends on its
 * captures (no backreferences: the caller checks). Far cheaper than re-matching the whole line.
 * Returns Python group number → [start, end] (-1 when unset), or null if it cannot tell.
 */
export function createSpanMatcher(pattern: PyPattern, node: PyNode): (subject: string, start: number, end: number) => Int32Array | null {
  const vm = createVm(pattern);
  const body = vm.compile(node);
  return (s, start, end) => {
    vm.reset(s);
    try {
      return body(start, (p) => p === end) ? vm.caps : null;
    } catch {
      return null;
    }
  };
}

function createVm(pattern: PyPattern) {
  let subject = '';
  const caps = new Int32Array((pattern.groupCount + 1) * 2);
  const single = (node: PyNode): RegExp => {
    const emitted = emitJsRegex({ body: [[node]], groupCount: 0, groupNames: new Map() }, 'unicode');
    return new RegExp(emitted.source, 'vy');
  };
  const test = (re: RegExp, pos: number): number => {
    re.lastIndex = pos;
    return re.test(subject) ? re.lastIndex : -1;
  };
  /** One character class: an ASCII table (the common case), the RegExp for the rest. */
  const charTest = (re: RegExp): ((pos: number) => number) => {
    const table = new Uint8Array(128);
    for (let c = 0; c < 128; c++) {
      re.lastIndex = 0;
      table[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
    }
    return (pos) => {
      const c = subject.charCodeAt(pos);
      if (c < 128) return table[c] === 1 ? pos + 1 : -1;
      return c !== c ? -1 : test(re, pos); // NaN: past the end
    };
  };

  const seq = (nodes: readonly PyNode[]): Matcher => {
    const parts = nodes.map(compile);
    return parts.reduceRight<Matcher>(
      (next, part) => (pos, k) => part(pos, (p) => next(p, k)),
      (pos, k) => k(pos),
    );
  };
  const alt = (alternation: Alternation): Matcher => {
    const branches = alternation.map(seq);
    return (pos, k) => branches.some((b) => b(pos, k));
  };
  const snapshot = (): Int32Array => caps.slice();

  function compile(node: PyNode): Matcher {
    switch (node.type) {
      case 'literal':
      case 'any':
      case 'set':
      case 'category': {
        const step = charTest(single(node));
        return (pos, k) => {
          const end = step(pos);
          return end >= 0 && k(end);
        };
      }
      case 'at': {
        if (node.at === 'bol' || node.at === 'bos') return (pos, k) => pos === 0 && k(pos);
        if (node.at === 'eol' || node.at === 'eos') return (pos, k) => pos === subject.length && k(pos);
        const re = single(node);
        return (pos, k) => test(re, pos) >= 0 && k(pos);
      }
      case 'group': {
        const body = alt(node.body);
        const i = node.index;
        if (i === null) return body;
        return (pos, k) =>
          body(pos, (end) => {
            const s = caps[2 * i] as number;
            const e = caps[2 * i + 1] as number;
            caps[2 * i] = pos;
            caps[2 * i + 1] = end;
            if (k(end)) return true;
            caps[2 * i] = s;
            caps[2 * i + 1] = e;
            return false;
          });
      }
      case 'look': {
        const body = alt(node.body);
        const width = node.behind ? fixedWidth(node.body) : 0;
        return (pos, k) => {
          let start = pos;
          if (node.behind) {
            for (let n = 0; n < width; n++) start = start > 1 && isLowSurrogate(subject, start - 1) ? start - 2 : start - 1;
            if (start < 0) return node.negate && k(pos);
          }
          const saved = snapshot();
          const ok = body(start, (end) => !node.behind || end === pos);
          if (ok !== node.negate && k(pos)) return true;
          caps.set(saved);
          return false;
        };
      }
      case 'atomic': {
        const body = alt(node.body);
        return atomic(body);
      }
      case 'backref': {
        const i = node.index;
        return (pos, k) => {
          const s = caps[2 * i] as number;
          if (s < 0) return false;
          const text = subject.slice(s, caps[2 * i + 1]);
          return subject.startsWith(text, pos) && k(pos + text.length);
        };
      }
      case 'repeat': {
        const body = compile(node.body);
        const { min, max } = node;
        const lazy = node.mode === 'lazy';
        // NOTE: the per-call continuation is written inline, not as a named `const`: tsx/esbuild's
        // keepNames wraps named closures in a defineProperty call, which dominated this loop.
        const loop = (count: number, pos: number, k: Cont): boolean => {
          if (lazy) return (count >= min && k(pos)) || (count < max && body(pos, (p) => (p === pos && count >= min ? false : loop(count + 1, p, k))));
          return (count < max && body(pos, (p) => (p === pos && count >= min ? false : loop(count + 1, p, k)))) || (count >= min && k(pos));
        };
        const greedy: Matcher = (pos, k) => loop(0, pos, k);
        return node.mode === 'possessive' ? atomic(greedy) : greedy;
      }
    }
  }

  function atomic(body: Matcher): Matcher {
    return (pos, k) => {
      const saved = snapshot();
      let end = -1;
      if (!body(pos, (p) => ((end = p), true))) return false;
      if (k(end)) return true;
      caps.set(saved);
      return false;
    };
  }

  return {
    caps,
    compile,
    compileAlt: alt,
    reset(s: string): void {
      subject = s;
      caps.fill(-1);
    },
  };
}

function isLowSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  const h = s.charCodeAt(i - 1);
  return c >= 0xdc00 && c <= 0xdfff && h >= 0xd800 && h <= 0xdbff;
}

/** Lookbehind bodies are fixed-width (the parser enforces it); width in code points. */
function fixedWidth(alt: Alternation): number {
  const width = (node: PyNode): number => {
    switch (node.type) {
      case 'literal':
      case 'any':
      case 'set':
      case 'category':
        return 1;
      case 'group':
      case 'atomic':
        return fixedWidth(node.body);
      case 'repeat':
        return node.min * width(node.body);
      default:
        return 0;
    }
  };
  const first = alt[0] ?? [];
  return first.reduce((sum, node) => sum + width(node), 0);
}
