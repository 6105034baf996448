import type { Db } from '../../platform/db/database.js';
import type { DB } from '../../platform/db/schema.generated.js';

export type SshHostKeyRow = DB['sshHostKeys'];
type Tables = Pick<DB, 'sshHostKeys'>;
const COLUMNS = ['id', 'target', 'deviceId', 'host', 'port', 'fingerprint', 'createdAt', 'lastSeenAt'] as const;

/** Pinned SSH host keys (trust on first use); the only Kysely for `ssh_host_keys`. */
export function createSshHostKeysRepository(base: Db) {
  const db = base.withTables<Tables>();
  return {
    async find(target: string): Promise<SshHostKeyRow | undefined> {
      return db.selectFrom('sshHostKeys').select(COLUMNS).where('target', '=', target).executeTakeFirst();
    },
    /** Pins unless a key is already pinned for the target (a concurrent first connection); returns the pinned row. */
    async pinIfAbsent(row: SshHostKeyRow): Promise<SshHostKeyRow> {
      await db
        .insertInto('sshHostKeys')
        .values(row)
        .onConflict((oc) => oc.column('target').doNothing())
        .execute();
      return await db.selectFrom('sshHostKeys').select(COLUMNS).where('target', '=', row.target).executeTakeFirstOrThrow();
    },
    async touch(id: string, now: string): Promise<void> {
      await db.updateTable('sshHostKeys').set({ lastSeenAt: now }).where('id', '=', id).execute();
    },
    async remove(target: string): Promise<boolean> {
      const r = await db.deleteFrom('sshHostKeys').where('target', '=', target).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async findById(id: string): Promise<SshHostKeyRow | undefined> {
      return db.selectFrom('sshHostKeys').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    /** Pins of ad-hoc hosts (not devices), by host then port. */
    async listAdHoc(host: string | undefined, limit: number): Promise<SshHostKeyRow[]> {
      let q = db.selectFrom('sshHostKeys').select(COLUMNS).where('deviceId', 'is', null);
      if (host) q = q.where('host', '=', host);
      return q.orderBy('host').orderBy('port').limit(limit).execute();
    },
  };
}
export type SshHostKeysRepository = ReturnType<typeof createSshHostKeysRepository>;
