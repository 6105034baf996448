import type { Db } from '../../platform/db/database.js';
import { NotFoundError } from '../../platform/errors.js';
import { requirePermission, type Actor } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import type { AuditRecorder } from './audit.js';
import type { TargetResolver } from './targets.js';
import { createSshHostKeysRepository, type SshHostKeyRow } from './ssh-host-keys.repository.js';

/** Where an SSH connection goes: a device (pinned per device) or an ad-hoc host:port. */
export interface SshTarget {
  deviceId: string | null;
  host: string;
  port: number;
}

/** The executors' view: check a presented host key against the pin, pinning it on first use. */
export interface HostKeyStore {
  /** Null when the key is trusted (pinned now or before); otherwise the refusal, naming both fingerprints. */
  verify(target: SshTarget, fingerprint: string): Promise<string | null>;
}

export const targetKey = (t: SshTarget): string => (t.deviceId ? `device:${t.deviceId}` : `host:${t.host.toLowerCase()}:${t.port}`);
const sha = (fp: string) => `SHA256:${fp.replace(/^SHA256:/, '').replace(/=+$/, '')}`;

/** Trust on first use: the first key seen for a target is pinned; a different key later is refused. */
export function createHostKeyStore(db: Db, clock: () => number = Date.now): HostKeyStore {
  const repo = createSshHostKeysRepository(db);
  return {
    async verify(target, fingerprint) {
      const seen = sha(fingerprint);
      const now = new Date(clock()).toISOString();
      const key = targetKey(target);
      const pinned =
        (await repo.find(key)) ??
        (await repo.pinIfAbsent({
          id: newId(),
          target: key,
          deviceId: target.deviceId,
          host: target.host,
          port: target.port,
          fingerprint: seen,
          createdAt: now,
          lastSeenAt: now,
        }));
      if (pinned.fingerprint === seen) {
        if (pinned.createdAt !== now) await repo.touch(pinned.id, now);
        return null;
      }
      const where = target.deviceId ? `device ${target.deviceId} (${target.host}:${target.port})` : `${target.host}:${target.port}`;
      const accept = target.deviceId ? `DELETE /api/v1/devices/${target.deviceId}/ssh-host-key` : `DELETE /api/v1/jobs/ssh-host-keys/${pinned.id}`;
      return `SSH_HOST_KEY_CHANGED: the host key of ${where} changed: expected ${pinned.fingerprint}, got ${seen}. If the change is expected, accept the new key (${accept}) and run again.`;
    },
  };
}

export interface SshHostKeyView {
  id: string;
  device_id: string | null;
  host: string;
  port: number;
  fingerprint: string;
  first_seen_at: string;
  last_seen_at: string;
}

const view = (r: SshHostKeyRow): SshHostKeyView => ({
  id: r.id,
  device_id: r.deviceId,
  host: r.host,
  port: r.port,
  fingerprint: r.fingerprint,
  first_seen_at: r.createdAt,
  last_seen_at: r.lastSeenAt,
});

/** Reading and forgetting pins (forgetting = accepting whatever key the next connection presents). */
export function createSshHostKeysService(deps: { db: Db; targetResolver?: TargetResolver; audit?: AuditRecorder }) {
  const repo = createSshHostKeysRepository(deps.db);
  const notPinned = () => new NotFoundError('SSH_HOST_KEY_NOT_PINNED', 'No SSH host key is pinned for this target yet');

  /** The device must exist and be visible to the actor (team scope) through inventory. */
  async function visibleDevice(actor: Actor, deviceId: string): Promise<void> {
    const missing = () => new NotFoundError('DEVICE_NOT_FOUND', `Device ${deviceId} does not exist`);
    // The inventory's selector resolution: devices:read, team scope; a device it cannot see is a 404 here.
    const found = deps.targetResolver
      ? await deps.targetResolver.resolve(actor, [{ device_id: deviceId }]).catch((err: unknown) => {
          throw err instanceof NotFoundError ? missing() : err;
        })
      : [];
    if (!found.some((d) => d.deviceId === deviceId)) throw missing();
  }

  /** Deletes the pin and writes its audit record in one transaction. */
  async function forget(actor: Actor, row: SshHostKeyRow | undefined): Promise<void> {
    if (!row) throw notPinned();
    await deps.db.transaction().execute(async (trx) => {
      if (!(await createSshHostKeysRepository(trx).remove(row.target))) throw notPinned();
      await deps.audit?.record(trx, {
        actor,
        action: 'ssh_host_key.forgotten',
        resourceType: row.deviceId ? 'device' : 'ssh_host_key',
        resourceId: row.deviceId ?? row.id,
        outcome: 'success',
        changes: { host: row.host, port: row.port, fingerprint: row.fingerprint },
      });
    });
  }

  return {
    async getForDevice(actor: Actor, deviceId: string): Promise<SshHostKeyView> {
      requirePermission(actor, 'devices:read');
      await visibleDevice(actor, deviceId);
      const row = await repo.find(`device:${deviceId}`);
      if (!row) throw notPinned();
      return view(row);
    },
    async forgetForDevice(actor: Actor, deviceId: string): Promise<void> {
      requirePermission(actor, 'devices:write');
      await visibleDevice(actor, deviceId);
      await forget(actor, await repo.find(`device:${deviceId}`));
    },
    async listAdHoc(actor: Actor, host: string | undefined, limit: number): Promise<{ items: SshHostKeyView[] }> {
      requirePermission(actor, 'jobs:read');
      return { items: (await repo.listAdHoc(host, limit)).map(view) };
    },
    async forgetAdHoc(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'jobs:admin');
      const row = await repo.findById(id);
      await forget(actor, row?.deviceId === null ? row : undefined);
    },
  };
}
export type SshHostKeysService = ReturnType<typeof createSshHostKeysService>;
