/**
 * Public surface of the parsers module: TextFSM engine, template libraries, native vendor parsers
 * and the parse service. Other modules import from here only.
 */
import { createParsersService, type ParsersServiceDeps } from './parsers.service.js';

export function createParsersModule(deps: ParsersServiceDeps) {
  const service = createParsersService(deps);
  return { service };
}
export type ParsersModule = ReturnType<typeof createParsersModule>;

export { createParsersService, DEFAULT_MAX_INPUT_BYTES } from './parsers.service.js';
export type { ParseInput, ParseResult, ParserSummary, ParsersService, ParsersServiceDeps, TemplateSummary } from './parsers.service.js';
export { createMemoryCustomTemplateStore } from './custom-template.store.js';
export type { CustomTemplate, CustomTemplateStore, MemoryCustomTemplateStore } from './custom-template.store.js';
export type { NativeParser, ParserCommand } from './parser-registry.js';
export { vendorParsers } from './vendor/index.js';
export * as parsersSchemas from './parsers.schemas.js';

// The synchronous, in-process engine (CLI, benchmarks).
export { compileTemplate } from './textfsm/textfsm-template.fns.js';
export type { CompiledTemplate } from './textfsm/textfsm-template.fns.js';
export { runTemplate } from './textfsm/textfsm-engine.fns.js';
export type { Cell, TextFsmTable } from './textfsm/textfsm-engine.fns.js';
export { parseToRecords } from './textfsm/ntc-records.fns.js';
export type { NtcRecord } from './textfsm/ntc-records.fns.js';
export { createTemplateCache } from './textfsm/template-cache.js';
export { TemplateError, TemplateNotFoundError, TextFsmError } from './textfsm/textfsm.errors.js';
