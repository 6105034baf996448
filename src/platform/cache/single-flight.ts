interface Flight {
  readonly promise: Promise<unknown>;
  readonly tags: readonly string[];
}

/**
 * Shares one in-flight load per key. `forgetKey`/`forgetTag` detach flights made stale by a
 * delete or an invalidation, so callers arriving afterwards start a fresh load instead of
 * joining one that began before the invalidation.
 */
export function createSingleFlight() {
  const flights = new Map<string, Flight>();

  return {
    /** `load` receives `isCurrent()`: false once the flight was forgotten, i.e. its result may be stale. */
    run<T>(key: string, tags: readonly string[], load: (isCurrent: () => boolean) => Promise<T>): Promise<T> {
      const existing = flights.get(key);
      if (existing !== undefined) {
        return existing.promise as Promise<T>;
      }
      // isCurrent closes over flight before it is assigned below.
      // eslint-disable-next-line prefer-const
      let flight: Flight | undefined;
      const isCurrent = (): boolean => flight !== undefined && flights.get(key) === flight;
      // The async wrapper turns a synchronous throw in `load` into a rejection shared by all callers.
      const promise = (async () => load(isCurrent))();
      flight = { promise, tags };
      flights.set(key, flight);
      const settle = (): void => {
        if (isCurrent()) {
          flights.delete(key);
        }
      };
      promise.then(settle, settle);
      return promise;
    },
    forgetKey(key: string): void {
      flights.delete(key);
    },
    forgetTag(tag: string): void {
      for (const [key, flight] of flights) {
        if (flight.tags.includes(tag)) {
          flights.delete(key);
        }
      }
    },
    clear(): void {
      flights.clear();
    },
  };
}

export type SingleFlight = ReturnType<typeof createSingleFlight>;
