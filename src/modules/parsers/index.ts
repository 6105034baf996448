/**
 * Public surface of the parsers module: TextFSM engine, template libraries, native vendor parsers,
 * user templates in the database, the parse service and its routes. Other modules import from here only.
 */
import type { RoutePlugin } from '../../app.js';
import type { Cache } from '../../platform/cache/index.js';
import type { Db } from '../../platform/db/database.js';
import { createCustomTemplatesService, type AuditPort } from './custom-templates.service.js';
import { createParsersService, type ParsersServiceDeps } from './parsers.service.js';
import { parsersRoutes } from './parsers.routes.js';
import { createRepositoryLibraries } from './repository-libraries.js';

export interface ParsersModuleDeps extends Omit<ParsersServiceDeps, 'customTemplates' | 'repositoryLibraries'> {
  /** User templates live in `parser_templates`. */
  db: Db;
  /** Caches the user-template list; cluster caches invalidate it on every node. */
  cache?: Pick<Cache, 'wrap' | 'invalidateTag'>;
  /** Identity's audit log: template changes are audited in their own transaction. */
  audit?: AuditPort;
  onError?: (err: unknown) => void;
}

export const PARSERS_PERMISSIONS = ['parsers:read', 'parsers:write'] as const;

export function createParsersModule(deps: ParsersModuleDeps) {
  const customTemplates = createCustomTemplatesService({
    db: deps.db,
    ...(deps.cache ? { cache: deps.cache } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const libraries = createRepositoryLibraries({
    db: deps.db,
    ...(deps.cache ? { cache: deps.cache } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
    check: (templates) => service.checkTemplates(templates),
  });
  const service = createParsersService({ ...deps, customTemplates: customTemplates.store, repositoryLibraries: libraries });
  const plugins: RoutePlugin[] = [{ prefix: '/api/v1', plugin: parsersRoutes(service, customTemplates) }];
  return {
    service,
    customTemplates,
    /** The `textfsm` repository feed (configs calls it after each sync; modules.ts wires it). */
    repositoryFeed: libraries.feed,
    plugins,
    permissions: PARSERS_PERMISSIONS,
    /** Stops the parse worker pool (on shutdown). */
    close: () => service.close(),
  };
}
export type ParsersModule = ReturnType<typeof createParsersModule>;

export { createParsersService, DEFAULT_MAX_INPUT_BYTES } from './parsers.service.js';
export type { ListPage, ParseInput, ParseResult, ParserDetail, ParserSummary, ParsersService, ParsersServiceDeps, TemplateSummary } from './parsers.service.js';
export { createCustomTemplatesService, checkTemplateContent } from './custom-templates.service.js';
export type { AuditPort, CustomTemplateInput, CustomTemplatesService, CustomTemplateView } from './custom-templates.service.js';
export { createMemoryCustomTemplateStore } from './custom-template.store.js';
export type { CustomTemplate, CustomTemplateStore, MemoryCustomTemplateStore } from './custom-template.store.js';
export type { NativeParser, ParserCommand } from './parser-registry.js';
export { vendorParsers } from './vendor/index.js';
export { runParseCommand, PARSE_HELP } from './parsers.cli.js';
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
