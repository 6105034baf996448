import { sql, type ExpressionBuilder } from 'kysely';
import { dialectOf, writeAtomically, type Db, type Read, type Write } from '../../platform/db/database.js';
import { bool, json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import type { JobsTables } from './jobs.tables.js';
import { teamWhere, type TeamScope } from '../../platform/db/team-scope.js';
import { queueBefore, rankQueued, sourcesOf, TERMINAL_STATUSES, type RunStatus, type TargetStatus } from './run-state.fns.js';

export const RUN_COLUMNS = [
  'id',
  'type',
  'status',
  'params',
  'targets',
  'credentialId',
  'templateId',
  'teamId',
  'retryOf',
  'priority',
  'timeoutMs',
  'targetTimeoutMs',
  'targetConcurrency',
  'maxAttempts',
  'backoffMs',
  'attempt',
  'changesDevices',
  'triggerKind',
  'triggeredBy',
  'idempotencyKey',
  'requestHash',
  'expiresAt',
  'notBefore',
  'blockedBy',
  'leaseOwner',
  'leaseExpiresAt',
  'workerId',
  'cancelRequested',
  'reason',
  'output',
  'logNextSeq',
  'logDropped',
  'createdAt',
  'startedAt',
  'finishedAt',
  'updatedAt',
  'initiatorKind',
  'initiatorId',
  'initiatorUserId',
] as const;

const TARGET_COLUMNS = [
  'runId',
  'idx',
  'host',
  'deviceId',
  'status',
  'attempt',
  'startedAt',
  'finishedAt',
  'durationMs',
  'output',
  'parsed',
  'error',
  'deviceName',
  'networkDriver',
  'selector',
  'credentialId',
  'credentialProfileId',
  'credentialSource',
] as const;

export type RunRow = JobsTables['jobRuns'];
export type TargetRow = JobsTables['jobRunTargets'];

export interface Run extends Omit<RunRow, 'changesDevices' | 'cancelRequested'> {
  changesDevices: boolean;
  cancelRequested: boolean;
}

function toRun(row: RunRow): Run {
  return {
    ...row,
    params: json.read(row.params),
    targets: json.read(row.targets),
    output: row.output === null ? null : json.read(row.output),
    changesDevices: bool.read(row.changesDevices),
    cancelRequested: bool.read(row.cancelRequested),
  };
}

function toTarget(row: TargetRow): TargetRow {
  return { ...row, parsed: row.parsed === null ? null : json.read(row.parsed) };
}

export type NewRun = Omit<Run, 'updatedAt'>;
type IdentityColumn = 'deviceName' | 'networkDriver' | 'selector' | 'credentialId' | 'credentialProfileId' | 'credentialSource';
/** A target row to insert; what resolved it and its credential plan are optional (null). */
export type NewTargetRow = Omit<TargetRow, 'runId' | IdentityColumn> & Partial<Pick<TargetRow, IdentityColumn>>;

/** job_runs and job_run_targets. Every state change is a conditional UPDATE (see run-state.fns.ts). */
export function createRunsRepository(base: Db) {
  const db = base.withTables<JobsTables>();
  const dialect = dialectOf(base);
  const runs = () => db.selectFrom('jobRuns').select(RUN_COLUMNS);
  /**
   * The lease fence of target writes: the run is running under `owner`. On PostgreSQL the row is
   * share-locked, so a concurrent claim either waits for this write or makes it match nothing.
   */
  const leaseHeld = (eb: ExpressionBuilder<JobsTables, 'jobRunTargets'>, runId: string, owner: string) => {
    const q = eb
      .selectFrom('jobRuns')
      .select('jobRuns.id')
      .where('jobRuns.id', '=', runId)
      .where('jobRuns.status', '=', 'running')
      .where('jobRuns.leaseOwner', '=', owner);
    return dialect === 'postgres' ? q.forShare() : q;
  };

  return {
    /**
     * The writes that store runs with their targets, not yet run: one insert per table for the
     * lot, for `writeAtomically`.
     */
    insertWrites(batch: readonly { run: NewRun; targets: NewTargetRow[] }[]): Write[] {
      const rows = batch.map(({ run }) => ({
        ...run,
        params: json.write(run.params),
        targets: json.write(run.targets),
        output: run.output === null ? null : json.write(run.output),
        changesDevices: bool.write(run.changesDevices),
        cancelRequested: bool.write(run.cancelRequested),
        updatedAt: run.createdAt,
      }));
      const targets = batch.flatMap(({ run, targets: list }) =>
        list.map((t) => ({
          deviceName: null,
          networkDriver: null,
          selector: null,
          credentialId: null,
          credentialProfileId: null,
          credentialSource: null,
          ...t,
          runId: run.id,
          parsed: t.parsed === null ? null : json.write(t.parsed),
        })),
      );
      return [
        { table: 'jobRuns', rows },
        { table: 'jobRunTargets', rows: targets },
      ];
    },

    async insert(batch: readonly { run: NewRun; targets: NewTargetRow[] }[]): Promise<void> {
      await writeAtomically(base, this.insertWrites(batch));
    },

    /** The team (null: shared) of each of these ids that exists (the audit list hides other teams' entries). */
    async teamsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('jobRuns')
        .select(['id', 'teamId'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, r.teamId]));
    },
    async find(id: string): Promise<Run | undefined> {
      const row = await runs().where('id', '=', id).executeTakeFirst();
      return row ? toRun(row as RunRow) : undefined;
    },

    async findByIdempotencyKey(key: string): Promise<Run | undefined> {
      const row = await runs().where('idempotencyKey', '=', key).executeTakeFirst();
      return row ? toRun(row as RunRow) : undefined;
    },

    /** Runs visible in the team scope (their team's members and admins; `team_id` null: everyone). */
    async list(scope: TeamScope, filters: FilterCondition[], keys: SortKey[], cursor: string | undefined, limit: number) {
      let q = runs().where(teamWhere(scope, 'jobRuns.teamId'));
      q = applyFilters(q, filters, dialect);
      const rows = await applyPage(q, keys, cursor, limit).execute();
      const page = pageResult(rows as RunRow[], keys, limit, camelValue);
      return { items: page.items.map(toRun), next_cursor: page.next_cursor };
    },

    /** The newest finished run of a template (its report). */
    async latestFinished(templateId: string, scope: TeamScope = 'all'): Promise<Run | undefined> {
      const row = await runs()
        .where('templateId', '=', templateId)
        .where(teamWhere(scope, 'jobRuns.teamId'))
        .where('finishedAt', 'is not', null)
        .orderBy('finishedAt', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRun(row as RunRow) : undefined;
    },

    /** queued → running, only if still queued, due and not cancelled; returns the claimed run. */
    async claim(id: string, lease: { owner: string; workerId: string; until: string; now: string }): Promise<Run | undefined> {
      const row = await db
        .updateTable('jobRuns')
        .set((eb) => ({
          status: 'running',
          attempt: eb('attempt', '+', 1),
          leaseOwner: lease.owner,
          leaseExpiresAt: lease.until,
          workerId: lease.workerId,
          blockedBy: null,
          notBefore: null,
          startedAt: eb.fn.coalesce('startedAt', sql<string>`${lease.now}`),
          updatedAt: lease.now,
        }))
        .where('id', '=', id)
        .where('status', 'in', sourcesOf('running'))
        .where('cancelRequested', '=', bool.write(false) as never)
        .where((eb) => eb.or([eb('notBefore', 'is', null), eb('notBefore', '<=', lease.now)]))
        .returning(RUN_COLUMNS)
        .executeTakeFirst();
      return row ? toRun(row as RunRow) : undefined;
    },

    /** Extends a lease we still hold; undefined means it was lost (recovered by someone else). */
    async renewLease(id: string, owner: string, until: string): Promise<{ cancelRequested: boolean } | undefined> {
      const row = await db
        .updateTable('jobRuns')
        .set({ leaseExpiresAt: until })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('leaseOwner', '=', owner)
        .returning(['cancelRequested'])
        .executeTakeFirst();
      return row ? { cancelRequested: bool.read(row.cancelRequested) } : undefined;
    },

    /** running → terminal, only by the lease holder; with `log`, the log state in the same write. */
    async finish(
      id: string,
      owner: string,
      to: RunStatus,
      fields: { reason: string | null; output: unknown; now: string; log?: { nextSeq: number; dropped: number } },
    ): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set({
          ...(fields.log ? { logNextSeq: fields.log.nextSeq, logDropped: fields.log.dropped } : {}),
          status: to,
          reason: fields.reason,
          output: json.write(fields.output),
          finishedAt: fields.now,
          updatedAt: fields.now,
          leaseOwner: null,
          leaseExpiresAt: null,
          blockedBy: null,
        })
        .where('id', '=', id)
        .where('status', 'in', sourcesOf(to))
        .where('status', '=', 'running')
        .where('leaseOwner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** running → queued for a retry, only by the lease holder. */
    async requeue(id: string, owner: string, fields: { notBefore: string; reason: string; now: string; refundAttempt?: boolean }): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set((eb) => ({
          status: 'queued',
          notBefore: fields.notBefore,
          reason: fields.reason,
          updatedAt: fields.now,
          leaseOwner: null,
          leaseExpiresAt: null,
          blockedBy: null,
          // An attempt interrupted by a clean shutdown did not fail: it does not count.
          attempt: fields.refundAttempt ? eb('attempt', '-', 1) : eb.ref('attempt'),
        }))
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('leaseOwner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Recovery of a run whose lease expired: only if the lease is still the expired one. */
    async recover(
      id: string,
      expiredOwner: string,
      to: 'queued' | 'failed' | 'cancelled',
      fields: { reason: string; notBefore: string | null; now: string },
    ): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set({
          status: to,
          reason: fields.reason,
          notBefore: fields.notBefore,
          updatedAt: fields.now,
          leaseOwner: null,
          leaseExpiresAt: null,
          blockedBy: null,
          ...(to === 'queued' ? {} : { finishedAt: fields.now }),
        })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('leaseOwner', '=', expiredOwner)
        .where('leaseExpiresAt', '<', fields.now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async expiredLeases(now: string, limit = 100): Promise<Run[]> {
      const rows = await runs().where('status', '=', 'running').where('leaseExpiresAt', '<', now).limit(limit).execute();
      return rows.map((r) => toRun(r as RunRow));
    },

    /** queued → expired, only if still queued and past its deadline. */
    async expire(id: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set({
          status: 'expired',
          reason: 'expired: still queued at its deadline (expires_at)',
          finishedAt: now,
          updatedAt: now,
          blockedBy: null,
          notBefore: null,
        })
        .where('id', '=', id)
        .where('status', 'in', sourcesOf('expired'))
        .where('expiresAt', '<=', now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Queued runs past their deadline, for the worker's sweep. */
    async pastDeadline(now: string, limit = 100): Promise<string[]> {
      const rows = await db.selectFrom('jobRuns').select('id').where('status', '=', 'queued').where('expiresAt', '<=', now).limit(limit).execute();
      return rows.map((r) => r.id);
    },

    /** queued → cancelled directly; a running run is only flagged (its worker stops it). */
    async cancelQueued(id: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set({
          status: 'cancelled',
          cancelRequested: bool.write(true),
          reason: 'cancelled before it started',
          finishedAt: now,
          updatedAt: now,
          blockedBy: null,
        })
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async requestCancel(id: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set({ cancelRequested: bool.write(true), updatedAt: now })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** The stored part of `blocked_by`; on a running run only by its lease holder (`owner`). */
    async setBlockedBy(id: string, blockedBy: string | null, running?: { owner: string }): Promise<void> {
      let q = db.updateTable('jobRuns').set({ blockedBy }).where('id', '=', id);
      q = running ? q.where('status', '=', 'running').where('leaseOwner', '=', running.owner) : q.where('status', '=', 'queued');
      await q.execute();
    },

    /** Queued runs waiting on a device lock held by `runId`. */
    async blockedOn(runId: string): Promise<{ id: string; attempt: number; priority: number }[]> {
      return db
        .selectFrom('jobRuns')
        .select(['id', 'attempt', 'priority'])
        .where('status', '=', 'queued')
        .where('blockedBy', '=', `device_lock: ${runId}`)
        .execute();
    },

    /** Every queued run, for rebuilding the queue from the database. */
    async queued(limit = 10_000): Promise<{ id: string; attempt: number; priority: number; notBefore: string | null }[]> {
      return db
        .selectFrom('jobRuns')
        .select(['id', 'attempt', 'priority', 'notBefore'])
        .where('status', '=', 'queued')
        .orderBy('priority', 'desc')
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    /** Each stored run's place among queued runs, for a batch at once (one query, see `positionsRead`). */
    async positions(list: readonly { id: string; priority: number }[]): Promise<number[]> {
      if (list.length === 0) return [];
      return rankQueued(list, queueBefore(await this.positionsRead(list).execute()), []);
    },

    /**
     * What `rankQueued` needs, as one read (alone, or in `writeAtomically` before new runs are
     * written): per priority of the batch, a row with the count ahead of the group's oldest run
     * (id null), then a row per queued id from that run on. A burst of new runs costs one read,
     * not one count over the queue each.
     */
    positionsRead(list: readonly { id: string; priority: number }[]): Read<{ priority: number; id: string | null; n: number | string }> {
      const parts = [...new Set(list.map((r) => r.priority))].flatMap((priority) => {
        const first = list
          .filter((r) => r.priority === priority)
          .map((r) => r.id)
          .sort()[0]!;
        const queued = db.selectFrom('jobRuns').where('status', '=', 'queued');
        return [
          queued
            .select((eb) => [sql.lit(priority).as('priority'), sql<string | null>`null`.as('id'), eb.fn.countAll<number>().as('n')])
            .where((eb) => eb.or([eb('priority', '>', priority), eb.and([eb('priority', '=', priority), eb('id', '<', first)])])),
          queued
            .select(['priority', 'id', sql.lit(0).as('n')])
            .where('priority', '=', priority)
            .where('id', '>=', first),
        ];
      });
      return parts.slice(1).reduce((q, part) => q.unionAll(part), parts[0]!) as unknown as Read<{ priority: number; id: string | null; n: number | string }>;
    },

    /** Queued runs per priority. */
    async queuedCounts(): Promise<Map<number, number>> {
      const rows = await db
        .selectFrom('jobRuns')
        .select(['priority', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', 'queued')
        .groupBy('priority')
        .execute();
      return new Map(rows.map((r) => [Number(r.priority), Number(r.n)]));
    },

    /** Queued and running runs a person started (themselves, their API keys, their schedules). */
    async activeOfUser(userId: string): Promise<number> {
      const row = await db
        .selectFrom('jobRuns')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('initiatorUserId', '=', userId)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async runningCounts(): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('jobRuns')
        .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', 'running')
        .groupBy('type')
        .execute();
      return new Map(rows.map((r) => [r.type, Number(r.n)]));
    },

    /** Stores the log state on the run, only while `owner` still holds its lease. */
    async setLogState(id: string, owner: string, nextSeq: number, dropped: number): Promise<boolean> {
      const r = await db
        .updateTable('jobRuns')
        .set({ logNextSeq: nextSeq, logDropped: dropped })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('leaseOwner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async targets(runId: string): Promise<TargetRow[]> {
      const rows = await db.selectFrom('jobRunTargets').select(TARGET_COLUMNS).where('runId', '=', runId).orderBy('idx').execute();
      return rows.map((r) => toTarget(r as TargetRow));
    },

    /**
     * Targets resolved from inventory selectors when the run first executes (see
     * run-targets.ts#prepareTargets), written only while `owner` still holds the run's lease, all
     * or none: a worker paused past its lease must not add rows to the attempt that took the run
     * over. The check and the inserts share one transaction (PostgreSQL share-locks the run row,
     * so a concurrent claim waits or wins). False when fenced off.
     */
    async insertTargets(runId: string, owner: string, targets: readonly Omit<TargetRow, 'runId'>[]): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const fence = trx.selectFrom('jobRuns').select('id').where('id', '=', runId).where('status', '=', 'running').where('leaseOwner', '=', owner);
        const held = await (dialect === 'postgres' ? fence.forShare() : fence).executeTakeFirst();
        if (!held) return false;
        for (let i = 0; i < targets.length; i += 200) {
          await trx
            .insertInto('jobRunTargets')
            .values(targets.slice(i, i + 200).map((t) => ({ ...t, runId, parsed: t.parsed === null ? null : json.write(t.parsed) })))
            .execute();
        }
        return true;
      });
    },

    /**
     * Writes a target's progress or result, only while `owner` still holds the run's lease: a
     * worker paused past its lease must not overwrite the attempt that took the run over.
     */
    async updateTarget(runId: string, idx: number, owner: string, fields: Partial<Omit<TargetRow, 'runId' | 'idx'>>): Promise<boolean> {
      const values = { ...fields, ...(fields.parsed !== undefined ? { parsed: fields.parsed === null ? null : json.write(fields.parsed) } : {}) };
      const r = await db
        .updateTable('jobRunTargets')
        .set(values)
        .where('runId', '=', runId)
        .where('idx', '=', idx)
        .where((eb) => eb.exists(leaseHeld(eb, runId, owner)))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /**
     * Marks targets that never finished (worker lost, cancelled while waiting): by the lease
     * holder (`owner`), or, with `owner` null, by the recoverer once the run has ended.
     */
    async closeOpenTargets(runId: string, owner: string | null, status: TargetStatus, error: string, now: string): Promise<void> {
      await db
        .updateTable('jobRunTargets')
        .set({ status, error, finishedAt: now })
        .where('runId', '=', runId)
        .where('status', 'in', ['pending', 'running'])
        .where((eb) =>
          eb.exists(
            owner === null
              ? eb
                  .selectFrom('jobRuns')
                  .select('id')
                  .where('id', '=', runId)
                  .where('status', 'in', [...TERMINAL_STATUSES])
              : leaseHeld(eb, runId, owner),
          ),
        )
        .execute();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('jobRuns').where('id', '=', id).execute();
    },
  };
}

export type RunsRepository = ReturnType<typeof createRunsRepository>;
