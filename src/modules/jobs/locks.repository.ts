import type { Db } from '../../platform/db/database.js';
import type { JobsTables } from './jobs.tables.js';

/**
 * Device session slots and the worker registry. A slot is a row keyed (device, slot), so the
 * primary key itself enforces "at most N sessions per device" across every process sharing the
 * database; a slot whose holder stopped renewing expires and is taken over.
 */
export function createLocksRepository(base: Db) {
  const db = base.withTables<JobsTables>();
  return {
    /** Takes a free slot of the device, or reports who holds it. */
    async tryAcquire(
      key: string,
      slots: number,
      holder: { runId: string; targetIdx: number },
      expiresAt: string,
      now: string,
    ): Promise<{ ok: true } | { ok: false; heldBy: string }> {
      // One statement a slot: a free slot is inserted, an expired one taken over in place.
      for (let slot = 0; slot < slots; slot++) {
        const r = await db
          .insertInto('jobDeviceLocks')
          .values({ deviceKey: key, slot, runId: holder.runId, targetIdx: holder.targetIdx, expiresAt })
          .onConflict((oc) =>
            oc
              .columns(['deviceKey', 'slot'])
              .doUpdateSet({ runId: holder.runId, targetIdx: holder.targetIdx, expiresAt })
              .where('jobDeviceLocks.expiresAt', '<', now),
          )
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return { ok: true };
      }
      const holderRow = await db.selectFrom('jobDeviceLocks').select('runId').where('deviceKey', '=', key).orderBy('slot').executeTakeFirst();
      return { ok: false, heldBy: holderRow?.runId ?? 'unknown' };
    },
    /** The run holding a slot of every given device, if all are full (null when any is free). */
    async allHeld(keys: string[], slots: number, now: string): Promise<string | null> {
      if (keys.length === 0) return null;
      const rows = await db.selectFrom('jobDeviceLocks').select(['deviceKey', 'runId']).where('deviceKey', 'in', keys).where('expiresAt', '>=', now).execute();
      const count = new Map<string, number>();
      for (const r of rows) count.set(r.deviceKey, (count.get(r.deviceKey) ?? 0) + 1);
      return keys.every((k) => (count.get(k) ?? 0) >= slots) ? (rows[0]?.runId ?? null) : null;
    },
    async release(runId: string, targetIdx: number): Promise<void> {
      await db.deleteFrom('jobDeviceLocks').where('runId', '=', runId).where('targetIdx', '=', targetIdx).execute();
    },
    async releaseRun(runId: string): Promise<void> {
      await db.deleteFrom('jobDeviceLocks').where('runId', '=', runId).execute();
    },
    async renew(runId: string, expiresAt: string): Promise<void> {
      await db.updateTable('jobDeviceLocks').set({ expiresAt }).where('runId', '=', runId).execute();
    },

    async heartbeatWorker(w: { id: string; hostname: string; pid: number; concurrency: number; now: string }): Promise<void> {
      await db
        .insertInto('jobWorkers')
        .values({ id: w.id, hostname: w.hostname, pid: w.pid, concurrency: w.concurrency, startedAt: w.now, lastSeenAt: w.now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ lastSeenAt: w.now, concurrency: w.concurrency }))
        .execute();
    },
    async removeWorker(id: string): Promise<void> {
      await db.deleteFrom('jobWorkers').where('id', '=', id).execute();
    },
    /** Workers seen since `since`, and their total concurrency. */
    async liveWorkers(since: string): Promise<{ count: number; capacity: number }> {
      const r = await db
        .selectFrom('jobWorkers')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number | null>('concurrency').as('c')])
        .where('lastSeenAt', '>=', since)
        .executeTakeFirstOrThrow();
      return { count: Number(r.n), capacity: Number(r.c ?? 0) };
    },
    async pruneWorkers(before: string): Promise<void> {
      await db.deleteFrom('jobWorkers').where('lastSeenAt', '<', before).execute();
    },
  };
}

export type LocksRepository = ReturnType<typeof createLocksRepository>;
