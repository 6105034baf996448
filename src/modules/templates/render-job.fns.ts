import { createJinja, PRODUCT_OPTIONS, TemplateError, type Jinja, type Limits } from './engine/index.js';
import type { ErrorKind } from './engine/index.js';

/** One render, as posted to a worker: the entry source, its variables, and the stored templates it may include. */
export interface RenderJob {
  source: string;
  name: string;
  vars: Record<string, unknown>;
  /** Stored templates by name; `include`/`import`/`extends` resolve only these. */
  templates: Record<string, string>;
}

export interface RenderFailure {
  kind: ErrorKind | 'internal';
  message: string;
  lineno: number | null;
  column: number | null;
  template: string | null;
}

export function createRenderer(limits: Partial<Limits>): (job: RenderJob) => string {
  const jinja: Jinja = createJinja({ ...PRODUCT_OPTIONS, limits });
  return (job) =>
    jinja.render(job.source, job.vars, (n) => (Object.prototype.hasOwnProperty.call(job.templates, n) ? (job.templates[n] as string) : null), job.name);
}

export function toFailure(err: unknown): RenderFailure {
  if (err instanceof TemplateError) return { kind: err.kind, message: err.message, lineno: err.lineno, column: err.column, template: err.template };
  return { kind: 'internal', message: 'the template engine failed', lineno: null, column: null, template: null };
}
