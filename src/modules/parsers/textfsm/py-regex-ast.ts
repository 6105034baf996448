/**
 * The syntax tree of a Python `re` pattern, as read by py-regex-parser.fns.ts and written out
 * as JavaScript by py-regex-emitter.fns.ts. Flags that change matching (IGNORECASE, DOTALL,
 * ASCII) are resolved at parse time and stored on the nodes they affect, so scoped flags
 * `(?i:…)` need no support from the JavaScript engine.
 */
export type Category = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type SetItem = { type: 'char'; cp: number } | { type: 'range'; lo: number; hi: number } | { type: 'category'; cat: Category };

/** A sequence of nodes; an alternation is a list of sequences. */
export type Sequence = PyNode[];
export type Alternation = Sequence[];

export type PyNode =
  | { type: 'literal'; cp: number; ignoreCase: boolean }
  | { type: 'any'; dotAll: boolean }
  | { type: 'set'; negate: boolean; items: SetItem[]; ignoreCase: boolean; ascii: boolean }
  | { type: 'category'; cat: Category; ascii: boolean }
  | { type: 'at'; at: 'bol' | 'eol' | 'bos' | 'eos' | 'boundary' | 'nonboundary'; ascii: boolean }
  /** `index` is the Python group number, null for `(?:…)` and scoped-flag groups. */
  | { type: 'group'; index: number | null; name: string | null; body: Alternation }
  | { type: 'look'; behind: boolean; negate: boolean; body: Alternation }
  | { type: 'atomic'; body: Alternation }
  | { type: 'backref'; index: number }
  | { type: 'repeat'; min: number; max: number; mode: 'greedy' | 'lazy' | 'possessive'; body: PyNode };

export interface PyPattern {
  body: Alternation;
  /** Number of capturing groups, as Python counts them. */
  groupCount: number;
  /** Named groups in definition order: name → Python group number. */
  groupNames: Map<string, number>;
}

type AtKind = Extract<PyNode, { type: 'at' }>['at'];
type RepeatMode = Extract<PyNode, { type: 'repeat' }>['mode'];

/** Every field any node has, in one order. */
interface NodeFields {
  type: PyNode['type'];
  cp: number;
  ignoreCase: boolean;
  dotAll: boolean;
  negate: boolean;
  items: SetItem[];
  ascii: boolean;
  cat: Category;
  at: AtKind;
  index: number | null;
  name: string | null;
  body: Alternation | PyNode;
  behind: boolean;
  min: number;
  max: number;
  mode: RepeatMode;
}

const NO_ITEMS: SetItem[] = [];
const NO_BODY: Alternation = [];

/**
 * Nodes are made here, every one with all the fields of `NodeFields` in the same order (those its
 * type does not use hold neutral values): one hidden class for every node of every tree. With a
 * shape per node type, each pass over a tree (emitting, the pre-checks, the lead) met new shapes
 * as the first templates compiled and V8 threw away and re-optimised its code again and again,
 * which was most of the CPU time of a process's first template compilations.
 */
function make(type: PyNode['type']): NodeFields {
  return {
    type,
    cp: 0,
    ignoreCase: false,
    dotAll: false,
    negate: false,
    items: NO_ITEMS,
    ascii: false,
    cat: 'd',
    at: 'bol',
    index: null,
    name: null,
    body: NO_BODY,
    behind: false,
    min: 0,
    max: 0,
    mode: 'greedy',
  };
}

/** A node of `type` with `fields` set: assigning fields `make` already has keeps the one shape. */
function node(type: PyNode['type'], fields: Partial<NodeFields>): PyNode {
  return Object.assign(make(type), fields) as PyNode;
}

export const literalNode = (cp: number, ignoreCase: boolean): PyNode => node('literal', { cp, ignoreCase });
export const anyNode = (dotAll: boolean): PyNode => node('any', { dotAll });
export const setNode = (negate: boolean, items: SetItem[], ignoreCase: boolean, ascii: boolean): PyNode => node('set', { negate, items, ignoreCase, ascii });
export const categoryNode = (cat: Category, ascii: boolean): PyNode => node('category', { cat, ascii });
export const atNode = (at: AtKind, ascii: boolean): PyNode => node('at', { at, ascii });
export const groupNode = (index: number | null, name: string | null, body: Alternation): PyNode => node('group', { index, name, body });
export const lookNode = (behind: boolean, negate: boolean, body: Alternation): PyNode => node('look', { behind, negate, body });
export const atomicNode = (body: Alternation): PyNode => node('atomic', { body });
export const backrefNode = (index: number): PyNode => node('backref', { index });
export const repeatNode = (min: number, max: number, mode: RepeatMode, body: PyNode): PyNode => node('repeat', { min, max, mode, body });

/** A copy of a group, lookaround, atomic group or repeat with another body (same shape). */
export function withBody<N extends Extract<PyNode, { body: unknown }>>(node: N, body: N['body']): N {
  const n = { ...(node as unknown as NodeFields) };
  n.body = body;
  return n as unknown as N;
}

/** A copy of a repeat with other bounds. */
export function withBounds(node: Extract<PyNode, { type: 'repeat' }>, min: number, max: number): PyNode {
  return repeatNode(min, max, node.mode, node.body);
}

/** Set items, like nodes, all of one shape. */
export function charItem(cp: number): SetItem {
  return { type: 'char', cp, lo: 0, hi: 0, cat: 'd' } as SetItem;
}

export function rangeItem(lo: number, hi: number): SetItem {
  return { type: 'range', cp: 0, lo, hi, cat: 'd' } as SetItem;
}

export function categoryItem(cat: Category): SetItem {
  return { type: 'category', cp: 0, lo: 0, hi: 0, cat } as SetItem;
}
