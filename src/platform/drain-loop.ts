/**
 * The loop of a durable-outbox worker (webhook deliveries, notifications): `drain` runs batches
 * while any are due (concurrent calls coalesce into one more pass), and once started the loop
 * sleeps until the next row is due, at most `pollMs`, so rows another node wrote or a dead worker
 * left behind are picked up.
 */
export function createDrainLoop(deps: {
  /** Attempts one batch of due rows; the number it found. */
  drainOnce: () => Promise<number>;
  /** When the earliest pending row is due (ISO), or null. */
  nextDue: () => Promise<string | null>;
  pollMs: number;
  now?: () => number;
  onError: (err: unknown) => void;
}) {
  const now = deps.now ?? Date.now;
  let draining: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let running = false;

  function drain(): Promise<void> {
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      try {
        do {
          again = false;
          while ((await deps.drainOnce()) > 0) {
            // keep going while rows are due
          }
        } while (again);
      } catch (err) {
        deps.onError(err);
      } finally {
        draining = null;
      }
    })();
    return draining;
  }

  async function schedule(): Promise<void> {
    if (!running) return;
    const next = await deps.nextDue().catch(() => null);
    const wait = next ? Math.max(0, Math.min(deps.pollMs, Date.parse(next) - now())) : deps.pollMs;
    timer = setTimeout(() => void drain().finally(() => void schedule()), wait);
    timer.unref();
  }

  return {
    drain,
    running: () => running,
    start(): void {
      running = true;
      void drain().finally(() => void schedule());
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      await draining;
    },
  };
}
