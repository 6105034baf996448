import { Type, type Static } from 'typebox';
import { AppError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/auth.js';
import { connectTarget, DeviceShell, execCommand, PermanentError, sshConnectionParams, type Executor, type TargetContext } from '../jobs/index.js';
import { normalizeConfig } from './backup.fns.js';
import type { BackupService } from './backup.service.js';
import type { PlatformProfile } from './platform-profiles.fns.js';
import type { ProfilesService } from './profiles.service.js';
import { PROFILE_ID_PATTERN } from './profiles.schemas.js';

const Params = Type.Object(
  {
    repository_id: Type.String({
      format: 'uuid',
      maxLength: 36,
      description: 'The configs repository the backups are committed to (and pushed to its remote)',
    }),
    profile: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: PROFILE_ID_PATTERN,
        description: 'Platform profile for every target (default: the one serving the device platform’s network driver)',
      }),
    ),
    ...sshConnectionParams,
  },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

/** Failures a retry cannot fix (rights, credentials, a wrong repository, a refused push). */
const PERMANENT = new Set([
  'PERMISSION_DENIED',
  'GIT_AUTH_FAILED',
  'GIT_REMOTE_NOT_FOUND',
  'GIT_REPOSITORY_NOT_FOUND',
  'GIT_TOO_LARGE',
  'CREDENTIAL_NOT_FOUND',
  'GIT_CREDENTIAL_TYPE',
  'CONFIG_BACKUP_REPOSITORY',
  'CONFIG_BACKUP_DEVICE_NAME',
  'DEVICE_NOT_FOUND',
]);

export interface BackupExecutorDeps {
  backup: BackupService;
  profiles: Pick<ProfilesService, 'resolve'>;
  /** Inventory: the device's name as the actor may see it. */
  deviceName(actor: Actor, deviceId: string): Promise<string>;
}

/** The configuration as the device prints it: the profile's backup commands' outputs joined by a blank line. */
async function readConfig(ctx: TargetContext, p: Params, profile: PlatformProfile, settings: Parameters<Executor['run']>[2]): Promise<string> {
  const timeout = p.command_timeout_ms ?? 60_000;
  const client = await connectTarget(ctx, p, settings);
  const outputs: string[] = [];
  try {
    if (profile.mode === 'device') {
      const shell = await DeviceShell.open(client, ctx.signal, { prompt: profile.prompt });
      await shell.waitPrompt(timeout);
      if (profile.enable) await shell.enable(ctx.credential?.enablePassword, timeout);
      for (const c of profile.setupCommands) await shell.run(c, timeout);
      for (const c of profile.backupCommands) {
        ctx.log('info', `${shell.prompt} ${c}`);
        const out = await shell.run(c, timeout);
        if (/^% ?(Invalid|Incomplete|Ambiguous)/m.test(out)) throw new PermanentError('invalid', `the device rejected '${c}'`);
        outputs.push(out);
      }
      shell.close();
    } else {
      for (const c of profile.backupCommands) {
        ctx.log('info', `$ ${c}`);
        const r = await execCommand(client, c, timeout, ctx.signal);
        if (r.code !== 0) throw new PermanentError('invalid', `'${c}' exited with ${r.code}`);
        outputs.push(r.stdout);
      }
    }
  } finally {
    client.end();
  }
  return outputs.join('\n\n');
}

/** `config_backup`: reads each target's configuration over SSH with its platform profile and commits it when it changed. */
export function configBackupExecutor(deps: BackupExecutorDeps): Executor<Params> {
  return {
    type: 'config_backup',
    description:
      'Backs up device configurations over SSH (platform profiles: noise stripped, secrets masked) into a configs Git repository; commits and pushes only what changed.',
    params: Params,
    output: Type.Object({
      device: Type.String(),
      repository_id: Type.String(),
      path: Type.String(),
      profile: Type.String(),
      changed: Type.Boolean(),
      commit: Type.Union([Type.String(), Type.Null()]),
      added: Type.Integer(),
      removed: Type.Integer(),
    }),
    credential: 'required',
    targets: 'required',
    changesDevices: () => false,
    async run(ctx, p, settings) {
      try {
        if (!ctx.deviceId) throw new PermanentError('invalid', 'config_backup backs up inventory devices: give targets by device, group or filter');
        // As the run's initiator now: git:write on the repository and its remote credential, checked at execution.
        await deps.backup.repository(ctx.actor, p.repository_id);
        const device = await deps.deviceName(ctx.actor, ctx.deviceId);
        const profile = await deps.profiles.resolve(p.profile, ctx.networkDriver, ctx.shared);
        if (!profile) {
          throw new PermanentError(
            'invalid',
            p.profile
              ? `no platform profile '${p.profile}'`
              : `no platform profile serves the device's platform (network driver ${ctx.networkDriver ? `'${ctx.networkDriver}'` : 'not set'}); name one with params.profile`,
          );
        }
        const content = normalizeConfig(await readConfig(ctx, p, profile, settings), profile);
        if (!content) throw new PermanentError('invalid', 'the device returned an empty configuration');
        const r = await deps.backup.store(ctx.actor, {
          repositoryId: p.repository_id,
          deviceId: ctx.deviceId,
          deviceName: device,
          content,
          runId: ctx.runId,
          signal: ctx.signal,
        });
        const output = r.changed ? `changed (+${r.diff.added} −${r.diff.removed} lines), commit ${r.commit.slice(0, 12)}` : 'unchanged';
        ctx.log('info', `${r.path}: ${output}`);
        return {
          ok: true,
          output,
          parsed: {
            device,
            repository_id: p.repository_id,
            path: r.path,
            profile: profile.id,
            changed: r.changed,
            commit: r.commit,
            added: r.changed ? r.diff.added : 0,
            removed: r.changed ? r.diff.removed : 0,
          },
        };
      } catch (err) {
        if (err instanceof PermanentError) return fail(ctx, err.message, false);
        if (err instanceof AppError) return fail(ctx, `${err.code}: ${err.message}`, !PERMANENT.has(err.code));
        throw err;
      }
    },
  };
}

function fail(ctx: TargetContext, message: string, retryable: boolean) {
  ctx.log('error', message);
  return { ok: false, output: message, parsed: null, error: message, retryable };
}
