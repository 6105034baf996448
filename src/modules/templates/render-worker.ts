import { parentPort, workerData } from 'node:worker_threads';
import { createRenderer, toFailure, type RenderJob } from './render-job.fns.js';

/** Worker-thread entry: renders jobs posted by render-pool.ts, one at a time, under the engine's limits. */
const render = createRenderer((workerData as { limits: object }).limits);

parentPort?.on('message', (message: { id: number; job: RenderJob }) => {
  try {
    parentPort?.postMessage({ id: message.id, ok: true, output: render(message.job) });
  } catch (err) {
    parentPort?.postMessage({ id: message.id, ok: false, error: toFailure(err) });
  }
});
parentPort?.postMessage({ ready: true });
