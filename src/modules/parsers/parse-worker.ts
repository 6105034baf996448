import { parentPort, workerData } from 'node:worker_threads';
import { codeSpaceBytes } from './code-space.js';
import { runParseJob, type ParseJob } from './parse-job.fns.js';
import { serializeError } from './parse-errors.fns.js';
import { createTemplateCache } from './textfsm/template-cache.js';

/** Worker-thread entry: runs parse jobs posted by parse-worker-pool.ts, one at a time. */
const cache = createTemplateCache();
const retireAtCodeBytes = (workerData as { retireAtCodeBytes?: number } | undefined)?.retireAtCodeBytes ?? Number.POSITIVE_INFINITY; // see code-space.ts

parentPort?.on('message', (message: { id: number; job: ParseJob }) => {
  try {
    const records = runParseJob(message.job, cache);
    parentPort?.postMessage({ id: message.id, ok: true, records, retire: codeSpaceBytes() > retireAtCodeBytes });
  } catch (err) {
    parentPort?.postMessage({ id: message.id, ok: false, error: serializeError(err), retire: codeSpaceBytes() > retireAtCodeBytes });
  }
});
// The pool starts a job's time budget only once the worker has loaded.
parentPort?.postMessage({ ready: true });
