import { createHash } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { AppError, type FieldError } from '../../platform/errors.js';
import { hasPermission, type Actor } from '../../platform/http/auth.js';
import { Nullable, Uuid } from '../../platform/http/schemas.js';
import { createSecretScrubber } from '../../platform/secret-scrubber.js';
import {
  connectTarget,
  DeviceShell,
  PermanentError,
  sshConnectionParams,
  truncate,
  type Executor,
  type ExecutorSettings,
  type TargetContext,
} from '../jobs/index.js';
import { secretVariablePaths, variablePathError } from './secret-variables.fns.js';
import { abortCommands, cleanConfig, configDiff, deviceError, linesToSend, saveCommand, type ProfileLookup, type PushProfile } from './config-push.fns.js';

/** Paths of `variables` the template's variables schema marks secret (templates service `schemaSecretPaths`). */
export type SchemaSecrets = (templateId: string, variables: Record<string, unknown>) => Promise<string[]>;

/** A credential's secret fields (the credentials module's `SECRET_FIELDS`). */
const SECRET_FIELDS = ['password', 'private_key', 'passphrase', 'enable_secret', 'community', 'auth_key', 'priv_key', 'token'] as const;
/** `field` omitted: the first of these the credential has. */
const DEFAULT_FIELDS = ['password', 'token', 'community', 'enable_secret', 'passphrase', 'auth_key', 'priv_key', 'private_key'] as const;

const Params = Type.Object(
  {
    template_id: Uuid,
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Render this version of the template (default: the current one)' })),
    variables: Type.Optional(
      Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
        description:
          "Merged over the device's inventory data (device, interfaces, ip_addresses, location, platform, custom_fields). Stored with the run: a variable that counts as secret (by its name, e.g. *_password, *_secret, *_token, *community, *_key; or by the template's schema) is refused — give it in secret_variables",
      }),
    ),
    secret_variables: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 200 }),
        Type.Object(
          {
            credential_id: Uuid,
            field: Type.Optional(
              Type.Union(
                SECRET_FIELDS.map((f) => Type.Literal(f)),
                { description: `Which secret of the credential (default: the first set of ${DEFAULT_FIELDS.join(', ')})` },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        {
          maxProperties: 50,
          description:
            'Variables (names or dotted paths, set after the inventory data and variables) whose values are read from the credential vault at execution, as the initiator (credentials:use, team scope); masked in everything the run stores',
        },
      ),
    ),
    dry_run: Type.Optional(Type.Boolean({ description: 'Render and diff against the running configuration; send nothing (the run does not change devices)' })),
    save: Type.Optional(
      Type.Boolean({ description: "After a successful push, save the running configuration to startup on platforms without a commit ('write memory')" }),
    ),
    profile: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          "Platform profile id for every target (e.g. 'cisco_ios' or a user-defined one); default: the one serving the device platform's network driver",
      }),
    ),
    ...sshConnectionParams,
    command_timeout_ms: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'Per command, including reading the configuration (60000)' }),
    ),
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
  failed_line: Nullable(
    Type.Object({ number: Type.Integer({ description: 'Line of the rendered configuration' }), line: Type.String(), error: Type.String() }),
  ),
  diff_summary: Type.Object({ added: Type.Integer(), removed: Type.Integer() }),
  diff: Type.String({ description: 'Unified diff of the running configuration before → after (dry run: running → rendered), secrets masked' }),
});
type Output = Static<typeof Output>;

/** What the executor needs of the templates service: the render route's own render, as the run's initiator. */
export type PushRender = (
  actor: Actor,
  id: string,
  input: { variables?: Record<string, unknown>; secret_variables?: Record<string, string>; device_id: string; version?: number },
) => Promise<{ output: string; version: number; secrets: string[] }>;

/**
 * Reads a credential's secrets from the vault as `actor` (credentials:use and team scope, checked
 * by the credentials module; the access log names the actor, the purpose and the run). Wired in
 * modules.ts; throws the vault's AppError (404 for a credential outside the actor's teams).
 */
export type VaultRead = (actor: Actor, credentialId: string, purpose: string, runId: string) => Promise<{ secrets: Record<string, string> }>;

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

