/**
 * TEST ONLY: a database-backed ScheduleRunner standing in for the jobs module in this module's
 * tests. It writes real `job_runs` / `job_templates` rows the way the jobs module does
 * (trigger_kind `schedule`, triggered_by = schedule id, unique idempotency_key), so run counts
 * are read from the database that several scheduler instances share. Never imported by src.
 */
import { sql } from 'kysely';
import type { Db } from '../../src/platform/db/database.js';
import { NotFoundError } from '../../src/platform/errors.js';
import { newId, nowIso } from '../../src/platform/ids.js';
import { isUniqueViolation } from '../../src/modules/schedules/schedules.repository.js';
import type { ScheduleRunner } from '../../src/modules/schedules/schedule-runner.js';

type Tables = {
  jobTemplates: Record<string, unknown> & { id: string; name: string };
  jobRuns: Record<string, unknown> & {
    id: string;
    status: string;
    triggeredBy: string | null;
    idempotencyKey: string | null;
    finishedAt: string | null;
    createdAt: string;
    templateId: string | null;
  };
};

export interface RunnerDouble extends ScheduleRunner {
  createTemplate(name?: string): Promise<string>;
  deleteTemplate(id: string): Promise<void>;
  finish(runId: string, status?: string): Promise<void>;
  runsOf(scheduleId: string): Promise<{ id: string; status: string; idempotencyKey: string | null; triggerKind: string }[]>;
  /** Makes the next runTemplate call for the schedule fail like a process dying: `before` (nothing created) or `after` (created, answer lost). */
  crash(scheduleId: string, when: 'before' | 'after'): void;
  calls: number;
}

export function createRunnerDouble(base: Db): RunnerDouble {
  const db = base.withTables<Tables>();
  const crashes = new Map<string, 'before' | 'after'>();
  const double: RunnerDouble = {
    calls: 0,
    async createTemplate(name = `tpl-${newId()}`) {
      const id = newId();
      const now = nowIso();
      await db
        .insertInto('jobTemplates')
        .values({
          id,
          name,
          description: null,
          type: 'ping',
          params: '{}',
          targets: '["127.0.0.1"]',
          credentialId: null,
          priority: 5,
          timeoutMs: 1000,
          targetTimeoutMs: 1000,
          targetConcurrency: 1,
          maxAttempts: 1,
          backoffMs: 0,
          tags: '[]',
          folder: null,
          createdAt: now,
          updatedAt: now,
        })
        .execute();
      return id;
    },
    async deleteTemplate(id) {
      await db.deleteFrom('jobTemplates').where('id', '=', id).execute();
    },
    async templateExists(_actor, id) {
      return (await db.selectFrom('jobTemplates').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },
    async runTemplate(_actor, templateId, options) {
      double.calls += 1;
      if (crashes.get(options.scheduleId) === 'before') {
        crashes.delete(options.scheduleId);
        throw new Error('simulated crash before the run was created');
      }
      const existing = await db.selectFrom('jobRuns').select('id').where('idempotencyKey', '=', options.idempotencyKey).executeTakeFirst();
      if (existing) return { runId: existing.id };
      if (!(await double.templateExists({} as never, templateId))) {
        throw new NotFoundError('JOB_TEMPLATE_NOT_FOUND', `Job template ${templateId} does not exist`);
      }
      const id = newId();
      const now = nowIso();
      try {
        await db
          .insertInto('jobRuns')
          .values({
            id,
            type: 'ping',
            status: 'queued',
            params: JSON.stringify(options.overrides),
            targets: '["127.0.0.1"]',
            credentialId: null,
            templateId,
            retryOf: null,
            priority: 5,
            timeoutMs: 1000,
            targetTimeoutMs: 1000,
            targetConcurrency: 1,
            maxAttempts: 1,
            backoffMs: 0,
            attempt: 0,
            changesDevices: 0,
            triggerKind: 'schedule',
            triggeredBy: options.scheduleId,
            idempotencyKey: options.idempotencyKey,
            notBefore: null,
            blockedBy: null,
            leaseOwner: null,
            leaseExpiresAt: null,
            workerId: null,
            cancelRequested: 0,
            reason: null,
            output: null,
            logNextSeq: 1,
            logDropped: 0,
            createdAt: now,
            startedAt: null,
            finishedAt: null,
            updatedAt: now,
          })
          .execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const row = await db.selectFrom('jobRuns').select('id').where('idempotencyKey', '=', options.idempotencyKey).executeTakeFirstOrThrow();
        return { runId: row.id };
      }
      if (crashes.get(options.scheduleId) === 'after') {
        crashes.delete(options.scheduleId);
        throw new Error('simulated crash after the run was created');
      }
      return { runId: id };
    },
    async activeRunsOfSchedule(scheduleId) {
      const row = await db
        .selectFrom('jobRuns')
        .select(sql<number>`count(*)`.as('n'))
        .where('triggeredBy', '=', scheduleId)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async runStatuses(ids) {
      const rows = await db
        .selectFrom('jobRuns')
        .select(['id', 'status', 'finishedAt'])
        .where('id', 'in', [...ids])
        .execute();
      return new Map(rows.map((r) => [r.id, { status: r.status, finishedAt: r.finishedAt }]));
    },
    async finish(runId, status = 'succeeded') {
      await db.updateTable('jobRuns').set({ status, finishedAt: nowIso() }).where('id', '=', runId).execute();
    },
    async runsOf(scheduleId) {
      const rows = await db
        .selectFrom('jobRuns')
        .select(['id', 'status', 'idempotencyKey', 'triggerKind', 'createdAt'])
        .where('triggeredBy', '=', scheduleId)
        .orderBy('createdAt')
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ id: r.id, status: r.status, idempotencyKey: r.idempotencyKey, triggerKind: String(r.triggerKind) }));
    },
    crash(scheduleId, when) {
      crashes.set(scheduleId, when);
    },
  };
  return double;
}
