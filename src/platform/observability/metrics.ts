import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process (tests build several apps, so no global default registry). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'opsdeck_' });
  // NOTE: prom-client names these gauges `…_total`, which promtool (rightly) rejects: only
  // counters end in _total. opsdeck_nodejs_active_resources{type} carries the same figures.
  for (const name of ['active_handles', 'active_requests', 'active_resources']) registry.removeSingleMetric(`opsdeck_nodejs_${name}_total`);
  const httpDuration = new Histogram({
    name: 'opsdeck_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const dbQueryDuration = new Histogram({
    name: 'opsdeck_db_query_duration_seconds',
    help: 'Database query duration',
    labelNames: ['dialect', 'outcome'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const cacheRequests = new Counter({
    name: 'opsdeck_cache_requests_total',
    help: 'Cache lookups by result (l1 hit, l2 hit, miss)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    dbQueryDuration,
    cacheRequests,
    /** Hooks the cache calls on each lookup. */
    cacheHooks: {
      hit: (level: 'l1' | 'l2') => cacheRequests.inc({ result: `${level}_hit` }),
      miss: () => cacheRequests.inc({ result: 'miss' }),
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Job gauges read from the database at scrape time (cluster-wide figures: every node answers the
 * same, so sum them in PromQL with `max`, not `sum`). A failed read leaves the last values.
 */
export function registerJobGauges(registry: Registry, stats: () => Promise<{ queued: number; running: Map<string, number> }>): void {
  let last: Promise<{ queued: number; running: Map<string, number> }> | null = null;
  const read = () => (last ??= stats().finally(() => setTimeout(() => (last = null), 0)));
  new Gauge({
    name: 'opsdeck_job_queue_depth',
    help: 'Job runs waiting in the queue (whole cluster)',
    registers: [registry],
    async collect() {
      this.set((await read()).queued);
    },
  });
  new Gauge({
    name: 'opsdeck_job_runs_running',
    help: 'Job runs running now by run type (whole cluster)',
    labelNames: ['type'] as const,
    registers: [registry],
    async collect() {
      const { running } = await read();
      this.reset();
      for (const [type, n] of running) this.set({ type }, n);
    },
  });
}
