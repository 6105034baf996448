/* eslint-disable no-control-regex -- Python's whitespace and line-break sets include control characters. */
import { compilePyRegex, PyRegexError, type PyRegex } from './py-regex.fns.js';
import { isPySpace, pyRstrip, pyStrip } from './py-text.fns.js';
import { substituteValues } from './template-substitute.fns.js';
import { TemplateError } from './textfsm.errors.js';

/**
 * Reads TextFSM template text into a checked state machine, rejecting what the reference rejects
 * with the reference's message and line number (SEMANTICS.md §1–§5, §8). Value regexes follow
 * textfsm 2.1.0 (what ntc-templates pins): wrapped in one `(…)` and compiled at load.
 */
export type ValueOption = 'Filldown' | 'Fillup' | 'Required' | 'List' | 'Key';
export type LineOp = 'Next' | 'Continue' | 'Error';
export type RecordOp = 'NoRecord' | 'Record' | 'Clear' | 'Clearall';

export interface TemplateValue {
  readonly name: string;
  readonly regex: string;
  readonly options: readonly ValueOption[];
  /** Compiled Value regex; used to split List values with nested named groups. */
  readonly compiled: PyRegex;
}

export interface TemplateRule {
  /** 1-based template line. */
  readonly line: number;
  /** The rule's regex as written (before `${Value}` substitution). */
  readonly match: string;
  /** After substitution: the Python regex actually compiled. */
  readonly regex: string;
  readonly compiled: PyRegex;
  readonly lineOp: LineOp;
  readonly recordOp: RecordOp;
  /** Target state, '' for "stay"; for `Error` the error message (quotes kept). */
  readonly newState: string;
}

export interface CompiledTemplate {
  readonly values: readonly TemplateValue[];
  readonly header: readonly string[];
  /** States in declaration order (End removed, EOF kept if declared). */
  readonly states: ReadonlyMap<string, readonly TemplateRule[]>;
  readonly hasEofState: boolean;
  /** Names of `Key` Values, used by clitable to merge tables. */
  readonly keys: readonly string[];
}

const OPTIONS: ReadonlySet<string> = new Set(['Filldown', 'Fillup', 'Required', 'List', 'Key']);
const RESERVED_STATES: ReadonlySet<string> = new Set(['Continue', 'Next', 'Error', 'Clear', 'Clearall', 'Record', 'NoRecord']);
const MAX_NAME_LEN = 48;
const COMMENT = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#/;
const STATE_NAME = /^[\p{L}\p{N}_]+$/u;
const WORD_START = /^[\p{L}\p{N}_]/u;
const S = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const NEW_STATE = `(${S}+([\\p{L}\\p{N}_]+|".*"))?$`;
const ACTION_RES = [
  new RegExp(`^${S}+(Continue|Next|Error)(\\.(Clear|Clearall|Record|NoRecord))?${NEW_STATE}`, 'u'),
  new RegExp(`^${S}+()()(Clear|Clearall|Record|NoRecord)${NEW_STATE}`, 'u'),
  new RegExp(`^()()()${NEW_STATE}`, 'u'),
];

/** Parses and checks `text`; throws TemplateError on the first problem, as the reference does. */
export function compileTemplate(text: string): CompiledTemplate {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  let n = 0;
  const values: TemplateValue[] = [];
  const valueMap = new Map<string, string>();

  for (; n < lines.length; ) {
    const line = pyRstrip(lines[n++] ?? '');
    if (line === '') break;
    if (COMMENT.test(line)) continue;
    if (!line.startsWith('Value ')) {
      if (values.length === 0) throw new TemplateError('No Value definitions found.', n);
      throw new TemplateError(`Expected blank line after last Value entry. Line: ${n}.`, n);
    }
    const value = parseValue(line, n);
    if (valueMap.has(value.name)) throw new TemplateError(`Duplicate declarations for Value '${value.name}'. Line: ${n}.`, n);
    values.push(value);
    valueMap.set(value.name, `(?P<${value.name}>${value.regex.slice(1)}`);
  }

  const states = new Map<string, TemplateRule[]>();
  while (n < lines.length) {
    let name = '';
    while (n < lines.length) {
      const line = pyRstrip(lines[n++] ?? '');
      if (line === '' || COMMENT.test(line)) continue;
      if (!STATE_NAME.test(line) || Array.from(line).length > MAX_NAME_LEN || RESERVED_STATES.has(line)) {
        throw new TemplateError(`Invalid state name: '${line}'. Line: ${n}`, n);
      }
      if (states.has(line)) throw new TemplateError(`Duplicate state name: '${line}'. Line: ${n}`, n);
      name = line;
      break;
    }
    if (name === '') break;
    const rules: TemplateRule[] = [];
    states.set(name, rules);
    while (n < lines.length) {
      const line = pyRstrip(lines[n++] ?? '');
      if (line === '') break;
      if (COMMENT.test(line)) continue;
      if (!(line.startsWith(' ^') || line.startsWith('  ^') || line.startsWith('\t^'))) {
        throw new TemplateError(`Missing white space or carat ('^') before rule. Line: ${n}`, n);
      }
      rules.push(parseRule(line, n, valueMap));
    }
  }

  validate(states);
  states.delete('End');
  return {
    values,
    header: values.map((v) => v.name),
    states,
    hasEofState: states.has('EOF'),
    keys: values.filter((v) => v.options.includes('Key')).map((v) => v.name),
  };
}

