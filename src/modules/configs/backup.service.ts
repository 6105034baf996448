import type { Db } from '../../platform/db/database.js';
import { ValidationError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import type { Logger } from '../../platform/observability/logger.js';
import { diffSummary, type DiffSummary } from './backup.fns.js';
import { checkRepoPath, joinRepoPath } from './git-url.fns.js';
import type { GitWriter } from './git-write.js';
import type { RepositoriesService } from './repositories.service.js';

export const CONFIG_CHANGED = 'config.changed';

export interface DomainEventsPort {
  record(trx: Db, name: string, payload: unknown): Promise<unknown>;
  relay(): Promise<void>;
}

export interface BackupDeps {
  repositories: Pick<RepositoriesService, 'load' | 'remoteFor' | 'advance'>;
  writer: GitWriter;
  events: DomainEventsPort;
  logger: Logger;
}

export type StoredBackup = { path: string; changed: false; commit: string | null } | { path: string; changed: true; commit: string; diff: DiffSummary };

/**
 * Configuration backups into a `configs` repository: the file `<repository path>/<device>.cfg`
 * is committed (as "Opsdeck", the message naming the run and its initiator) and pushed only when
 * its normalised text changed; the commit is indexed at once and `config.changed` is recorded
 * in the index transaction. Everything here acts for the run's initiator as they are now.
 */
export function createBackupService(deps: BackupDeps) {
  const service = {
    /** The repository a backup writes to, checked for `actor` at execution: `git:write` and the `configs` category. */
    async repository(actor: Actor, repositoryId: string) {
      requirePermission(actor, 'git:write');
      const r = await deps.repositories.load(repositoryId);
      if (r.category !== 'configs') {
        throw new ValidationError('CONFIG_BACKUP_REPOSITORY', `Repository '${r.name}' is a ${r.category} repository; backups go to a configs repository`, [
          { path: 'body.params.repository_id', message: 'not a configs repository' },
        ]);
      }
      return r;
    },

    async store(
      actor: Actor,
      input: { repositoryId: string; deviceId: string; deviceName: string; content: string; runId: string; signal: AbortSignal },
    ): Promise<StoredBackup> {
      const r = await service.repository(actor, input.repositoryId);
      const rel = checkRepoPath(`${input.deviceName}.cfg`);
      if (!rel.ok || rel.path.includes('/')) {
        throw new ValidationError('CONFIG_BACKUP_DEVICE_NAME', `Device name '${input.deviceName}' cannot name a file (${rel.ok ? 'contains /' : rel.reason})`, [
          { path: 'device.name', message: 'not usable as a file name' },
        ]);
      }
      const path = joinRepoPath(r.path, rel.path);
      const remote = await deps.repositories.remoteFor(actor, r, `config backup of ${input.deviceName}`, input.runId);
      const message = `backup ${input.deviceName} (run ${input.runId}, by ${actor.name})\n`;
      const written = await deps.writer.writeFile(r.id, remote, path, input.content, message, input.signal);
      if (!written.commit) return { path, changed: false, commit: written.parent };
      const diff = diffSummary(written.previous, input.content, path);
      const payload = {
        device_id: input.deviceId,
        device_name: input.deviceName,
        repository_id: r.id,
        commit: written.commit,
        parent: written.parent,
        path,
        run_id: input.runId,
        triggered_by: { kind: actor.kind, id: actor.id, name: actor.name },
        diff,
      };
      await deps.repositories.advance(r.id, written.commit, async (trx) => void (await deps.events.record(trx, CONFIG_CHANGED, payload)));
      deps.events.relay().catch((err: unknown) => deps.logger.warn({ err }, 'event relay failed'));
      return { path, changed: true, commit: written.commit, diff };
    },
  };
  return service;
}

export type BackupService = ReturnType<typeof createBackupService>;
