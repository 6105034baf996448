import type { Readiness, SystemInfo } from './system.schemas.js';

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
  return {
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
  };
}

export type SystemService = ReturnType<typeof createSystemService>;
