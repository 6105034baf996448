import { Type, type Static } from 'typebox';
import { compileTemplate, parseToRecords, vendorParsers, type CompiledTemplate } from '../../parsers/index.js';
import { errorMessage, type Executor, type ExecutorSettings, type TargetContext } from './executor.js';
import { PermanentError } from './failure.fns.js';
import { factsOf } from './facts.fns.js';
import { DeviceShell, connect, execCommand } from './ssh-session.js';
import { sshConnectionParams } from './ssh-params.js';
import { truncate } from './text.fns.js';

const Params = Type.Object(
  {
    ...sshConnectionParams,
    commands: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 200 }),
    mode: Type.Optional(
      Type.Union([Type.Literal('exec'), Type.Literal('device')], {
        description:
          "exec: one exec channel per command (servers); device: interactive CLI with prompts and paging (network devices). Default: device for an inventory device whose platform has a network driver other than 'linux', else exec",
      }),
    ),
    enable: Type.Optional(Type.Boolean({ description: "device mode: enter privileged mode with the credential's enable secret" })),
    disable_paging: Type.Optional(Type.Boolean({ description: "device mode: send 'terminal length 0' first (true); otherwise --More-- pages are answered" })),
    configure: Type.Optional(Type.Boolean({ description: 'device mode: run the commands in configuration mode; marks the run as changing devices' })),
    changes_devices: Type.Optional(Type.Boolean({ description: 'Declare that the commands change the device (never re-run after a lost worker)' })),
    textfsm_template: Type.Optional(Type.String({ maxLength: 65_536, description: 'TextFSM template applied to each command output' })),
    parser: Type.Optional(Type.String({ maxLength: 200, description: 'A registry (native) parser id applied to each command output' })),
    parse: Type.Optional(
      Type.Boolean({
        description: "Parse each output with the ntc-templates entry for the device's platform (network driver) and the command; inventory targets only",
      }),
    ),
    update_facts: Type.Optional(
      Type.Boolean({
        description: "With parse: write os_version, serial and hostname found in the parsed output to the device (audited as the run's initiator)",
      }),
    ),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

function parserFor(p: Params): ((text: string) => unknown) | null {
  if (p.textfsm_template) {
    const template: CompiledTemplate = compileTemplate(p.textfsm_template);
    return (text) => parseToRecords([{ name: 'inline', template }], text);
  }
  if (p.parser) {
    const native = vendorParsers.find((v) => v.id === p.parser);
    if (!native) throw new Error(`unknown parser '${p.parser}'`);
    return (text) => native.parse(text);
  }
  return null;
}

/** Network devices get the interactive CLI; servers (and hosts outside the inventory) plain exec. */
export function defaultMode(networkDriver: string | null | undefined): 'exec' | 'device' {
  return networkDriver && networkDriver !== 'linux' ? 'device' : 'exec';
}

/** SSH parameters every SSH executor takes. */
export interface SshTargetParams {
  port?: number;
  connect_timeout_ms?: number;
  host_key_sha256?: string;
}

/**
 * Opens the target's SSH connection: the pinned key when the run gives one, else trust on first
 * use through the host-key store (the key pinned for the device or host:port must match).
 */
export function connectTarget(ctx: TargetContext, p: SshTargetParams, settings: ExecutorSettings) {
  const port = p.port ?? 22;
  const hostKeys = settings.hostKeys;
  return connect({
    host: ctx.host,
    port,
    connectTimeoutMs: p.connect_timeout_ms ?? 10_000,
    credential: ctx.credential!,
    signal: ctx.signal,
    ...(p.host_key_sha256 ? { hostKeySha256: p.host_key_sha256 } : {}),
    ...(hostKeys ? { hostKeyCheck: (fp: string) => hostKeys.verify({ deviceId: ctx.deviceId, host: ctx.host, port }, fp) } : {}),
    onHostKey: (fp) => ctx.log('debug', `host key SHA256:${fp}`),
  });
}

/** The first version, serial and host name found in the commands' parsed records, written to the device. */
async function writeFacts(ctx: TargetContext, results: readonly CommandResult[]): Promise<string[]> {
  const facts: Record<string, string> = {};
  for (const r of results) for (const [k, v] of Object.entries(factsOf(r.parsed))) facts[k] ??= v;
  if (Object.keys(facts).length === 0 || !ctx.updateDeviceFacts) return [];
  const updated = await ctx.updateDeviceFacts(facts);
  ctx.log('info', updated.length > 0 ? `inventory updated: ${updated.join(', ')}` : 'inventory already up to date');
  return updated;
}

interface CommandResult {
  command: string;
  output: string;
  exit_code: number | null;
  parsed: unknown;
}

