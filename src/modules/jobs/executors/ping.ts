import { spawn } from 'node:child_process';
import net from 'node:net';
import { childEnv } from '../../../platform/child-env.js';
import { Type, type Static } from 'typebox';
import type { Executor } from './executor.js';

const Params = Type.Object(
  {
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Echo requests (3)' })),
    interval_ms: Type.Optional(Type.Integer({ minimum: 200, maximum: 60_000, description: 'Between requests (1000)' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: 'Wait for each reply (1000)' })),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

export interface PingSummary {
  transmitted: number;
  received: number;
  loss_pct: number;
  rtt_min_ms: number | null;
  rtt_avg_ms: number | null;
  rtt_max_ms: number | null;
  reachable: boolean;
}

/** Parses iputils `ping` output (the summary and rtt lines). */
export function parsePing(output: string): PingSummary {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(output);
  const transmitted = Number(counts?.[1] ?? 0);
  const received = Number(counts?.[2] ?? 0);
  return {
    transmitted,
    received,
    loss_pct: transmitted === 0 ? 100 : Math.round(((transmitted - received) / transmitted) * 1000) / 10,
    rtt_min_ms: rtt ? Number(rtt[1]) : null,
    rtt_avg_ms: rtt ? Number(rtt[2]) : null,
    rtt_max_ms: rtt ? Number(rtt[3]) : null,
    reachable: received > 0,
  };
}

/** ICMP echo through the system `ping` (iputils), argument array only. */
export const pingExecutor: Executor<Params> = {
  type: 'ping',
  description: 'ICMP reachability and round-trip times (count, interval, timeout).',
  params: Params,
  output: Type.Object({ reachable: Type.Boolean(), loss_pct: Type.Number(), rtt_avg_ms: Type.Union([Type.Number(), Type.Null()]) }),
  credential: 'none',
  targets: 'required',
  changesDevices: () => false,
  async run(ctx, p, settings) {
    const count = p.count ?? 3;
    // The name is resolved here, through the one resolver jobs use, and ping gets the address.
    let address = ctx.host;
    if (!net.isIP(ctx.host)) {
      try {
        const answers = await settings.egress.lookup(ctx.host);
        if (!answers[0]) return { ok: false, output: '', parsed: null, error: `cannot resolve ${ctx.host}`, retryable: false };
        address = answers[0];
      } catch (err) {
        // An answer that the name does not exist is final; a resolver that did not answer may later.
        const code = (err as { code?: unknown }).code;
        return {
          ok: false,
          output: '',
          parsed: null,
          error: `cannot resolve ${ctx.host}${typeof code === 'string' ? ` (${code})` : ''}`,
          retryable: code !== 'ENOTFOUND',
        };
      }
    }
    const args = [
      '-n',
      '-c',
      String(count),
      '-i',
      String((p.interval_ms ?? 1000) / 1000),
      '-W',
      String(Math.max(1, Math.ceil((p.timeout_ms ?? 1000) / 1000))),
      '--',
      address,
    ];
    return new Promise((resolve, reject) => {
      const child = spawn('ping', args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
      const abort = () => child.kill('SIGKILL');
      ctx.signal.addEventListener('abort', abort, { once: true });
      child.on('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error('the ping command is not installed on this worker (iputils-ping)') : err),
      );
      child.on('close', () => {
        ctx.signal.removeEventListener('abort', abort);
        if (ctx.signal.aborted) return reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
        const summary = parsePing(out);
        ctx.log(summary.reachable ? 'info' : 'warn', `${summary.received}/${summary.transmitted} replies, avg ${summary.rtt_avg_ms ?? '-'} ms`);
        resolve({ ok: summary.reachable, output: out.trim(), parsed: summary, ...(summary.reachable ? {} : { error: 'unreachable' }) });
      });
    });
  },
};
