import { leadingSpaces, type Lead } from './py-regex-lead.fns.js';
import { hasCount, type CharCount } from './py-regex-precheck.fns.js';
import type { PyRegex } from './py-regex.fns.js';
import type { SegmentMatchFn } from './py-regex-segments.fns.js';
import { createLineReader } from './py-text.fns.js';
import type { CompiledTemplate, TemplateRule } from './textfsm-template.fns.js';
import { TextFsmError } from './textfsm.errors.js';

/**
 * Runs a compiled template over text (SEMANTICS.md §6–§7): the reference's ParseText on a fresh
 * parser. Everything that can be decided per template is decided once, in `prepare()`, and
 * cached on the template object; the per-line loop only executes regexes and moves values.
 */
export type ListItem = string | null | Readonly<Record<string, string | null>>;
export type Cell = string | ListItem[];

export interface TextFsmTable {
  header: readonly string[];
  rows: Cell[][];
}

const END = -2;
const EOF = -3;
const STAY = -1;
const NEXT = 0;
const CONTINUE = 1;
const ERROR = 2;
const NO_RECORD = 0;
const RECORD = 1;
const CLEAR = 2;
const CLEARALL = 3;
const SAVE_REQUIRED = 1;
const SAVE_LIST = 2;

interface PreparedRule {
  readonly source: TemplateRule;
  readonly regex: PyRegex;
  // The regex's pre-checks (PreChecks), copied in when a parse first enters the rule's state.
  /** A literal any match contains; lines without it skip the RegExp. */
  needle: string | null;
  minLength: number;
  lead: Lead | null;
  charCount: CharCount | null;
  tail: RegExp | null;
  segmented: SegmentMatchFn | null;
  /** Pairs of (JavaScript group number, Value index), in Python group order. */
  readonly assign: Int32Array;
  readonly lineOp: number;
  readonly recordOp: number;
  readonly target: number;
}

interface PreparedState {
  readonly rules: PreparedRule[];
  /**
   * For ASCII lines, by the line's first non-space character (128: none), the rules whose lead
   * allows it, in order; filled in as lines need them. The other rules cannot match such a line.
   */
  readonly byLead: (PreparedRule[] | undefined)[];
  /** Whether the rules' pre-checks are filled in. */
  ready: boolean;
}

interface PreparedTemplate {
  readonly states: PreparedState[];
  readonly start: number;
  readonly eofRecord: boolean;
  readonly filldown: Uint8Array;
  readonly fillup: Uint8Array;
  readonly list: Uint8Array;
  /** Per Value, its save hooks (Required / List) in option order. */
  readonly saveOps: Uint8Array[];
  /** Per List Value with nested named groups: its compiled regex, else null. */
  readonly nested: (PyRegex | null)[];
}

const prepared = new WeakMap<CompiledTemplate, PreparedTemplate>();

function prepare(template: CompiledTemplate): PreparedTemplate {
  const cached = prepared.get(template);
  if (cached) return cached;
  const names = [...template.states.keys()];
  const valueIndex = new Map(template.values.map((v, i) => [v.name, i]));
  const states = names.map(
    (name): PreparedState => ({
      byLead: [],
      ready: false,
      rules: (template.states.get(name) ?? []).map((rule): PreparedRule => {
        const assign: number[] = [];
        for (const group of rule.compiled.namedGroups) {
          const vi = valueIndex.get(group.name);
          if (vi !== undefined) assign.push(group.jsIndex, vi);
        }
        const target =
          rule.lineOp === 'Error' || rule.newState === '' ? STAY : rule.newState === 'End' ? END : rule.newState === 'EOF' ? EOF : names.indexOf(rule.newState);
        return {
          source: rule,
          regex: rule.compiled,
          needle: null,
          minLength: 0,
          lead: null,
          charCount: null,
          tail: null,
          segmented: null,
          assign: Int32Array.from(assign),
          lineOp: rule.lineOp === 'Next' ? NEXT : rule.lineOp === 'Continue' ? CONTINUE : ERROR,
          recordOp: rule.recordOp === 'Record' ? RECORD : rule.recordOp === 'Clear' ? CLEAR : rule.recordOp === 'Clearall' ? CLEARALL : NO_RECORD,
          target,
        };
      }),
    }),
  );
  const has = (option: string): Uint8Array => Uint8Array.from(template.values, (v) => (v.options.includes(option as never) ? 1 : 0));
  const result: PreparedTemplate = {
    states,
    start: names.indexOf('Start'),
    eofRecord: !template.hasEofState,
    filldown: has('Filldown'),
    fillup: has('Fillup'),
    list: has('List'),
    saveOps: template.values.map((v) =>
      Uint8Array.from(
        v.options.filter((o) => o === 'Required' || o === 'List'),
        (o) => (o === 'Required' ? SAVE_REQUIRED : SAVE_LIST),
      ),
    ),
    nested: template.values.map((v) => (v.options.includes('List') && v.compiled.groupCount > 1 && v.compiled.namedGroups.length > 0 ? v.compiled : null)),
  };
  prepared.set(template, result);
  return result;
}

