/** The jobs module's tables as Kysely sees them (camelCase under CamelCasePlugin). */
export type JobsTables = {
  jobRuns: {
    id: string;
    type: string;
    status: string;
    params: unknown;
    targets: unknown;
    credentialId: string | null;
    templateId: string | null;
    /** The team that may see the run (null: shared); docs/architecture.md "Team scoping". */
    teamId: string | null;
    retryOf: string | null;
    priority: number;
    timeoutMs: number;
    targetTimeoutMs: number;
    targetConcurrency: number;
    maxAttempts: number;
    backoffMs: number;
    attempt: number;
    changesDevices: number | boolean;
    triggerKind: string;
    triggeredBy: string | null;
    idempotencyKey: string | null;
    requestHash: string | null;
    expiresAt: string | null;
    notBefore: string | null;
    blockedBy: string | null;
    leaseOwner: string | null;
    leaseExpiresAt: string | null;
    workerId: string | null;
    cancelRequested: number | boolean;
    reason: string | null;
    output: unknown;
    logNextSeq: number;
    logDropped: number;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    updatedAt: string;
    /** Who the run acts for (re-checked at execution): `user` / `api_key` and its id; null: the system. */
    initiatorKind: string | null;
    initiatorId: string | null;
    /** The person behind the initiator (concurrency limit per user). */
    initiatorUserId: string | null;
  };
  jobRunTargets: {
    runId: string;
    idx: number;
    host: string;
    deviceId: string | null;
    status: string;
    attempt: number;
    startedAt: string | null;
    finishedAt: string | null;
    durationMs: number | null;
    output: string | null;
    parsed: unknown;
    error: string | null;
    deviceName: string | null;
    networkDriver: string | null;
    selector: string | null;
    credentialId: string | null;
    credentialProfileId: string | null;
    credentialSource: string | null;
  };
  jobLogs: { runId: string; seq: number; ts: string; level: string; target: string | null; message: string };
  jobDeviceLocks: { deviceKey: string; slot: number; runId: string; targetIdx: number; expiresAt: string };
  jobWorkers: { id: string; hostname: string; pid: number; concurrency: number; startedAt: string; lastSeenAt: string };
  jobTemplates: {
    id: string;
    name: string;
    description: string | null;
    type: string;
    params: unknown;
    targets: unknown;
    credentialId: string | null;
    priority: number;
    timeoutMs: number;
    targetTimeoutMs: number;
    targetConcurrency: number;
    maxAttempts: number;
    backoffMs: number;
    tags: unknown;
    folder: string | null;
    /** The team that may see and run the template (null: shared). */
    teamId: string | null;
    createdAt: string;
    updatedAt: string;
  };
};
