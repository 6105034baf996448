import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { cacheNamespace } from '../cache/namespaces.js';

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
  const httpRefused = new Counter({
    name: 'opsdeck_http_requests_refused_total',
    help: 'Requests answered 503 OVERLOADED by admission control, by reason (queue_full, queue_timeout)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // One child per (method, route, status), looked up by one string: no label object per request.
  const httpObservers = new Map<string, { observe(v: number): void }>();
  const observeHttp = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${status} ${route}`;
    let child = httpObservers.get(key);
    if (!child) httpObservers.set(key, (child = httpDuration.labels(method, route, String(status))));
    child.observe(seconds);
  };
  /** Exposes the admission gate's in-flight and queued requests as gauges. */
  const watchAdmission = (state: { readonly active: number; readonly queued: number }) => {
    new Gauge({
      name: 'opsdeck_http_requests_in_flight',
      help: 'Requests admitted and not yet answered (live streams and health routes excluded)',
      registers: [registry],
      collect() {
        this.set(state.active);
      },
    });
    new Gauge({
      name: 'opsdeck_http_requests_queued',
      help: 'Requests waiting for an admission slot',
      registers: [registry],
      collect() {
        this.set(state.queued);
      },
    });
  };
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
  const cacheHits = new Counter({
    name: 'opsdeck_cache_hits_total',
    help: 'Cache hits by namespace (the key up to its first colon)',
    labelNames: ['namespace'] as const,
    registers: [registry],
  });
  const cacheMisses = new Counter({
    name: 'opsdeck_cache_misses_total',
    help: 'Cache misses by namespace (the key up to its first colon)',
    labelNames: ['namespace'] as const,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'opsdeck_job_run_duration_seconds',
    help: 'Duration of finished job runs (first start to finish) by run type, observed on the node that finished them',
    labelNames: ['type'] as const,
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const runsFinished = new Counter({
    name: 'opsdeck_job_runs_finished_total',
    help: 'Job runs that reached a final state on this node, by run type and state',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    httpRefused,
    observeHttp,
    watchAdmission,
    dbQueryDuration,
    cacheRequests,
    /** Hooks the cache calls on each lookup. */
    cacheHooks: {
      hit: (level: 'l1' | 'l2', key: string) => {
        cacheRequests.inc({ result: `${level}_hit` });
        cacheHits.inc({ namespace: cacheNamespace(key) });
      },
      miss: (key: string) => {
        cacheRequests.inc({ result: 'miss' });
        cacheMisses.inc({ namespace: cacheNamespace(key) });
      },
    },
    /** The jobs engine calls this once per run reaching a final state; `seconds` is null for a run that never started. */
    runFinished: (type: string, status: string, seconds: number | null) => {
      runsFinished.inc({ type, status });
      if (seconds !== null) runDuration.observe({ type }, seconds);
    },
  };
}

export { cacheNamespace } from '../cache/namespaces.js';

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
