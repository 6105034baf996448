import { Duration } from 'luxon';
import { json } from '../../platform/db/columns.js';
import { BadRequestError } from '../../platform/errors.js';
import { TYPE_SPECS, type CredentialType } from './credential-types.fns.js';
import type { CredentialRow } from './credentials.repository.js';
import type { AccessLogEntry, Credential } from './credentials.schemas.js';
import type { AccessLogRow } from './credentials.repository.js';

/** Team scoping is the platform's rule (admins and the system see all, others team-less plus their own). */
export { teamScope, inTeamScope as inScope } from '../../platform/db/team-scope.js';

const MAX_WINDOW_DAYS = 3660;

/** `P14D`, `PT12H`, `P1M` … → the instant `now + duration`; 400 naming the field otherwise. */
export function expiringBefore(raw: string, now: number): string {
  const d = Duration.fromISO(raw);
  const ms = d.isValid ? d.toMillis() : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_WINDOW_DAYS * 86_400_000) {
    throw new BadRequestError('INVALID_DURATION', 'expiring_within must be a positive ISO 8601 duration', [
      { path: 'query.expiring_within', message: `'${raw.slice(0, 50)}' is not a positive ISO 8601 duration of at most 10 years (e.g. P14D, PT12H)` },
    ]);
  }
  return new Date(now + ms).toISOString();
}

/** A row as clients see it: metadata, public fields, and `{ set }` for each secret field of its type. */
export function toView(row: CredentialRow, now: number): Credential {
  const type = row.type as CredentialType;
  const attributes = json.read<Record<string, string>>(row.attributes);
  const set = new Set(json.read<string[]>(row.secretFields));
  const secrets: Record<string, { set: boolean }> = {};
  for (const f of TYPE_SPECS[type].secret) secrets[f] = { set: set.has(f) };
  return {
    id: row.id,
    name: row.name,
    type,
    description: row.description,
    tags: json.read<string[]>(row.tags),
    team_id: row.teamId,
    ...(attributes as Partial<Credential>),
    secrets,
    expires_at: row.expiresAt,
    expired: row.expiresAt !== null && Date.parse(row.expiresAt) <= now,
    key_id: row.keyId,
    created_by: row.createdBy,
    updated_by: row.updatedBy,
    last_used_at: row.lastUsedAt,
    last_used_by: row.lastUsedBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export function toAccessView(row: AccessLogRow): AccessLogEntry {
  return {
    id: row.id,
    time: row.time,
    action: row.action,
    actor_kind: row.actorKind,
    actor_id: row.actorId,
    actor_name: row.actorName,
    purpose: row.purpose,
    job_run_id: row.jobRunId,
    outcome: row.outcome,
  };
}

/** Names are unique regardless of case and surrounding space. */
export function nameKey(name: string): string {
  return name.trim().toLowerCase();
}
