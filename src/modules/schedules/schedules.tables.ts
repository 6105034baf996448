/** The schedules module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type SchedulesTables = {
  schedules: {
    id: string;
    name: string;
    description: string | null;
    templateId: string;
    kind: string;
    cron: string | null;
    timezone: string;
    intervalSeconds: number | null;
    anchorAt: string | null;
    at: string | null;
    enabled: number | boolean;
    startAt: string | null;
    endAt: string | null;
    overrides: unknown;
    overlap: string;
    misfire: string;
    jitterSeconds: number;
    ownerId: string;
    teamId: string | null;
    /** Why the scheduler disabled the schedule (its owner may no longer run it); cleared when it is enabled again. */
    pausedReason: string | null;
    nextFireAt: string | null;
    nextDueAt: string | null;
    lastFireAt: string | null;
    createdAt: string;
    updatedAt: string;
  };
  scheduleFires: {
    id: string;
    scheduleId: string;
    trigger: string;
    fireAt: string;
    dueAt: string;
    outcome: string;
    missedCount: number;
    runId: string | null;
    reason: string | null;
    claimedBy: string;
    claimedAt: string;
    enqueuedAt: string | null;
  };
};
