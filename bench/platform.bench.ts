/** Platform baseline: /health and /api/v1/system/info through the whole HTTP stack. */
import { load, printResults, startServer } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const server = await startServer();
try {
  const results = [
    await load('GET /health', { url: `${server.url}/health`, seconds }),
    await load('GET /api/v1/system/info', { url: `${server.url}/api/v1/system/info`, seconds }),
    await load('GET /health/ready (SQLite ping)', { url: `${server.url}/health/ready`, seconds }),
  ];
  printResults(`platform (${seconds}s each, 10 connections)`, results);
} finally {
  await server.stop();
}