/** Fills in the pre-checks of a state's rules (analysed by each PyRegex on first use). */
function readyState(state: PreparedState): void {
  for (const rule of state.rules) {
    const checks = rule.regex.checks;
    rule.needle = checks.needle;
    rule.minLength = checks.minLength;
    rule.lead = checks.lead;
    rule.charCount = checks.charCount;
    rule.tail = checks.tail;
    rule.segmented = checks.segmented;
  }
  state.ready = true;
}

type Current = string | null | ListItem[];

/** The mutable state of one parse: the row being built and the rows recorded so far. */
interface Run {
  readonly p: PreparedTemplate;
  readonly names: readonly string[];
  /** Whether the current line needs the unicode dialect. */
  unicode: boolean;
  readonly n: number;
  readonly current: Current[];
  /** Filldown memory. */
  readonly remembered: (string | null)[];
  readonly lists: ListItem[][];
  readonly rows: Cell[][];
}

/** Parses `text` with `template`; throws TextFsmError when an `Error` rule fires. */
export function runTemplate(template: CompiledTemplate, text: string): TextFsmTable {
  const p = prepare(template);
  const n = template.values.length;
  const reader = createLineReader(text);
  const run: Run = {
    p,
    names: template.header,
    unicode: false,
    n,
    current: new Array<Current>(n).fill(null),
    remembered: new Array<string | null>(n).fill(null),
    lists: [],
    rows: [],
  };
  for (let i = 0; i < n; i++) run.lists.push([]);
  let state = p.states[p.start] as PreparedState;
  if (!state.ready) readyState(state);
  let stateIndex = p.start;
  lineLoop: for (let line = reader.next(); line !== null; line = reader.next()) {
    // The ASCII dialect is exact on ASCII subjects: decided per line, as lines are read.
    const unicode = (run.unicode = !reader.ascii);
    let rules = state.rules;
    let spaces = 0;
    if (!unicode) {
      spaces = leadingSpaces(line);
      const first = spaces < line.length ? line.charCodeAt(spaces) : 128;
      rules = state.byLead[first] ?? leadCandidates(state, first);
    }
    for (let ri = 0; ri < rules.length; ri++) {
      const rule = rules[ri] as PreparedRule;
      if (line.length < rule.minLength) continue;
      if (rule.lead !== null && !unicode && (spaces < rule.lead.min || spaces > rule.lead.max)) continue;
      if (rule.needle !== null && !line.includes(rule.needle)) continue;
      if ((rule.charCount !== null && !hasCount(line, rule.charCount)) || (rule.tail !== null && !unicode && !rule.tail.test(line))) continue;
      // Rules without Values only need a yes/no: test() allocates no match array.
      if (rule.assign.length === 0) {
        if (!(unicode ? rule.regex.unicode.test(line) : rule.segmented ? rule.segmented(line) !== null : rule.regex.ascii.test(line))) continue;
      } else if (!assignFrom(run, rule, line)) continue;
      if (rule.recordOp === RECORD) appendRecord(run);
      else if (rule.recordOp === CLEAR) clearRecord(run);
      else if (rule.recordOp === CLEARALL) clearAll(run);
      if (rule.lineOp === CONTINUE) continue;
      if (rule.lineOp === ERROR) throw ruleError(rule.source, line);
      if (rule.target === END || rule.target === EOF) {
        stateIndex = rule.target;
        break lineLoop;
      }
      if (rule.target !== STAY) {
        stateIndex = rule.target;
        state = p.states[stateIndex] as PreparedState;
        if (!state.ready) readyState(state);
      }
      break;
    }
  }
  if (stateIndex !== END && p.eofRecord) appendRecord(run);
  return { header: template.header, rows: run.rows };
}

