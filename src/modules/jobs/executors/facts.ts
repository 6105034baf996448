import { Type, type Static } from 'typebox';
import type { Executor } from './executor.js';
import { PermanentError } from './failure.fns.js';
import { DeviceShell, execCommand } from './ssh-session.js';
import { connectTarget, defaultMode } from './ssh-command.js';
import { truncate } from './text.fns.js';
import { factsOf } from './facts.fns.js';

const Params = Type.Object(
  {
    command: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The command whose parsed output holds the facts ('show version')" })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: '(22)' })),
    update_inventory: Type.Optional(
      Type.Boolean({ description: "Write os_version, serial and hostname to the device when they differ (true); audited as the run's initiator" }),
    ),
    connect_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000, description: '(10000)' })),
    command_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: '(60000)' })),
    host_key_sha256: Type.Optional(
      Type.String({
        maxLength: 100,
        pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$',
        description: 'Pin the host key fingerprint for this run. Unset: the key pinned at the first connection to the device must match',
      }),
    ),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

const Facts = Type.Object({ os_version: Type.Optional(Type.String()), serial: Type.Optional(Type.String()), hostname: Type.Optional(Type.String()) });

/** Reads a device's facts over SSH, parsed by the ntc-templates entry of its platform, and writes them to the inventory. */
export const factsExecutor: Executor<Params> = {
  type: 'facts',
  description:
    "Reads OS version, serial number and host name from inventory devices ('show version' parsed with the platform's ntc-template) and updates the device (audited).",
  params: Params,
  output: Type.Object({ command: Type.String(), facts: Facts, updated: Type.Array(Type.String()) }),
  credential: 'required',
  targets: 'required',
  changesDevices: () => false,
  async run(ctx, p, settings) {
    if (!ctx.credential) throw new Error('facts needs a credential');
    if (!ctx.deviceId || !ctx.parse) throw new PermanentError('invalid', 'facts runs on inventory devices whose platform has a network driver');
    const command = p.command ?? 'show version';
    const timeout = p.command_timeout_ms ?? 60_000;
    const client = await connectTarget(ctx, p, settings);
    let output: string;
    try {
      if (defaultMode(ctx.networkDriver) === 'device') {
        const shell = await DeviceShell.open(client, ctx.signal);
        await shell.waitPrompt(timeout);
        await shell.run('terminal length 0', timeout);
        output = await shell.run(command, timeout);
        shell.close();
      } else {
        const r = await execCommand(client, command, timeout, ctx.signal);
        if (r.code !== 0) return { ok: false, output: truncate(r.stdout, settings.maxOutputChars), parsed: null, error: `'${command}' exited with ${r.code}` };
        output = r.stdout;
      }
    } finally {
      client.end();
    }
    const facts = factsOf(await ctx.parse(command, output));
    if (Object.keys(facts).length === 0) {
      return {
        ok: false,
        output: truncate(output, settings.maxOutputChars),
        parsed: { command, facts, updated: [] },
        error: 'the parsed output holds no version, serial or host name',
      };
    }
    const updated = p.update_inventory === false || !ctx.updateDeviceFacts ? [] : await ctx.updateDeviceFacts(facts as Record<string, string>);
    ctx.log('info', updated.length > 0 ? `inventory updated: ${updated.join(', ')}` : 'inventory already up to date');
    return { ok: true, output: truncate(output, settings.maxOutputChars), parsed: { command, facts, updated } };
  },
};
