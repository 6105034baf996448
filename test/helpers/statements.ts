import SQLite from 'better-sqlite3';
import pg from 'pg';

/**
 * Counts SQL statements sent to the database by this process, on both dialects, at the driver:
 * every better-sqlite3 statement run (BEGIN and COMMIT included) and every pg query (Kysely's,
 * the prepared writes of `writeAtomically`, transaction control). `count(work)` returns the
 * statements run while `work` ran, and their text. Statements of other work running at the same
 * time count too: measure with nothing else in flight.
 */
export function statementCounter() {
  const seen: string[] = [];
  let on = false;
  const probe = new SQLite(':memory:');
  const Statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  const restores: (() => void)[] = [];
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    const original = Statement[method] as (...args: unknown[]) => unknown;
    Statement[method] = function (this: { source: string }, ...args: unknown[]) {
      if (on) seen.push(this.source);
      return original.apply(this, args);
    };
    restores.push(() => (Statement[method] = original));
  }
  const proto = pg.Client.prototype as unknown as Record<string, unknown>;
  const query = proto.query as (...args: unknown[]) => unknown;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    if (on) seen.push(typeof q === 'string' ? q : (q.text ?? '?'));
    return query.apply(this, args);
  };
  restores.push(() => (proto.query = query));
  return {
    async count(work: () => Promise<unknown>): Promise<{ n: number; sql: string[] }> {
      seen.length = 0;
      on = true;
      try {
        await work();
      } finally {
        on = false;
      }
      return { n: seen.length, sql: [...seen] };
    },
    restore(): void {
      for (const r of restores) r();
    },
  };
}
