/**
 * Long loops on the event loop (a bulk write of a thousand rows, a CSV import) hand the loop back
 * every `sliceMs`: `await slice()` in the loop yields one macrotask turn (timers, sockets, a health
 * probe) once the current slice has run that long, and is a no-op otherwise. Awaiting better-sqlite3
 * queries alone never yields: their promises settle as microtasks.
 */
export function timeSlicer(sliceMs = 10): () => Promise<void> | undefined {
  let started = performance.now();
  return () => {
    if (performance.now() - started < sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        started = performance.now();
        resolve();
      }),
    );
  };
}

/**
 * A wake-up called many times in a burst (a bus message per event of a thousand-row write) runs
 * `fn` once, on the next turn of the event loop, instead of once per call.
 */
export function oncePerTurn(fn: () => unknown): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void fn();
    });
  };
}
