import { AppError } from '../../platform/errors.js';
import { createWorkerPool } from '../../platform/worker-pool.js';
import { RETIRE_AT_CODE_BYTES } from './code-space.js';
import { deserializeError, type SerializedError } from './parse-errors.fns.js';
import type { ParsedRecord, ParseJob } from './parse-job.fns.js';

/**
 * Parse jobs in worker threads under a time budget (the platform's budgeted pool,
 * platform/worker-pool.ts), so a regex that backtracks catastrophically cannot block the event
 * loop: an overrun terminates its worker (the only way to stop a running RegExp). A worker whose
 * V8 code space grew past `retireAtCodeBytes` asks to be replaced after its job.
 */
export interface ParseWorkerPool {
  run(job: ParseJob): Promise<ParsedRecord[]>;
  /** Workers started so far (first use, after a timeout, after a retirement). */
  started(): number;
  close(): Promise<void>;
}

export interface ParseWorkerPoolOptions {
  size?: number;
  /**
   * Budget per job, from the moment a worker picks it up. The default leaves room for posting
   * the job and the answer, so a parse that runs away is answered within one second.
   */
  timeoutMs?: number;
  /**
   * A worker whose V8 code space passes this is replaced after its job (see code-space.ts):
   * below V8's 16 MB, past which new RegExps are no longer optimised.
   */
  retireAtCodeBytes?: number;
}

type Reply = { ok: true; records: ParsedRecord[]; retire?: boolean } | { ok: false; error: SerializedError; retire?: boolean };

export function createParseWorkerPool(options: ParseWorkerPoolOptions = {}): ParseWorkerPool {
  const timeoutMs = options.timeoutMs ?? 950;
  return createWorkerPool<ParseJob, Reply, ParsedRecord[]>({
    module: { base: import.meta.url, name: 'parse-worker' },
    workerData: { retireAtCodeBytes: options.retireAtCodeBytes ?? RETIRE_AT_CODE_BYTES },
    size: options.size ?? 1,
    budgetMs: timeoutMs,
    onTimeout: () => new AppError('PARSER_TIMEOUT', 422, `Parsing took longer than ${timeoutMs} ms and was stopped`),
    decode: (reply) => (reply.ok ? reply.records : deserializeError(reply.error)),
    retire: (reply) => reply.retire === true,
    errors: {
      failed: (cause) =>
        new AppError('PARSER_WORKER_FAILED', 422, cause ? `The parser failed on this input: ${cause.message}` : 'The parser stopped while parsing this input'),
      unavailable: () => new AppError('PARSER_WORKER_UNAVAILABLE', 503, 'The parser worker could not start'),
      closed: () => new AppError('PARSER_POOL_CLOSED', 503, 'The parser pool is shut down'),
    },
  });
}
