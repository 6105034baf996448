import type { TSchema } from 'typebox';
import { expandCompletion } from './textfsm/clitable.fns.js';
import { compilePyRegex, isAsciiText, type PyRegex } from './textfsm/py-regex.fns.js';

/**
 * Opsdeck's own parsers (as opposed to TextFSM templates): each declares its id, the
 * platform/command pairs it answers for, a TypeBox schema of its output and a pure, synchronous
 * `parse`. Commands are written like an ntc-templates index row (`po[[rt]] sh[[ow]]$`) and
 * matched the same way, so `sh`-style abbreviations work for native parsers too.
 */
export interface ParserCommand {
  platform: string;
  command: string;
}

export interface NativeParser {
  id: string;
  description: string;
  commands: readonly ParserCommand[];
  /** Schema of the whole output: an array of records. */
  schema: TSchema;
  parse(text: string): Record<string, unknown>[];
}

export interface ParserRegistry {
  list(): readonly NativeParser[];
  get(id: string): NativeParser | null;
  find(attributes: { platform: string; command: string }): NativeParser | null;
}

export function createParserRegistry(parsers: readonly NativeParser[]): ParserRegistry {
  const byId = new Map<string, NativeParser>();
  const matchers: { parser: NativeParser; platform: PyRegex; command: PyRegex }[] = [];
  for (const parser of parsers) {
    if (byId.has(parser.id)) throw new Error(`duplicate parser id ${parser.id}`);
    byId.set(parser.id, parser);
    for (const c of parser.commands) {
      matchers.push({ parser, platform: compilePyRegex(c.platform), command: compilePyRegex(expandCompletion(c.command)) });
    }
  }
  const test = (re: PyRegex, value: string): boolean => (isAsciiText(value) ? re.ascii : re.unicode).test(value);
  return {
    list: () => [...byId.values()],
    get: (id) => byId.get(id) ?? null,
    find({ platform, command }) {
      const hit = matchers.find((m) => test(m.platform, platform) && test(m.command, command));
      return hit?.parser ?? null;
    },
  };
}