/** Refuses before rendering: the initiator must still be allowed to render templates and run jobs (the engine checks jobs:run too), and to use credentials for secret variables. */
function authorise(actor: Actor, p: Params): void {
  if (!hasPermission(actor, 'templates:render')) {
    throw new PermanentError('policy', `refused: ${actor.name} (the run's initiator) may not render templates (templates:render)`);
  }
  if (!hasPermission(actor, 'jobs:run')) throw new PermanentError('policy', `refused: ${actor.name} (the run's initiator) may not run jobs (jobs:run)`);
  if (Object.keys(p.secret_variables ?? {}).length > 0 && !hasPermission(actor, 'credentials:use')) {
    throw new PermanentError('policy', `refused: ${actor.name} (the run's initiator) may not read secret variables from the vault (credentials:use)`);
  }
}

/** Rules the schema cannot express: secrets by name are refused in `variables` (they would be stored); `secret_variables` names are paths. */
function checkParams(p: Params): FieldError[] {
  const errors: FieldError[] = secretVariablePaths(p.variables ?? {}, null).map((path) => ({
    path: `body.params.variables.${path}`,
    message: 'a secret (by its name) is not stored with the run: give it in secret_variables (from the credential vault)',
  }));
  for (const path of Object.keys(p.secret_variables ?? {})) {
    const error = variablePathError(path);
    if (error) errors.push({ path: `body.params.secret_variables.${path}`, message: error });
  }
  return errors;
}

/** Reads each secret variable from the vault as the run's initiator; a credential they may not use fails the target for good. */
async function readVault(ctx: TargetContext, p: Params, vault: VaultRead): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [path, ref] of Object.entries(p.secret_variables ?? {})) {
    let secrets: Record<string, string>;
    try {
      secrets = (await vault(ctx.actor, ref.credential_id, `config_push secret variable '${path}' (template ${p.template_id})`, ctx.runId)).secrets;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.status === 404) throw new PermanentError('invalid', `secret_variables.${path}: credential ${ref.credential_id} not found`);
      if (err.status === 403) {
        throw new PermanentError(
          'policy',
          `refused: ${ctx.actor.name} (the run's initiator) may not use credential ${ref.credential_id} for secret_variables.${path} (credentials:use)`,
        );
      }
      throw new PermanentError('invalid', `secret_variables.${path}: ${err.code}: ${err.message}`);
    }
    const field = ref.field ?? DEFAULT_FIELDS.find((f) => secrets[f] !== undefined);
    const value = field ? secrets[field] : undefined;
    if (value === undefined) throw new PermanentError('invalid', `secret_variables.${path}: credential ${ref.credential_id} has no ${ref.field ?? 'secret'}`);
    out[path] = value;
  }
  return out;
}

async function profileOf(ctx: TargetContext, p: Params, lookup: ProfileLookup): Promise<PushProfile> {
  if (!p.profile && !ctx.networkDriver) throw new PermanentError('invalid', "the device's platform has no network driver: set params.profile");
  const profile = await lookup(p.profile, ctx.networkDriver, ctx.shared);
  if (!profile) throw new PermanentError('invalid', p.profile ? `no platform profile '${p.profile}'` : `no platform profile serves '${ctx.networkDriver}'`);
  if (!profile.configure || profile.mode !== 'device') {
    throw new PermanentError('invalid', `platform profile '${profile.id}' has no configuration mode to push to`);
  }
  return profile;
}

/**
 * `config_push`: renders a stored template for each inventory device (its inventory data under
 * the run's variables, as the initiator) and applies it over SSH in configuration mode, with the
 * running configuration read before and after and the diff recorded. Registered with the jobs
 * module by modules.ts.
 */
