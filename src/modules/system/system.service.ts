import type { NodePresence } from './nodes.js';
import type { Readiness, SystemDetailed, SystemInfo } from './system.schemas.js';

export interface DependencyProbe {
  name: string;
  /** Resolves with latency in ms; rejects when the dependency is down. */
  ping(): Promise<number>;
}

export interface SystemServiceDeps {
  probes: DependencyProbe[];
  info: Omit<SystemInfo, 'uptime_seconds' | 'started_at' | 'node_version' | 'name'>;
  /** A probe slower than this counts as down, so readiness answers promptly. */
  probeTimeoutMs?: number;
  /** Nodes alive in the cluster (heartbeats). */
  nodes?: NodePresence;
  nodeId?: string;
  /** Job queue figures from the database (the jobs module, built later: called at request time only). */
  queue?: () => Promise<{ queued: number; running: Map<string, number> }>;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Health, readiness and version information. */
export function createSystemService(deps: SystemServiceDeps) {
  const startedAt = new Date();
  const service = {
    async readiness(): Promise<Readiness> {
      const checks = await Promise.all(
        deps.probes.map(async (p) => {
          try {
            const latency = await withTimeout(p.ping(), deps.probeTimeoutMs ?? 2000);
            return { name: p.name, status: 'up' as const, latency_ms: Math.round(latency * 1000) / 1000 };
          } catch (err) {
            return { name: p.name, status: 'down' as const, latency_ms: null, error: err instanceof Error ? err.message.slice(0, 500) : 'unreachable' };
          }
        }),
      );
      return { status: checks.every((c) => c.status === 'up') ? 'ready' : 'not_ready', checks };
    },
    info(): SystemInfo {
      return {
        name: 'opsdeck',
        ...deps.info,
        node_version: process.version,
        started_at: startedAt.toISOString(),
        uptime_seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      };
    },
    /** info plus the cluster's nodes, queue depths and dependency latencies (`/health/detailed`, `/api/v1/system/info`). */
    async detailed(): Promise<SystemDetailed> {
      const [ready, nodes, queue] = await Promise.all([
        service.readiness(),
        deps.nodes ? deps.nodes.list().catch(() => []) : Promise.resolve([]),
        deps.queue
          ? deps.queue().catch(() => ({ queued: 0, running: new Map<string, number>() }))
          : Promise.resolve({ queued: 0, running: new Map<string, number>() }),
      ]);
      const latency = (name: string) => ready.checks.find((c) => c.name === name)?.latency_ms ?? null;
      return {
        ...service.info(),
        node_id: deps.nodeId ?? 'local',
        nodes,
        queue: { queued: queue.queued, running: Object.fromEntries(queue.running) },
        database_latency_ms: latency('database'),
        redis_latency_ms: latency('redis'),
      };
    },
  };
  return service;
}

export type SystemService = ReturnType<typeof createSystemService>;
