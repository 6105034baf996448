import type { JobsModule } from '../jobs/index.js';
import { AppError } from '../../platform/errors.js';
import { SYSTEM_ACTOR } from '../../platform/http/auth.js';
import type { ScheduleRunner } from './schedule-runner.js';

type Jobs = Pick<JobsModule, 'service' | 'templates'>;

const ACTIVE = ['queued', 'running'];

/**
 * The ScheduleRunner over the jobs module's public surface. Runs are created through
 * `templates.run` as the schedule's owner with `trigger: { kind: 'schedule', id }` and the tick's
 * idempotency key (the jobs service scopes keys of internal triggers by the trigger, not the
 * actor, so every node and every restart lands on the same key, whoever owns the schedule).
 */
export function createJobsScheduleRunner(jobs: Jobs): ScheduleRunner {
  return {
    async templateExists(actor, templateId) {
      try {
        await jobs.templates.checkRunnable(actor, templateId);
        return true;
      } catch (err) {
        if (err instanceof AppError && err.status === 404) return false;
        throw err;
      }
    },
    async runTemplate(actor, templateId, options) {
      const { run } = await jobs.templates.run(actor, templateId, Object.keys(options.overrides).length > 0 ? { params: options.overrides } : {}, {
        idempotencyKey: options.idempotencyKey,
        trigger: { kind: 'schedule', id: options.scheduleId },
      });
      return { runId: run.id };
    },
    async activeRunsOfSchedule(scheduleId) {
      // NOTE: the jobs list has no triggered-by filter yet, so this reads the active scheduled
      // runs (bounded) and counts this schedule's. A `trigger_id` filter in jobs would make it one
      // indexed count.
      const page = await jobs.service.listRuns(SYSTEM_ACTOR, { trigger_kind: ['schedule'], status: ACTIVE, limit: 1000 });
      return page.items.filter((r) => r.trigger.id === scheduleId).length;
    },
    async runStatuses(runIds) {
      const out = new Map<string, { status: string; finishedAt: string | null }>();
      await Promise.all(
        runIds.map(async (id) => {
          try {
            const run = await jobs.service.getRun(SYSTEM_ACTOR, id);
            out.set(id, { status: run.status, finishedAt: run.finished_at });
          } catch (err) {
            if (!(err instanceof AppError && err.status === 404)) throw err;
          }
        }),
      );
      return out;
    },
  };
}
