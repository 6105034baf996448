import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { runParseJob, type ParseJob } from './parse-job.fns.js';
import { serializeError } from './parse-errors.fns.js';
import { createTemplateCache } from './textfsm/template-cache.js';

/** Worker-thread entry: runs parse jobs posted by parse-worker-pool.ts, one at a time. */
const cache = createTemplateCache();
const retireAtCodeBytes = (workerData as { retireAtCodeBytes?: number } | undefined)?.retireAtCodeBytes ?? Number.POSITIVE_INFINITY;

/**
 * Past 16 MB of executable code (and 1 MB of RegExp code), V8 compiles every new RegExp without
 * its optimisations (`TooMuchRegExpCode` in regexp.cc): a worker that has compiled much of a
 * large template library would parse new templates up to 3x slower. It asks to be replaced.
 */
function codeBytes(): number {
  return v8.getHeapSpaceStatistics().filter((s) => s.space_name.startsWith('code')).reduce((n, s) => n + s.space_used_size, 0);
}

parentPort?.on('message', (message: { id: number; job: ParseJob }) => {
  try {
    const records = runParseJob(message.job, cache);
    parentPort?.postMessage({ id: message.id, ok: true, records, retire: codeBytes() > retireAtCodeBytes });
  } catch (err) {
    parentPort?.postMessage({ id: message.id, ok: false, error: serializeError(err), retire: codeBytes() > retireAtCodeBytes });
  }
});
// The pool starts a job's time budget only once the worker has loaded.
parentPort?.postMessage({ ready: true });
