import { createHash } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { hasPermission, type Actor } from '../../platform/http/auth.js';
import { Nullable, Uuid } from '../../platform/http/schemas.js';
import { connectTarget, createSecretScrubber, DeviceShell, PermanentError, truncate, type Executor, type ExecutorSettings, type TargetContext } from '../jobs/index.js';
import { abortCommands, cleanConfig, configDiff, deviceError, linesToSend, saveCommand, type ProfileLookup, type PushProfile } from './config-push.fns.js';

const Params = Type.Object(
  {
    template_id: Uuid,
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Render this version of the template (default: the current one)' })),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { description: "Merged over the device's inventory data (device, interfaces, ip_addresses, location, platform, custom_fields)" })),
    dry_run: Type.Optional(Type.Boolean({ description: 'Render and diff against the running configuration; send nothing (the run does not change devices)' })),
    save: Type.Optional(Type.Boolean({ description: "After a successful push, save the running configuration to startup on platforms without a commit ('write memory')" })),
    profile: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "Platform profile by network driver (e.g. 'cisco_ios'); default: the device platform's" })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: '(22)' })),
    connect_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000, description: '(10000)' })),
    command_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'Per command, including reading the configuration (60000)' })),
    host_key_sha256: Type.Optional(Type.String({ maxLength: 100, pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$', description: 'Pin the host key fingerprint for this run (default: trust on first use)' })),
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

const Output = Type.Object({
  template_id: Uuid,
  version: Type.Integer(),
  rendered_sha256: Type.String({ description: 'SHA-256 of the rendered configuration as stored here (secrets masked)' }),
  rendered: Type.String({ description: 'The rendered configuration, secrets masked' }),
  dry_run: Type.Boolean(),
  lines_sent: Type.Integer(),
  committed: Type.Boolean(),
  saved: Type.Boolean(),
  failed_line: Nullable(Type.Object({ number: Type.Integer({ description: 'Line of the rendered configuration' }), line: Type.String(), error: Type.String() })),
  diff_summary: Type.Object({ added: Type.Integer(), removed: Type.Integer() }),
  diff: Type.String({ description: 'Unified diff of the running configuration before → after (dry run: running → rendered), secrets masked' }),
});
type Output = Static<typeof Output>;

/** What the executor needs of the templates service: the render route's own render, as the run's initiator. */
export type PushRender = (actor: Actor, id: string, input: { variables?: Record<string, unknown>; device_id: string; version?: number }) => Promise<{ output: string; version: number; secrets: string[] }>;

type Mask = (text: string) => string;

/** Reads the configuration with the profile's backup commands. */
async function readConfig(shell: DeviceShell, profile: PushProfile, timeoutMs: number): Promise<string> {
  const parts: string[] = [];
  for (const command of profile.backupCommands) parts.push(await shell.run(command, timeoutMs));
  return parts.join('\n\n');
}

/** Sends the lines in configuration mode; stops at the first line the device refuses and leaves without committing. */
async function pushLines(ctx: TargetContext, shell: DeviceShell, profile: PushProfile, lines: ReturnType<typeof linesToSend>, timeoutMs: number, mask: Mask) {
  const configure = profile.configure!;
  for (const command of configure.enter) await shell.run(command, timeoutMs);
  let sent = 0;
  for (const line of lines) {
    ctx.log('debug', `${shell.prompt} ${mask(line.text)}`);
    const error = deviceError(await shell.run(line.text, timeoutMs));
    sent++;
    if (error) {
      for (const command of abortCommands(profile)) await shell.run(command, timeoutMs);
      return { sent, committed: false, failed: { number: line.number, line: mask(line.text), error: mask(error) } };
    }
  }
  for (const command of configure.commit) {
    const error = deviceError(await shell.run(command, timeoutMs));
    if (error) {
      for (const c of abortCommands(profile)) await shell.run(c, timeoutMs);
      return { sent, committed: false, failed: { number: 0, line: command, error: mask(error) } };
    }
  }
  for (const command of configure.exit) await shell.run(command, timeoutMs);
  return { sent, committed: configure.commit.length > 0, failed: null };
}

/** Refuses before rendering: the initiator must still be allowed to render templates and run jobs (the engine checks jobs:run too). */
function authorise(actor: Actor): void {
  if (!hasPermission(actor, 'templates:render')) throw new PermanentError('policy', `refused: ${actor.name} (the run's initiator) may not render templates (templates:render)`);
  if (!hasPermission(actor, 'jobs:run')) throw new PermanentError('policy', `refused: ${actor.name} (the run's initiator) may not run jobs (jobs:run)`);
}

function profileOf(ctx: TargetContext, p: Params, lookup: ProfileLookup): PushProfile {
  const driver = p.profile ?? ctx.networkDriver;
  if (!driver) throw new PermanentError('invalid', "the device's platform has no network driver: set params.profile");
  const profile = lookup(driver);
  if (!profile) throw new PermanentError('invalid', `no platform profile serves '${driver}'`);
  if (!profile.configure || profile.mode !== 'device') throw new PermanentError('invalid', `platform profile '${profile.id}' has no configuration mode to push to`);
  return profile;
}

/**
 * `config_push`: renders a stored template for each inventory device (its inventory data under
 * the run's variables, as the initiator) and applies it over SSH in configuration mode, with the
 * running configuration read before and after and the diff recorded. Registered with the jobs
 * module by modules.ts.
 */
export function configPushExecutor(render: PushRender, profiles: ProfileLookup): Executor<Params> {
  return {
    type: 'config_push',
    description: "Renders a configuration template per inventory device and applies it over SSH in configuration mode (commit where the platform has one); records the running configuration's diff before → after.",
    params: Params,
    output: Output,
    credential: 'required',
    targets: 'required',
    changesDevices: (p) => p.dry_run !== true,
    async run(ctx, p, settings) {
      if (!ctx.credential) throw new Error('config_push needs a credential');
      if (!ctx.deviceId) throw new PermanentError('invalid', "config_push renders with the device's inventory data: target inventory devices, not addresses");
      authorise(ctx.actor);
      const profile = profileOf(ctx, p, profiles);
      let rendered: Awaited<ReturnType<PushRender>>;
      try {
        rendered = await render(ctx.actor, p.template_id, { device_id: ctx.deviceId, ...(p.variables ? { variables: p.variables } : {}), ...(p.version ? { version: p.version } : {}) });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // Template errors, refusals of the device read and schema violations (naming `variables.<path>`) fail every attempt alike.
        const fields = err.errors.map((e) => `${e.path.replace(/^body\./, '')}: ${e.message}`).join('; ');
        const error = `${err.code}: ${err.message}${fields ? ` (${fields})` : ''}`;
        ctx.log('error', error);
        return { ok: false, output: error, parsed: null, error, retryable: false };
      }
      // Secret variables are masked in everything this target logs or returns, like the credential is by the run.
      const scrubber = createSecretScrubber();
      for (const s of rendered.secrets) scrubber.add(s);
      const mask: Mask = (text) => scrubber.scrub(cleanConfig(text, { stripLines: [], mask: profile.mask }));
      try {
        return await push(ctx, p, settings, profile, rendered, mask);
      } catch (err) {
        // A timeout quotes the device's last output, which may echo a secret line; the error keeps its class and code.
        if (err instanceof Error) err.message = mask(err.message);
        throw err;
      }
    },
  };
}

async function push(ctx: TargetContext, p: Params, settings: ExecutorSettings, profile: PushProfile, rendered: { output: string; version: number }, mask: Mask) {
  const timeoutMs = p.command_timeout_ms ?? 60_000;
  const lines = linesToSend(rendered.output);
  const shown = mask(rendered.output);
  ctx.log('info', `rendered version ${rendered.version}: ${lines.length} lines to send${p.dry_run ? ' (dry run)' : ''}`);
  const clean = (text: string) => mask(cleanConfig(text, { stripLines: profile.stripLines, mask: [] }));
  const client = await connectTarget(ctx, p, settings);
  let result: Output;
  try {
    const shell = await DeviceShell.open(client, ctx.signal);
    await shell.waitPrompt(timeoutMs);
    if (profile.enable) await shell.enable(ctx.credential!.enablePassword, timeoutMs);
    for (const command of profile.setupCommands) await shell.run(command, timeoutMs);
    const before = clean(await readConfig(shell, profile, timeoutMs));
    const base = { template_id: p.template_id, version: rendered.version, rendered_sha256: createHash('sha256').update(shown).digest('hex'), rendered: shown, dry_run: p.dry_run === true };
    if (p.dry_run) {
      const d = configDiff(before, shown, ['running-config', 'rendered']);
      result = { ...base, lines_sent: 0, committed: false, saved: false, failed_line: null, diff_summary: { added: d.added, removed: d.removed }, diff: d.diff };
    } else {
      const pushed = await pushLines(ctx, shell, profile, lines, timeoutMs, mask);
      const save = !pushed.failed && p.save ? saveCommand(profile) : null;
      if (p.save && !pushed.failed && !save) ctx.log('warn', `profile '${profile.id}' has no save command: not saved`);
      const saveError = save ? deviceError(await shell.run(save, timeoutMs)) : null;
      const after = clean(await readConfig(shell, profile, timeoutMs));
      const d = configDiff(before, after, ['before', 'after']);
      const failed = pushed.failed ?? (saveError ? { number: 0, line: save!, error: saveError } : null);
      result = { ...base, lines_sent: pushed.sent, committed: pushed.committed, saved: save !== null && !saveError, failed_line: failed, diff_summary: { added: d.added, removed: d.removed }, diff: d.diff };
    }
    shell.close();
  } finally {
    client.end();
  }
  return report(ctx, result, settings);
}

function report(ctx: TargetContext, r: Output, settings: ExecutorSettings) {
  const f = r.failed_line;
  if (f) ctx.log('error', f.number > 0 ? `line ${f.number} refused: ${f.line}: ${f.error}` : `'${f.line}' failed: ${f.error}`);
  ctx.log('info', `${r.dry_run ? 'would change' : 'changed'}: +${r.diff_summary.added} -${r.diff_summary.removed} lines${r.committed ? ' (committed)' : ''}${r.saved ? ' (saved)' : ''}`);
  const parsed = { ...r, diff: truncate(r.diff, settings.maxOutputChars), rendered: truncate(r.rendered, settings.maxOutputChars) };
  const output = truncate(r.diff || (r.dry_run ? 'no difference from the running configuration' : 'the running configuration did not change'), settings.maxOutputChars);
  if (!f) return { ok: true, output, parsed };
  // The device refuses the same line on every attempt.
  const error = f.number > 0 ? `the device refused line ${f.number} '${f.line}': ${f.error}` : `'${f.line}' failed: ${f.error}`;
  return { ok: false, output, parsed, error, retryable: false };
}