/** The state's rules that an ASCII line whose first non-space character is `first` (128: none) can match. */
function leadCandidates(state: PreparedState, first: number): PreparedRule[] {
  const rules = state.rules.filter((rule) => rule.lead === null || (first < 128 && rule.lead.chars[first] === 1));
  state.byLead[first] = rules;
  return rules;
}

/** Runs the rule's own regex and assigns its Values; false if it does not match. */
function assignFrom(run: Run, rule: PreparedRule, line: string): boolean {
  const re = rule.regex;
  let m: ArrayLike<string | undefined> | null = run.unicode ? re.unicode.exec(line) : rule.segmented ? rule.segmented(line) : re.ascii.exec(line);
  if (m === null) return false;
  if (rule.regex.repeatedGroups.length > 0 && anyUnset(m, rule.regex.repeatedGroups)) m = rule.regex.pythonMatch(line, run.unicode ? null : m) ?? m;
  const a = rule.assign;
  for (let k = 0; k < a.length; k += 2) assign(run, a[k + 1] as number, m[a[k] as number] ?? null);
  return true;
}

function assign(run: Run, i: number, value: string | null): void {
  const p = run.p;
  run.current[i] = value;
  if (p.filldown[i]) run.remembered[i] = value;
  if (p.fillup[i] && value) {
    for (let r = run.rows.length - 1; r >= 0; r--) {
      const row = run.rows[r] as Cell[];
      if (isTruthy((row[i] ?? null) as Current)) break;
      row[i] = value;
    }
  }
  if (p.list[i]) (run.lists[i] as ListItem[]).push(listItem(p.nested[i] ?? null, value, run.names[i] ?? '', run.unicode));
}

function clearRecord(run: Run): void {
  const p = run.p;
  for (let i = 0; i < run.n; i++) {
    run.current[i] = p.filldown[i] ? (run.remembered[i] ?? null) : null;
    if (p.list[i] && !p.filldown[i]) run.lists[i] = [];
  }
}

function clearAll(run: Run): void {
  for (let i = 0; i < run.n; i++) {
    run.current[i] = null;
    run.remembered[i] = null;
    run.lists[i] = [];
  }
}

function appendRecord(run: Run): void {
  const { n, current, p } = run;
  if (n === 0) return;
  let empty = true;
  for (let i = 0; i < n; i++) {
    const ops = p.saveOps[i] as Uint8Array;
    for (let k = 0; k < ops.length; k++) {
      if (ops[k] === SAVE_LIST) current[i] = (run.lists[i] as ListItem[]).slice();
      else if (!isTruthy(current[i] ?? null)) {
        clearRecord(run);
        return;
      }
    }
    const v = current[i];
    if (v !== null && !(Array.isArray(v) && v.length === 0)) empty = false;
  }
  if (empty) return;
  const row = new Array<Cell>(n);
  for (let i = 0; i < n; i++) row[i] = (current[i] ?? '') as Cell;
  run.rows.push(row);
  clearRecord(run);
}

function anyUnset(m: ArrayLike<string | undefined>, groups: Int32Array): boolean {
  for (let i = 0; i < groups.length; i++) if (m[groups[i] as number] === undefined) return true;
  return false;
}

function isTruthy(v: Current | Cell): boolean {
  return v !== null && v.length > 0;
}

function listItem(nested: PyRegex | null, value: string | null, name: string, unicode: boolean): ListItem {
  if (nested === null) return value;
  if (value === null) {
    // NOTE: the reference crashes here with a Python TypeError; we fail the parse cleanly instead.
    throw new TextFsmError(`List Value '${name}' has nested groups but did not take part in the match`);
  }
  const m = (unicode ? nested.unicode : nested.ascii).exec(value);
  if (m === null) return value;
  const dict: Record<string, string | null> = {};
  for (const group of nested.namedGroups) dict[group.name] = m[group.jsIndex] ?? null;
  return dict;
}

function ruleError(rule: TemplateRule, line: string): TextFsmError {
  if (rule.newState) return new TextFsmError(`Error: ${rule.newState}. Rule Line: ${rule.line}. Input Line: ${line}.`, rule.line);
  return new TextFsmError(`State Error raised. Rule Line: ${rule.line}. Input Line: ${line}`, rule.line);
}