function parseValue(line: string, n: number): TemplateValue {
  const tokens = line.split(' ');
  if (tokens.length < 3) throw new TemplateError(`Expect at least 3 tokens on line. Line ${n}.`, n);
  const options: ValueOption[] = [];
  let name: string;
  let regex: string;
  if (!(tokens[2] ?? '').startsWith('(')) {
    for (const option of (tokens[1] ?? '').split(',')) {
      if (options.includes(option as ValueOption)) throw new TemplateError(`Duplicate option "${option}" Line ${n}.`, n);
      if (!OPTIONS.has(option)) throw new TemplateError(`Unknown option "${option}" Line ${n}.`, n);
      options.push(option as ValueOption);
    }
    name = tokens[2] ?? '';
    regex = tokens.slice(3).join(' ');
  } else {
    name = tokens[1] ?? '';
    regex = tokens.slice(2).join(' ');
  }
  if (Array.from(name).length > MAX_NAME_LEN) throw new TemplateError(`Invalid Value name '${name}' or name too long. Line ${n}.`, n);
  if (!regex.startsWith('(') || !regex.endsWith(')') || regex.at(-2) === '\\') {
    throw new TemplateError(`Value '${regex}' must be contained within a '()' pair. Line ${n}.`, n);
  }
  let compiled: PyRegex;
  try {
    compiled = compilePyRegex(regex);
  } catch (err) {
    throw regexError(err, `${(err as Error).message} Line ${n}.`, n);
  }
  return { name, regex, options, compiled };
}

function parseRule(rawLine: string, n: number, valueMap: ReadonlyMap<string, string>): TemplateRule {
  const line = pyStrip(rawLine);
  let match = line;
  let action: string | null = null;
  for (let i = line.length - 3; i >= 0; i--) {
    if (line[i + 1] === '-' && line[i + 2] === '>' && isPySpace(line[i] ?? '')) {
      match = line.slice(0, i);
      action = line.slice(i + 3);
      break;
    }
  }
  const regex = substituteValues(match, valueMap);
  if (regex === null) throw new TemplateError(`Duplicate or invalid variable substitution: '${match}'. Line: ${n}.`, n);
  let compiled: PyRegex;
  try {
    compiled = compilePyRegex(regex);
  } catch (err) {
    throw regexError(err, `Invalid regular expression: '${regex}'. Line: ${n}.`, n);
  }
  if (action === null) return { line: n, match, regex, compiled, lineOp: 'Next', recordOp: 'NoRecord', newState: '' };
  let parts: RegExpExecArray | null = null;
  for (const re of ACTION_RES) {
    parts = re.exec(action);
    if (parts !== null) break;
  }
  if (parts === null) throw new TemplateError(`Badly formatted rule '${line}'. Line: ${n}.`, n);
  const lineOp = (parts[1] || 'Next') as LineOp;
  const recordOp = (parts[3] || 'NoRecord') as RecordOp;
  const newState = parts[5] ?? '';
  if (parts[1] === 'Continue' && newState) throw new TemplateError(`Action 'Continue' with new state ${newState} specified. Line: ${n}.`, n);
  if (lineOp !== 'Error' && newState && !WORD_START.test(newState)) {
    throw new TemplateError(`Alphanumeric characters only in state names. Line: ${n}.`, n);
  }
  return { line: n, match, regex, compiled, lineOp, recordOp, newState };
}

function regexError(err: unknown, message: string, n: number): TemplateError {
  if (err instanceof PyRegexError && err.unsupported) {
    return new TemplateError(`Unsupported regular expression construct: ${err.message}. Line: ${n}.`, n, err.message, 'PARSER_TEMPLATE_UNSUPPORTED');
  }
  return new TemplateError(message, n, (err as Error).message);
}

function validate(states: ReadonlyMap<string, readonly TemplateRule[]>): void {
  if (!states.has('Start')) throw new TemplateError("Missing state 'Start'.", null);
  if ((states.get('End')?.length ?? 0) > 0) throw new TemplateError("Non-Empty 'End' state.", null);
  if ((states.get('EOF')?.length ?? 0) > 0) throw new TemplateError("Non-Empty 'EOF' state.", null);
  for (const [state, rules] of states) {
    for (const rule of rules) {
      if (rule.lineOp === 'Error' || !rule.newState || rule.newState === 'End' || rule.newState === 'EOF') continue;
      if (!states.has(rule.newState)) {
        throw new TemplateError(`State '${rule.newState}' not found, referenced in state '${state}'`, rule.line);
      }
    }
  }
}
