import type { Cache, CacheLogger } from './cache.js';

/** The `cache` settings section's values this uses. */
export interface PrefetchSettings {
  prefetch: readonly string[];
  refresh_interval_seconds: number;
}

export interface CachePrefetchDeps {
  cache: Pick<Cache, 'clearNamespace'>;
  logger: CacheLogger;
  /** Read at each run, so a settings change applies without a restart. */
  settings: () => PrefetchSettings;
}

/**
 * Loads the namespaces the `cache` settings list at start and reloads them on the configured
 * interval. A module registers a warmer per namespace: a function that reads the namespace's
 * shared data through the cache (so a warm is a normal `wrap`, with its guards). A refresh
 * clears the namespace on every node first, then warms it, so every node reads fresh data.
 */
export function createCachePrefetch(deps: CachePrefetchDeps) {
  const warmers = new Map<string, () => Promise<unknown>>();
  let timer: NodeJS.Timeout | null = null;
  let armedSeconds = 0;
  let running: Promise<void> | null = null;

  async function run(fresh: boolean): Promise<void> {
    for (const namespace of deps.settings().prefetch) {
      const warm = warmers.get(namespace);
      if (warm === undefined) {
        deps.logger.warn({ namespace, known: [...warmers.keys()] }, 'cache prefetch: no loader for this namespace');
        continue;
      }
      try {
        if (fresh) await deps.cache.clearNamespace(namespace);
        await warm();
      } catch (err) {
        deps.logger.warn({ err, namespace }, 'cache prefetch failed');
      }
    }
  }

  /** One run at a time: a slow refresh is not stacked by the next tick. */
  const once = (fresh: boolean): Promise<void> => (running ??= run(fresh).finally(() => (running = null)));

  /** (Re)arms the refresh timer for the current interval; 0 stops it. */
  function arm(): void {
    const seconds = deps.settings().refresh_interval_seconds;
    if (seconds === armedSeconds && (timer !== null || seconds === 0)) return;
    if (timer !== null) clearInterval(timer);
    timer = null;
    armedSeconds = seconds;
    if (seconds > 0) {
      timer = setInterval(() => void once(true), seconds * 1000);
      timer.unref();
    }
  }

  return {
    register(namespace: string, warm: () => Promise<unknown>): void {
      if (warmers.has(namespace)) throw new Error(`cache prefetch: ${namespace} registered twice`);
      warmers.set(namespace, warm);
    },
    /** Namespaces that can be prefetched. */
    namespaces: (): string[] => [...warmers.keys()].sort(),
    /** Warms the listed namespaces (in the background) and starts the refresh timer; resolves when the first warm-up is done. */
    start(): Promise<void> {
      arm();
      return once(false);
    },
    /** Call when the `cache` settings change: a new interval applies at once, newly listed namespaces are warmed. */
    settingsChanged(): Promise<void> {
      arm();
      return once(false);
    },
    /** Clears and reloads the listed namespaces now (what the timer does). */
    refresh: () => once(true),
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
export type CachePrefetch = ReturnType<typeof createCachePrefetch>;
