import { AppError } from '../../platform/errors.js';
import { createParserRegistry } from './parser-registry.js';
import { parseToRecords } from './textfsm/ntc-records.fns.js';
import { compileTemplate } from './textfsm/textfsm-template.fns.js';
import { TemplateError } from './textfsm/textfsm.errors.js';
import type { TemplateCache } from './textfsm/template-cache.js';
import { vendorParsers } from './vendor/index.js';

/**
 * One unit of parsing work, self-contained (template texts travel with it) so it runs the same
 * in a worker thread and in process. Records are plain JSON-able objects.
 */
export type ParseJob =
  | { kind: 'textfsm'; templates: { name: string; content: string }[]; text: string }
  | { kind: 'native'; parser: string; text: string }
  /** Compiles templates (a library being loaded); answers one record per template that failed. */
  | { kind: 'check'; templates: { name: string; content: string }[]; text: '' };

export type ParsedRecord = Record<string, unknown>;

const registry = createParserRegistry(vendorParsers);

export function runParseJob(job: ParseJob, cache: TemplateCache): ParsedRecord[] {
  if (job.kind === 'native') {
    const parser = registry.get(job.parser);
    if (parser === null) throw new AppError('PARSER_NOT_FOUND', 404, `Unknown parser '${job.parser}'`);
    return parser.parse(job.text);
  }
  if (job.kind === 'check') return job.templates.flatMap((t) => checkOne(t.name, t.content));
  const templates = job.templates.map((t) => ({ name: t.name, template: cache.get(t.content) }));
  return parseToRecords(templates, job.text);
}

/** Compiled afresh, not through the cache: a library load must not fill it with templates no parse asked for. */
function checkOne(name: string, content: string): ParsedRecord[] {
  try {
    compileTemplate(content);
    return [];
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return [{ template: name, line: err.line, message: err.detail ? `${err.message} (${err.detail})` : err.message }];
  }
}
