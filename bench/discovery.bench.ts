/**
 * Discovery sweep throughput: a /16 of loopback addresses (127.88.0.0/16, 65,536 hosts), TCP connect
 * on 2 ports where nothing listens (each probe answered by a RST), through the `discovery`
 * executor (egress check, rate limiter, liveness, result object per host) against two peers in
 * the same process: the jobs module's `tcp_port_scan` executor on the same hosts, and the floor —
 * bare `net.connect` probes. Same lane count (500 hosts at once) for all three. Prints hosts/s,
 * the ratio to each peer and peak RSS during each sweep. The jobs engine's own per-target cost
 * (rows, leases) is measured by jobs.bench.ts. Figures, not assertions.
 * Flags: --hosts=N (65536), --lanes=N (500).
 */
import net from 'node:net';
import { createEgressPolicy, createOwnListeners } from '../src/platform/egress/index.js';
import { SYSTEM_ACTOR } from '../src/platform/http/auth.js';
import { EXECUTORS, type Executor, type ExecutorSettings, type TargetContext } from '../src/modules/jobs/index.js';
import { discoveryExecutor } from '../src/modules/discovery/discovery.executor.js';
import { fromBig } from '../src/modules/discovery/targets.fns.js';
import { ratio } from './lib.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const HOSTS = arg('hosts', 65_536);
const LANES = arg('lanes', 500);
const PORTS = [22, 161];
const base = (127n << 24n) | (88n << 16n);
const hosts = Array.from({ length: HOSTS }, (_, i) => fromBig(4, base + BigInt(i)));

const settings: ExecutorSettings = {
  localCommandAllowList: [],
  maxOutputChars: 1_048_576,
  egress: createEgressPolicy({
    allow: [],
    deny: [],
    allowInternal: ['127.88.0.0/16'],
    privateRanges: 'allow',
    listeners: createOwnListeners([]),
    resolve: async () => [],
  }),
};

async function sweep(probe: (host: string, shared: Map<string, unknown>) => Promise<void>): Promise<{ hostsPerSecond: number; peakRssMb: number }> {
  const shared = new Map<string, unknown>();
  let next = 0;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < hosts.length) await probe(hosts[next++]!, shared);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return { hostsPerSecond: hosts.length / seconds, peakRssMb: Math.round(peak / 1048576) };
}

function viaExecutor(executor: Executor, params: unknown) {
  return async (host: string, shared: Map<string, unknown>) => {
    // Each target has its own signal, as in the jobs engine.
    const ctx: TargetContext = {
      runId: 'bench',
      host,
      deviceId: null,
      signal: new AbortController().signal,
      credential: null,
      actor: SYSTEM_ACTOR,
      shared,
      log: () => undefined,
    };
    const r = await executor.run(ctx, params, settings);
    if (!r.ok) throw new Error(`${host}: ${r.error}`);
  };
}

function bare(host: string): Promise<void> {
  return Promise.all(
    PORTS.map(
      (port) =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host, port });
          const done = () => (s.destroy(), resolve());
          s.setTimeout(1000, done);
          s.once('connect', done);
          s.once('error', done);
        }),
    ),
  ).then(() => undefined);
}

const discovery = discoveryExecutor({
  tryProfile: () => Promise.reject(new Error('no credentials in this bench')),
  parse: async () => [],
});
const params = {
  scan_id: '01890000-0000-7000-8000-000000000000',
  liveness: 'tcp',
  ports: PORTS,
  ssh_port: 22,
  snmp_port: 161,
  ssh_profile_ids: [],
  snmp_profile_ids: [],
  timeout_ms: 1000,
  rate_per_second: 100_000,
};
const tcpScan = EXECUTORS.find((e) => e.type === 'tcp_port_scan')!;

console.log(`discovery sweep: ${HOSTS} loopback hosts × ${PORTS.length} TCP ports, ${LANES} hosts at once`);
const floor = await sweep((h) => bare(h));
const peer = await sweep(viaExecutor(tcpScan, { ports: PORTS, timeout_ms: 1000, rate_per_second: 100_000 }));
const ours = await sweep(viaExecutor(discovery, params));
const row = (name: string, r: { hostsPerSecond: number; peakRssMb: number }) =>
  console.log(`  ${name.padEnd(28)} ${Math.round(r.hostsPerSecond).toString().padStart(8)} hosts/s  peak RSS ${r.peakRssMb} MB`);
row('bare net.connect (floor)', floor);
row('tcp_port_scan executor', peer);
row('discovery executor', ours);
console.log(
  `  discovery / floor: ${ratio(ours.hostsPerSecond, floor.hostsPerSecond)}   discovery / tcp_port_scan: ${ratio(ours.hostsPerSecond, peer.hostsPerSecond)}`,
);
