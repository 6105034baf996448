import net from 'node:net';
import { Type, type Static } from 'typebox';
import type { Executor, TargetContext } from './executor.js';

const Params = Type.Object(
  {
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1, maxItems: 4096, uniqueItems: true }),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000, description: 'Per-connection timeout (1000)' })),
    rate_per_second: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Connection attempts per second across the whole run (1000)' })),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;
type PortState = 'open' | 'closed' | 'filtered';

/** A token bucket shared by every target of a run: the global rate limit. */
export function createRateLimiter(perSecond: number, clock: () => number = performance.now.bind(performance)) {
  let tokens = Math.min(perSecond, 10);
  let last = clock();
  const burst = Math.max(1, Math.min(perSecond, 10));
  return async function take(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = clock();
      tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1000);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      if (signal.aborted) throw new Error('aborted');
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - tokens) * 1000) / perSecond)));
    }
  };
}

function probe(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (state: PortState) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(state);
    };
    const onAbort = () => done('filtered');
    const timer = setTimeout(() => done('filtered'), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'closed' : 'filtered'));
  });
}

function limiter(ctx: TargetContext, perSecond: number): (signal: AbortSignal) => Promise<void> {
  let take = ctx.shared.get('tcp_rate') as ((s: AbortSignal) => Promise<void>) | undefined;
  if (!take) {
    take = createRateLimiter(perSecond);
    ctx.shared.set('tcp_rate', take);
  }
  return take;
}

/** TCP connect probes of a port list: open (connected), closed (refused), filtered (no answer). */
export const tcpPortScanExecutor: Executor<Params> = {
  type: 'tcp_port_scan',
  description: 'TCP connect probes of a port list with a per-connection timeout and a run-wide rate limit.',
  params: Params,
  output: Type.Object({ open: Type.Array(Type.Integer()), ports: Type.Array(Type.Object({ port: Type.Integer(), state: Type.String() })) }),
  credential: 'none',
  targets: 'required',
  changesDevices: () => false,
  probesPerTarget: (p) => p.ports.length,
  async run(ctx, p) {
    const take = limiter(ctx, p.rate_per_second ?? 1000);
    const timeout = p.timeout_ms ?? 1000;
    const results = await Promise.all(
      p.ports.map(async (port) => {
        await take(ctx.signal);
        return { port, state: await probe(ctx.host, port, timeout, ctx.signal) };
      }),
    );
    if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
    const open = results.filter((r) => r.state === 'open').map((r) => r.port);
    ctx.log('info', `${open.length} of ${p.ports.length} ports open${open.length ? `: ${open.join(', ')}` : ''}`);
    return { ok: true, output: results.map((r) => `${r.port}/tcp ${r.state}`).join('\n'), parsed: { open, ports: results } };
  },
};
