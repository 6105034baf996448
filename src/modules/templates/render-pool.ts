import { AppError } from '../../platform/errors.js';
import { createWorkerPool } from '../../platform/worker-pool.js';
import type { Limits } from './engine/index.js';
import type { RenderFailure, RenderJob } from './render-job.fns.js';

/**
 * Renders run in worker threads (the platform's budgeted pool, platform/worker-pool.ts), so a
 * template that runs away never blocks the event loop. The engine stops itself when its
 * step-counted budget is spent (`limit`); a worker that still has not answered `graceMs` later is
 * terminated and replaced, and the render answers the same limit failure.
 */
export type RenderResult = { ok: true; output: string } | { ok: false; error: RenderFailure };

export interface RenderPool {
  render(job: RenderJob): Promise<RenderResult>;
  close(): Promise<void>;
}

export function createRenderPool(limits: Limits, size = 2, graceMs = 500): RenderPool {
  const pool = createWorkerPool<RenderJob, RenderResult, RenderResult>({
    module: { base: import.meta.url, name: 'render-worker' },
    workerData: { limits },
    size,
    budgetMs: limits.timeoutMs + graceMs,
    onTimeout: () => ({
      ok: false,
      error: { kind: 'limit', message: `rendering took longer than ${limits.timeoutMs} ms and was stopped`, lineno: null, column: null, template: null },
    }),
    decode: (reply) => (reply.ok ? { ok: true, output: reply.output } : { ok: false, error: reply.error }),
    errors: {
      failed: (cause) =>
        new AppError('TEMPLATE_WORKER_FAILED', 500, cause ? `The template renderer failed: ${cause.message}` : 'The template renderer stopped'),
      unavailable: () => new AppError('TEMPLATE_WORKER_UNAVAILABLE', 503, 'The template renderer could not start'),
      closed: () => new AppError('TEMPLATE_POOL_CLOSED', 503, 'The template renderer is shut down'),
    },
  });
  return { render: (job) => pool.run(job), close: () => pool.close() };
}