export function configPushExecutor(render: PushRender, profiles: ProfileLookup, vault: VaultRead, schemaSecrets: SchemaSecrets): Executor<Params> {
  return {
    type: 'config_push',
    description:
      "Renders a configuration template per inventory device and applies it over SSH in configuration mode (commit where the platform has one); records the running configuration's diff before → after.",
    params: Params,
    output: Output,
    credential: 'required',
    targets: 'required',
    changesDevices: (p) => p.dry_run !== true,
    check: checkParams,
    // The schema's secret marks, when the run or job template is stored (the name rule is `check`'s).
    async validate(_actor, p) {
      return (await schemaSecrets(p.template_id, p.variables ?? {})).map((path) => ({
        path: `body.params.variables.${path}`,
        message: "secret by the template's variables schema: not stored with the run; give it in secret_variables (from the credential vault)",
      }));
    },
    async run(ctx, p, settings) {
      if (!ctx.credential) throw new Error('config_push needs a credential');
      if (!ctx.deviceId) throw new PermanentError('invalid', "config_push renders with the device's inventory data: target inventory devices, not addresses");
      authorise(ctx.actor, p);
      const profile = await profileOf(ctx, p, profiles);
      // Secret variables are masked in everything this target logs or returns, like the credential is by the run.
      const scrubber = createSecretScrubber();
      const fromVault = await readVault(ctx, p, vault);
      for (const s of Object.values(fromVault)) scrubber.add(s);
      let rendered: Awaited<ReturnType<PushRender>>;
      try {
        rendered = await render(ctx.actor, p.template_id, {
          device_id: ctx.deviceId,
          ...(p.variables ? { variables: p.variables } : {}),
          ...(p.secret_variables ? { secret_variables: fromVault } : {}),
          ...(p.version ? { version: p.version } : {}),
        });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // Template errors, refusals of the device read, schema violations and secrets the schema marks in plain variables (naming `variables.<path>`) fail every attempt alike.
        const fields = err.errors.map((e) => `${e.path.replace(/^body\./, '')}: ${e.message}`).join('; ');
        const error = scrubber.scrub(`${err.code}: ${err.message}${fields ? ` (${fields})` : ''}`);
        ctx.log('error', error);
        return { ok: false, output: error, parsed: null, error, retryable: false };
      }
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

async function push(
  ctx: TargetContext,
  p: Params,
  settings: ExecutorSettings,
  profile: PushProfile,
  rendered: { output: string; version: number },
  mask: Mask,
) {
  const timeoutMs = p.command_timeout_ms ?? 60_000;
  const lines = linesToSend(rendered.output);
  const shown = mask(rendered.output);
  ctx.log('info', `rendered version ${rendered.version}: ${lines.length} lines to send${p.dry_run ? ' (dry run)' : ''}`);
  const clean = (text: string) => mask(cleanConfig(text, { stripLines: profile.stripLines, mask: [] }));
  const client = await connectTarget(ctx, p, settings);
  let result: Output;
  try {
    const shell = await DeviceShell.open(client, ctx.signal, { prompt: profile.prompt });
    await shell.waitPrompt(timeoutMs);
    if (profile.enable) await shell.enable(ctx.credential!.enablePassword, timeoutMs);
    for (const command of profile.setupCommands) await shell.run(command, timeoutMs);
    const before = clean(await readConfig(shell, profile, timeoutMs));
    const base = {
      template_id: p.template_id,
      version: rendered.version,
      rendered_sha256: createHash('sha256').update(shown).digest('hex'),
      rendered: shown,
      dry_run: p.dry_run === true,
    };
    if (p.dry_run) {
      const d = configDiff(before, shown, ['running-config', 'rendered']);
      result = {
        ...base,
        lines_sent: 0,
        committed: false,
        saved: false,
        failed_line: null,
        diff_summary: { added: d.added, removed: d.removed },
        diff: d.diff,
      };
    } else {
      const pushed = await pushLines(ctx, shell, profile, lines, timeoutMs, mask);
      const save = !pushed.failed && p.save ? saveCommand(profile) : null;
      if (p.save && !pushed.failed && !save) ctx.log('warn', `profile '${profile.id}' has no save command: not saved`);
      const saveError = save ? deviceError(await shell.run(save, timeoutMs)) : null;
      const after = clean(await readConfig(shell, profile, timeoutMs));
      const d = configDiff(before, after, ['before', 'after']);
      const failed = pushed.failed ?? (saveError ? { number: 0, line: save!, error: saveError } : null);
      result = {
        ...base,
        lines_sent: pushed.sent,
        committed: pushed.committed,
        saved: save !== null && !saveError,
        failed_line: failed,
        diff_summary: { added: d.added, removed: d.removed },
        diff: d.diff,
      };
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
  ctx.log(
    'info',
    `${r.dry_run ? 'would change' : 'changed'}: +${r.diff_summary.added} -${r.diff_summary.removed} lines${r.committed ? ' (committed)' : ''}${r.saved ? ' (saved)' : ''}`,
  );
  const parsed = { ...r, diff: truncate(r.diff, settings.maxOutputChars), rendered: truncate(r.rendered, settings.maxOutputChars) };
  const output = truncate(
    r.diff || (r.dry_run ? 'no difference from the running configuration' : 'the running configuration did not change'),
    settings.maxOutputChars,
  );
  if (!f) return { ok: true, output, parsed };
  // The device refuses the same line on every attempt.
  const error = f.number > 0 ? `the device refused line ${f.number} '${f.line}': ${f.error}` : `'${f.line}' failed: ${f.error}`;
  return { ok: false, output, parsed, error, retryable: false };
}
