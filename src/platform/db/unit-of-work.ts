import type { Db } from './database.js';

export interface TxContext {
  /** Runs after the transaction commits (never if it rolls back): enqueue jobs, publish events. */
  afterCommit(fn: () => void | Promise<void>): void;
}

export type UnitOfWork<R> = <T>(work: (repos: R, tx: TxContext) => Promise<T>) => Promise<T>;

/**
 * Runs work in one transaction with repositories rebound to it, so nothing inside can
 * forget the transaction. After-commit callbacks run in order; one failing is reported to
 * `onError` and does not undo the commit or stop the others.
 */
export function createUnitOfWork<R>(db: Db, makeRepos: (db: Db) => R, onError: (err: unknown) => void): UnitOfWork<R> {
  return async (work) => {
    const callbacks: (() => void | Promise<void>)[] = [];
    const result = await db.transaction().execute((trx) => work(makeRepos(trx), { afterCommit: (fn) => callbacks.push(fn) }));
    for (const fn of callbacks) {
      try {
        await fn();
      } catch (err) {
        onError(err);
      }
    }
    return result;
  };
}