/** Commands over SSH: plain exec for servers, or an interactive device CLI (prompt, paging, enable). */
export const sshCommandExecutor: Executor<Params> = {
  type: 'ssh_command',
  description:
    'Runs commands over SSH (password or key). Device mode drives a network CLI: prompts, paging, enable, configuration mode; optional TextFSM or registry parser per command.',
  params: Params,
  output: Type.Object({
    commands: Type.Array(
      Type.Object({ command: Type.String(), output: Type.String(), exit_code: Type.Union([Type.Integer(), Type.Null()]), parsed: Type.Unknown() }),
    ),
    facts_updated: Type.Optional(Type.Array(Type.String(), { description: 'With update_facts: the device fields changed' })),
  }),
  credential: 'required',
  targets: 'required',
  changesDevices: (p) => p.configure === true || p.changes_devices === true,
  check(p) {
    const errors = [];
    if (p.textfsm_template && p.parser) errors.push({ path: 'body.params.parser', message: 'give textfsm_template or parser, not both' });
    if (p.update_facts && !p.parse) errors.push({ path: 'body.params.update_facts', message: 'update_facts reads the output parsed by parse: true' });
    if (p.parse && (p.textfsm_template || p.parser)) {
      errors.push({ path: 'body.params.parse', message: 'parse picks the template by platform; do not combine it with textfsm_template or parser' });
    }
    try {
      parserFor(p);
    } catch (err) {
      errors.push({ path: p.parser ? 'body.params.parser' : 'body.params.textfsm_template', message: errorMessage(err).slice(0, 500) });
    }
    // Privileged and configuration work says so explicitly, whatever the platform would default to.
    if ((p.enable || p.configure) && p.mode !== 'device') errors.push({ path: 'body.params.mode', message: "enable and configure need mode 'device'" });
    return errors;
  },
  async run(ctx, p, settings) {
    if (!ctx.credential) throw new Error('ssh_command needs a credential');
    const own = parserFor(p);
    const byPlatform = p.parse ? ctx.parse : undefined;
    if (p.parse && !byPlatform) throw new PermanentError('invalid', 'parse needs an inventory device whose platform has a network driver');
    const parseOne = async (command: string, text: string): Promise<unknown> => (own ? own(text) : byPlatform ? byPlatform(command, text) : null);
    const mode = p.mode ?? defaultMode(ctx.networkDriver);
    const commandTimeout = p.command_timeout_ms ?? 60_000;
    const client = await connectTarget(ctx, p, settings);
    const results: CommandResult[] = [];
    let ok = true;
    try {
      if (mode === 'device') {
        const shell = await DeviceShell.open(client, ctx.signal);
        await shell.waitPrompt(commandTimeout);
        if (p.enable || p.configure) await shell.enable(ctx.credential.enablePassword, commandTimeout);
        if (p.disable_paging !== false) await shell.run('terminal length 0', commandTimeout);
        if (p.configure) await shell.run('configure terminal', commandTimeout);
        for (const command of p.commands) {
          ctx.log('info', `${shell.prompt} ${command}`);
          const output = await shell.run(command, commandTimeout);
          if (/^% ?(Invalid|Incomplete|Ambiguous)/m.test(output)) ok = false;
          results.push({ command, output, exit_code: null, parsed: await parseOne(command, output) });
        }
        if (p.configure) await shell.run('end', commandTimeout);
        shell.close();
      } else {
        for (const command of p.commands) {
          ctx.log('info', `$ ${command}`);
          const r = await execCommand(client, command, commandTimeout, ctx.signal);
          if (r.stderr.trim()) for (const line of r.stderr.trimEnd().split('\n')) ctx.log('warn', line);
          if (r.code !== 0) ok = false;
          results.push({ command, output: r.stdout, exit_code: r.code, parsed: r.code === 0 ? await parseOne(command, r.stdout) : null });
        }
      }
    } finally {
      client.end();
    }
    const updated = p.update_facts ? await writeFacts(ctx, results) : undefined;
    const text = results.map((r) => (results.length > 1 ? `### ${r.command}\n${r.output}` : r.output)).join('\n');
    const failed = results.find((r) => r.exit_code !== null && r.exit_code !== 0);
    return {
      ok,
      output: truncate(text, settings.maxOutputChars),
      parsed: { commands: results, ...(updated ? { facts_updated: updated } : {}) },
      // A command the device rejects (% Invalid input) is rejected again on every attempt.
      ...(ok
        ? {}
        : failed
          ? { error: `'${failed.command}' exited with ${failed.exit_code}` }
          : { error: 'the device rejected a command (invalid input)', retryable: false }),
    };
  },
};
