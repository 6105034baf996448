import type { EventBus } from '../../platform/bus/index.js';
import type { Db } from '../../platform/db/database.js';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { attachLogTap, type Logger } from '../../platform/observability/logger.js';
import type { LiveChannel } from '../jobs/index.js';
import { levelsFrom, toEntry, type LogEntry, type LogLevel, type LogSource } from './system-logs.fns.js';
import { createSystemLogsRepository } from './system-logs.repository.js';

export const SYSTEM_LOG_CHANNEL = 'system.log';
const DAY_MS = 86_400_000;

export interface SystemLogsDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  /** This node's name in each entry. */
  node: string;
  /** The live `logs` settings: retention by age and count. */
  retention: () => { retention_days: number; max_rows: number };
  flushMs?: number;
  /** Lines waiting for the database beyond this are dropped (and counted), never blocking the logger. */
  maxPending?: number;
  pruneEveryMs?: number;
}

/**
 * The persisted system log: a logger tap queues warn+ lines (and info marked `persist`) and
 * writes them in batches; the write never blocks a log call and never logs into itself.
 */
export function createSystemLogs(deps: SystemLogsDeps) {
  const repo = createSystemLogsRepository(deps.db);
  const maxPending = deps.maxPending ?? 1000;
  let pending: LogEntry[] = [];
  let dropped = 0;
  let flushing: Promise<void> | null = null;
  const timers: NodeJS.Timeout[] = [];
  let detach: (() => void) | null = null;

  function tap(line: string): void {
    const entry = toEntry(line, deps.node);
    if (!entry) return;
    if (pending.length >= maxPending) dropped += 1;
    else pending.push(entry);
  }

  async function writeBatch(): Promise<void> {
    // A drop notice rides with the next real batch: a dead database is not retried every tick.
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    if (dropped > 0) {
      batch.push({ time: new Date().toISOString(), level: 'warn', source: 'api', node: deps.node, message: 'system log lines dropped', fields: { dropped } });
      dropped = 0;
    }
    try {
      await repo.insert(batch);
    } catch (err) {
      dropped += batch.length;
      deps.logger.warn({ err, nopersist: true }, 'system log write failed');
      return;
    }
    // Not awaited: a bus waiting for an absent Redis must not hold the next flush (or shutdown) back.
    deps.bus.publish(SYSTEM_LOG_CHANNEL, batch).catch(() => undefined);
  }

  function flush(): Promise<void> {
    flushing ??= writeBatch().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  async function prune(): Promise<number> {
    const r = deps.retention();
    return repo.prune(new Date(Date.now() - r.retention_days * DAY_MS).toISOString(), r.max_rows);
  }

  return {
    flush,
    prune,
    /** Taps the logger, writes every `flushMs`; `pruning`: this node applies retention (scheduler role). */
    start(pruning: boolean): void {
      detach = attachLogTap(deps.logger, tap);
      timers.push(setInterval(() => void flush(), deps.flushMs ?? 1000));
      if (pruning) {
        timers.push(
          setInterval(
            () => void prune().catch((err: unknown) => deps.logger.warn({ err, nopersist: true }, 'system log pruning failed')),
            deps.pruneEveryMs ?? 600_000,
          ),
        );
      }
      for (const t of timers) t.unref();
    },
    async stop(): Promise<void> {
      detach?.();
      for (const t of timers) clearInterval(t);
      await flush();
    },
    async list(
      actor: Actor,
      q: {
        level?: LogLevel | undefined;
        source?: LogSource | undefined;
        since?: string | undefined;
        q?: string | undefined;
        limit?: number | undefined;
        cursor?: string | undefined;
      },
    ) {
      requirePermission(actor, 'logs:read');
      const limit = q.limit ?? 50;
      const before = q.cursor ? Number(decodeCursor(q.cursor, 1)[0]) : undefined;
      const rows = await repo.list({ levels: levelsFrom(q.level ?? 'info'), source: q.source, since: q.since, q: q.q, before, limit: limit + 1 });
      const items = rows.slice(0, limit);
      return { items, next_cursor: rows.length > limit ? encodeCursor([items[items.length - 1]!.id]) : null };
    },
    /** The WebSocket channel `system.logs`: entries of every node as they are written (`logs:read`). */
    channel: {
      matches: (channel: string) => channel === 'system.logs',
      authorise: (actor: Actor) => requirePermission(actor, 'logs:read'),
      async subscribe(_actor: () => Actor, channel: string, _after: unknown, send: (msg: unknown) => boolean, onSlow: () => void) {
        const off = await deps.bus.subscribe(SYSTEM_LOG_CHANNEL, (entries) => {
          if (!send({ type: 'logs', channel, entries })) onSlow();
        });
        send({ type: 'subscribed', channel });
        return off;
      },
    } satisfies LiveChannel,
  };
}
export type SystemLogs = ReturnType<typeof createSystemLogs>;
