/**
 * The syntax tree of a Python `re` pattern, as read by py-regex-parser.fns.ts and written out
 * as JavaScript by py-regex-emitter.fns.ts. Flags that change matching (IGNORECASE, DOTALL,
 * ASCII) are resolved at parse time and stored on the nodes they affect, so scoped flags
 * `(?i:…)` need no support from the JavaScript engine.
 */
export type Category = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type SetItem =
  | { type: 'char'; cp: number }
  | { type: 'range'; lo: number; hi: number }
  | { type: 'category'; cat: Category };

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
