import { compileTemplate, type CompiledTemplate } from './textfsm-template.fns.js';
import { TemplateError } from './textfsm.errors.js';

/**
 * Compiled templates keyed by their text, so a template is compiled once per process (per worker
 * thread) however it is named or wherever it comes from. Rejections are cached too: a bad
 * template fails fast on every later request. Oldest entries go first past `max`.
 */
export interface TemplateCache {
  get(content: string): CompiledTemplate;
  readonly size: number;
}

export function createTemplateCache(max = 2048): TemplateCache {
  const entries = new Map<string, CompiledTemplate | TemplateError>();
  return {
    get(content) {
      let entry = entries.get(content);
      if (entry === undefined) {
        try {
          entry = compileTemplate(content);
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          entry = err;
        }
        if (entries.size >= max) entries.delete(entries.keys().next().value as string);
        entries.set(content, entry);
      }
      if (entry instanceof TemplateError) throw entry;
      return entry;
    },
    get size() {
      return entries.size;
    },
  };
}
