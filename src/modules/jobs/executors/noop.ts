import { Type, type Static } from 'typebox';
import { abortPromise, type Executor } from './executor.js';

const Params = Type.Object(
  {
    sleep_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Wait this long per target (0)' })),
    lines: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Log this many lines per target (0)' })),
    fail: Type.Optional(Type.Boolean({ description: 'Fail every target' })),
    fail_targets: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 1000, description: 'Fail these targets only' })),
    changes_devices: Type.Optional(Type.Boolean({ description: 'Declare the run device-changing (never re-run after a lost worker)' })),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

/** Does nothing, on purpose: queue diagnostics, throughput benchmarks and engine tests. */
export const noopExecutor: Executor<Params> = {
  type: 'noop',
  description: 'Does nothing (optionally waits, logs or fails): for checking the queue and workers.',
  params: Params,
  output: Type.Object({ host: Type.String() }),
  credential: 'optional',
  targets: 'optional',
  changesDevices: (p) => p.changes_devices === true,
  async run(ctx, p) {
    for (let i = 1; i <= (p.lines ?? 0); i++) ctx.log('info', `line ${i}`);
    if (p.sleep_ms) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, p.sleep_ms))), abortPromise(ctx.signal)]).finally(() => clearTimeout(timer));
    }
    const fail = p.fail === true || (p.fail_targets ?? []).includes(ctx.host);
    return { ok: !fail, output: fail ? 'failed on purpose' : 'ok', parsed: { host: ctx.host }, ...(fail ? { error: 'failed on purpose' } : {}) };
  },
};
