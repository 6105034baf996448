import type { EventBus } from '../../platform/bus/event-bus.js';
import type { Logger } from '../../platform/observability/logger.js';
import type { LogLine, LogsRepository } from './logs.repository.js';
import { runChannel, type RunMessage } from './run-log.js';
import { isTerminal } from './run-state.fns.js';
import type { RunsRepository } from './runs.repository.js';

/** What a live subscriber receives, in order. Returning false means "too slow": the hub drops it. */
export type LiveEvent = { kind: 'lines'; lines: LogLine[] } | { kind: 'status'; status: string; reason: string | null } | { kind: 'end'; status: string };
export type LiveSink = (event: LiveEvent) => boolean;

interface Subscriber {
  sink: LiveSink;
  lastSeq: number;
  /** Live lines that arrived while the backlog was being read. */
  pending: LogLine[] | null;
  ended: boolean;
  closed: boolean;
  onDrop: () => void;
}

const PAGE = 2000;

/**
 * Live logs for one node: one bus subscription per run however many local subscribers, each
 * fed first from the table (from the sequence it asks for), then from the bus. Lines are
 * published only after they are stored, so subscribing to the bus before reading the table
 * leaves no gap; sequence numbers remove the overlap. A subscriber whose transport falls
 * behind is dropped (it resumes with Last-Event-ID / `after`), so it cannot slow the others.
 */
export function createLiveLogs(deps: { bus: EventBus; logs: LogsRepository; runs: RunsRepository; logger: Logger }) {
  const rooms = new Map<string, { subs: Set<Subscriber>; unsubscribe: Promise<() => Promise<void>> }>();

  function deliver(s: Subscriber, event: LiveEvent): void {
    if (s.closed) return;
    if (!s.sink(event)) {
      s.closed = true;
      s.onDrop();
    }
  }

  function sendLines(s: Subscriber, lines: LogLine[]): void {
    // Usually all fresh: then every subscriber gets the same array, which the transport can
    // serialise once for all of them.
    const fresh = lines.length > 0 && lines[0]!.seq > s.lastSeq ? lines : lines.filter((l) => l.seq > s.lastSeq);
    if (fresh.length === 0) return;
    s.lastSeq = fresh[fresh.length - 1]!.seq;
    deliver(s, { kind: 'lines', lines: fresh });
  }

  async function catchUp(runId: string, s: Subscriber): Promise<void> {
    for (;;) {
      const page = await deps.logs.read(runId, s.lastSeq, PAGE);
      if (page.length > 0) sendLines(s, page);
      if (page.length < PAGE || s.closed) return;
    }
  }

  /** Reads the table up to what is buffered, then drains the buffer: used at subscribe and on a gap. */
  async function resync(runId: string, s: Subscriber, buffered: LogLine[] = []): Promise<void> {
    s.pending = [...(s.pending ?? []), ...buffered];
    try {
      await catchUp(runId, s);
    } finally {
      const pending = s.pending ?? [];
      s.pending = null;
      sendLines(
        s,
        pending.sort((a, b) => a.seq - b.seq),
      );
    }
  }

  async function finish(runId: string, s: Subscriber, status: string): Promise<void> {
    if (s.ended) return;
    s.ended = true;
    await catchUp(runId, s);
    deliver(s, { kind: 'end', status });
  }

  function onMessage(runId: string, message: RunMessage): void {
    const room = rooms.get(runId);
    if (!room) return;
    for (const s of room.subs) {
      if (message.kind === 'log') {
        if (s.pending) s.pending.push(...message.lines);
        else if (message.lines[0] && message.lines[0].seq > s.lastSeq + 1) void resync(runId, s, message.lines);
        else sendLines(s, message.lines);
      } else {
        deliver(s, { kind: 'status', status: message.status, reason: message.reason });
        if (isTerminal(message.status) && !s.pending) void finish(runId, s, message.status).catch(() => undefined);
      }
    }
  }

  return {
    /** Streams the run's lines after `afterSeq`, then live ones, then `end` once it finished. */
    async subscribe(runId: string, afterSeq: number, sink: LiveSink, onDrop: () => void): Promise<() => Promise<void>> {
      const s: Subscriber = { sink, lastSeq: afterSeq, pending: [], ended: false, closed: false, onDrop };
      let room = rooms.get(runId);
      if (!room) {
        room = { subs: new Set(), unsubscribe: deps.bus.subscribe(runChannel(runId), (m) => onMessage(runId, m as RunMessage)) };
        rooms.set(runId, room);
      }
      room.subs.add(s);
      await room.unsubscribe;
      await resync(runId, s);
      // Checked after the bus subscription is live: a terminal status published later arrives as a message.
      const run = await deps.runs.find(runId);
      if (run && isTerminal(run.status)) await finish(runId, s, run.status);
      return async () => {
        s.closed = true;
        const r = rooms.get(runId);
        if (!r) return;
        r.subs.delete(s);
        if (r.subs.size === 0) {
          rooms.delete(runId);
          await (
            await r.unsubscribe
          )();
        }
      };
    },
    roomCount: () => rooms.size,
  };
}

export type LiveLogs = ReturnType<typeof createLiveLogs>;
