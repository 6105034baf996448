import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { withStatementCache } from './statement-cache.js';

/**
 * One read connection in its own thread (sqlite-readers.ts): read-only, so it can neither write
 * nor create a file, and each statement is its own read transaction, which under WAL sees every
 * transaction committed before it starts.
 */
const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
const sqlite = new SQLite(file, { readonly: true, fileMustExist: true });
sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
const statements = withStatementCache(sqlite);

export interface ReadJob {
  sql: string;
  parameters: readonly unknown[];
}

export type ReadReply = { ok: true; rows: unknown[]; blobs: boolean } | { ok: false; error: { message: string; code: string | undefined } };

function hasBlob(rows: Record<string, unknown>[]): boolean {
  for (const row of rows) for (const key in row) if (Buffer.isBuffer(row[key])) return true;
  return false;
}

parentPort?.on('message', (message: { id: number; job: ReadJob }) => {
  let reply: ReadReply;
  try {
    const rows = statements.prepare(message.job.sql).all(message.job.parameters) as Record<string, unknown>[];
    reply = { ok: true, rows, blobs: hasBlob(rows) };
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    reply = { ok: false, error: { message: String(e.message ?? err), code: typeof e.code === 'string' ? e.code : undefined } };
  }
  parentPort?.postMessage({ id: message.id, ...reply });
});
// NOTE: when the pool terminates this thread, better-sqlite3 closes the connection in its
// environment clean-up hook, so the last connection (the writer) can checkpoint and remove the WAL.
parentPort?.postMessage({ ready: true });
