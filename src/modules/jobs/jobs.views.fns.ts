import type { LogLine } from './logs.repository.js';
import type { RunView, TargetResultView, TemplateView } from './jobs.schemas.js';
import type { Run, TargetRow } from './runs.repository.js';
import type { TemplateRow } from './templates.repository.js';
import type { RunStatus, TargetStatus, TriggerKind } from './run-state.fns.js';
import type { RunTargetView, TargetSpec } from './jobs.schemas.js';
import type { CredentialSource } from './targets.js';

/** API shapes from rows: the response schemas whitelist fields, these fill them. */
export function runView(run: Run, extra: { blockedBy: string | null; position: number | null }): RunView {
  return {
    id: run.id,
    type: run.type,
    status: run.status as RunStatus,
    blocked_by: extra.blockedBy,
    queue_position: extra.position,
    attempt: run.attempt,
    max_attempts: run.maxAttempts,
    priority: run.priority,
    params: run.params as Record<string, unknown>,
    targets: run.targets as TargetSpec[],
    credential_id: run.credentialId,
    credential_restricted: false,
    template_id: run.templateId,
    team_id: run.teamId,
    retry_of: run.retryOf,
    trigger: { kind: run.triggerKind as TriggerKind, id: run.triggeredBy },
    initiator: run.initiatorKind && run.initiatorId ? { kind: run.initiatorKind as 'user' | 'api_key', id: run.initiatorId } : null,
    reason: run.reason,
    timeout_ms: run.timeoutMs,
    target_timeout_ms: run.targetTimeoutMs,
    target_concurrency: run.targetConcurrency,
    backoff_ms: run.backoffMs,
    changes_devices: run.changesDevices,
    cancel_requested: run.cancelRequested,
    worker_id: run.workerId,
    log_lines: Math.max(0, run.logNextSeq - 1),
    log_dropped: run.logDropped,
    not_before: run.notBefore,
    expires_at: run.expiresAt,
    created_at: run.createdAt,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    updated_at: run.updatedAt,
  };
}

export function targetView(t: TargetRow): TargetResultView {
  return {
    index: t.idx,
    host: t.host,
    device_id: t.deviceId,
    status: t.status as TargetStatus,
    attempt: t.attempt,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
    duration_ms: t.durationMs,
    output: t.output,
    parsed: t.parsed ?? null,
    error: t.error,
    ...targetIdentity(t),
  };
}

/** What resolved a target and which credential served it (ids only). */
export function targetIdentity(t: TargetRow) {
  return {
    device_name: t.deviceName,
    network_driver: t.networkDriver,
    selector: t.selector,
    credential_id: t.credentialId,
    credential_profile_id: t.credentialProfileId,
    credential_source: t.credentialSource as CredentialSource | null,
  };
}

export function runTargetView(t: TargetRow): RunTargetView {
  return { index: t.idx, host: t.host, device_id: t.deviceId, status: t.status as TargetStatus, attempt: t.attempt, error: t.error, ...targetIdentity(t) };
}

export function templateView(t: TemplateRow): TemplateView {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    type: t.type,
    targets: t.targets as TargetSpec[],
    params: t.params as Record<string, unknown>,
    credential_id: t.credentialId,
    priority: t.priority,
    max_attempts: t.maxAttempts,
    backoff_ms: t.backoffMs,
    timeout_ms: t.timeoutMs,
    target_timeout_ms: t.targetTimeoutMs,
    target_concurrency: t.targetConcurrency,
    tags: t.tags as string[],
    folder: t.folder,
    team_id: t.teamId,
    credential_restricted: false,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

export function logView(l: LogLine): LogLine {
  return { seq: l.seq, ts: l.ts, level: l.level, target: l.target, message: l.message };
}
