import type { EventBus } from '../../platform/bus/event-bus.js';
import { nowIso } from '../../platform/ids.js';
import type { LogLine, LogsRepository } from './logs.repository.js';
import type { SecretScrubber } from '../../platform/secret-scrubber.js';

export const runChannel = (runId: string) => `job-run:${runId}`;
export const MAX_LINE_CHARS = 8192;

/** What the bus carries on `job-run:<id>`: persisted lines, and status changes. */
export type RunMessage = { kind: 'log'; lines: LogLine[] } | { kind: 'status'; status: string; reason: string | null; attempt: number };

export interface RunLog {
  log(level: string, target: string | null, message: string): void;
  /** Persists and publishes everything logged so far. */
  flush(): Promise<void>;
  /** Flushes and returns the log state to store on the run. */
  close(): Promise<{ nextSeq: number; dropped: number }>;
}

export interface RunLogDeps {
  runId: string;
  /** The lease owner: lines are stored only while it holds the run (`logs.insert`). */
  owner: string;
  logs: Pick<LogsRepository, 'insert'>;
  bus: Pick<EventBus, 'publish'>;
  scrubber: SecretScrubber;
  maxLines: number;
  /** Sequence number of the next line (continues across attempts). */
  nextSeq: number;
  dropped: number;
  onError(err: unknown): void;
}

/**
 * A run's log: lines are scrubbed, numbered, batched, persisted, and only then published, so a
 * subscriber that reads the table after subscribing to the bus sees every line exactly once.
 * Batching is natural (whatever accumulated while the previous write ran), so latency stays
 * one database write. Past `maxLines` one truncation marker is written and the rest counted.
 */
export function createRunLog(deps: RunLogDeps): RunLog {
  let buffer: LogLine[] = [];
  let seq = deps.nextSeq;
  let dropped = deps.dropped;
  let flushing: Promise<void> | null = null;
  let markerWritten = seq > deps.maxLines + 1;

  async function writeLoop(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer;
      buffer = [];
      try {
        if (!(await deps.logs.insert(deps.runId, deps.owner, batch))) continue;
        await deps.bus.publish(runChannel(deps.runId), { kind: 'log', lines: batch } satisfies RunMessage);
      } catch (err) {
        deps.onError(err);
      }
    }
  }

  function schedule(): void {
    if (flushing) return;
    flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(writeLoop).finally(() => {
      flushing = null;
      if (buffer.length > 0) schedule();
    });
  }

  return {
    log(level, target, message) {
      if (seq > deps.maxLines) {
        if (!markerWritten) {
          markerWritten = true;
          buffer.push({
            seq: seq++,
            ts: nowIso(),
            level: 'warn',
            target: null,
            message: `log truncated: this run reached the limit of ${deps.maxLines} lines; further lines are dropped`,
          });
          schedule();
        }
        dropped++;
        return;
      }
      const text = deps.scrubber.scrub(message.length > MAX_LINE_CHARS ? `${message.slice(0, MAX_LINE_CHARS)}…` : message);
      buffer.push({ seq: seq++, ts: nowIso(), level, target, message: text });
      schedule();
    },
    async flush() {
      while (flushing || buffer.length > 0) {
        if (!flushing) schedule();
        await flushing;
      }
    },
    async close() {
      await this.flush();
      return { nextSeq: seq, dropped };
    },
  };
}
