import { ValidationError, type FieldError } from '../../platform/errors.js';
import { isValidTimezone, parseCron, parseIsoInterval, type ScheduleKind } from './schedules.fns.js';
import type { CreateScheduleBody, UpdateScheduleBody } from './schedules.schemas.js';

/** The timing and policy fields of a schedule after checking, as stored (times as ISO strings). */
export interface ScheduleFields {
  name: string;
  description: string | null;
  templateId: string;
  kind: ScheduleKind;
  cron: string | null;
  timezone: string;
  intervalSeconds: number | null;
  anchorAt: string | null;
  at: string | null;
  enabled: boolean;
  startAt: string | null;
  endAt: string | null;
  overrides: Record<string, unknown>;
  overlap: 'skip' | 'queue' | 'allow';
  misfire: 'skip' | 'run_once';
  jitterSeconds: number;
  teamId: string | null;
}

type Body = CreateScheduleBody | UpdateScheduleBody;

const KIND_FIELDS: Record<ScheduleKind, readonly string[]> = {
  cron: ['cron'],
  interval: ['interval_seconds', 'interval', 'anchor_at'],
  once: ['at'],
};

const isoOf = (v: string | null | undefined) => (v === null || v === undefined ? null : new Date(v).toISOString());

/**
 * Merges a create or patch body over the current fields (none on create) and checks the result
 * as a whole, listing every failing field. Fields of another kind are an error when sent and
 * cleared when left over from the previous kind, so PATCH {kind:'cron', cron} just works.
 */
export function mergeScheduleInput(current: ScheduleFields | null, body: Body, now: number): ScheduleFields {
  const errors: FieldError[] = [];
  const kind = (body.kind ?? current?.kind) as ScheduleKind;
  for (const [k, names] of Object.entries(KIND_FIELDS)) {
    if (k === kind) continue;
    for (const n of names) {
      if ((body as Record<string, unknown>)[n] !== undefined && (body as Record<string, unknown>)[n] !== null) {
        errors.push({ path: `body.${n}`, message: `only applies to kind '${k}', not '${kind}'` });
      }
    }
  }
  const keep = <T>(given: T | undefined, old: T, sameKind = true): T => (given !== undefined ? given : sameKind ? old : (null as T));
  const sameKind = current?.kind === kind;
  const timezone = body.timezone ?? current?.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) errors.push({ path: 'body.timezone', message: `'${timezone.slice(0, 64)}' is not an IANA time zone like Europe/Berlin` });

  let cron: string | null = null;
  let intervalSeconds: number | null = null;
  let anchorAt: string | null = null;
  let at: string | null = null;
  if (kind === 'cron') {
    cron = keep(body.cron, current?.cron ?? null, sameKind)?.trim() ?? null;
    if (cron === null) errors.push({ path: 'body.cron', message: "is required for kind 'cron'" });
    else if (isValidTimezone(timezone)) {
      const parsed = parseCron(cron, timezone);
      if ('error' in parsed) errors.push(parsed.error);
    }
  } else if (kind === 'interval') {
    if (body.interval_seconds != null && body.interval != null) {
      errors.push({ path: 'body.interval', message: 'give interval_seconds or interval, not both' });
    } else if (body.interval != null) {
      const parsed = parseIsoInterval(body.interval);
      if ('error' in parsed) errors.push(parsed.error);
      else intervalSeconds = parsed.seconds;
    } else {
      intervalSeconds = keep(body.interval_seconds, current?.intervalSeconds ?? null, sameKind);
    }
    if (intervalSeconds === null && !errors.some((e) => e.path === 'body.interval')) {
      errors.push({ path: 'body.interval_seconds', message: "is required for kind 'interval' (or interval as an ISO 8601 duration)" });
    }
    // Ticks fall on anchor + k × interval; without an anchor, on the time the interval was set.
    const intervalChanged = !sameKind || intervalSeconds !== current?.intervalSeconds;
    if (body.anchor_at != null) anchorAt = isoOf(body.anchor_at);
    else if (body.anchor_at === null || intervalChanged || !current?.anchorAt) anchorAt = new Date(now).toISOString();
    else anchorAt = current.anchorAt;
  } else {
    at = isoOf(keep(body.at, current?.at ?? null, sameKind));
    if (at === null) errors.push({ path: 'body.at', message: "is required for kind 'once'" });
    else if (body.at != null && Date.parse(at) <= now) errors.push({ path: 'body.at', message: 'is in the past' });
  }

  const startAt = isoOf(keep(body.start_at, current?.startAt ?? null));
  const endAt = isoOf(keep(body.end_at, current?.endAt ?? null));
  if (startAt !== null && endAt !== null && Date.parse(endAt) <= Date.parse(startAt)) {
    errors.push({ path: 'body.end_at', message: 'must be after start_at' });
  }
  const jitterSeconds = body.jitter_seconds ?? current?.jitterSeconds ?? 0;
  if (intervalSeconds !== null && jitterSeconds >= intervalSeconds && jitterSeconds > 0) {
    errors.push({ path: 'body.jitter_seconds', message: 'must be shorter than the interval, or ticks would reorder' });
  }
  if (errors.length > 0) {
    throw new ValidationError('SCHEDULE_INVALID', `The schedule is invalid: ${errors[0]!.path} ${errors[0]!.message}`.slice(0, 1000), errors);
  }

  return {
    name: body.name ?? current!.name,
    description: keep(body.description, current?.description ?? null),
    templateId: body.template_id ?? current!.templateId,
    kind,
    cron,
    timezone,
    intervalSeconds,
    anchorAt,
    at,
    enabled: body.enabled ?? current?.enabled ?? true,
    startAt,
    endAt,
    overrides: body.overrides ?? current?.overrides ?? {},
    overlap: body.overlap ?? current?.overlap ?? 'skip',
    misfire: body.misfire ?? current?.misfire ?? 'run_once',
    jitterSeconds,
    teamId: keep(body.team_id, current?.teamId ?? null),
  };
}

/** Whether the change moves the schedule's ticks (so the next tick is recomputed from now). */
export function timingChanged(a: ScheduleFields, b: ScheduleFields): boolean {
  const keys = ['kind', 'cron', 'timezone', 'intervalSeconds', 'anchorAt', 'at', 'enabled', 'startAt', 'endAt', 'jitterSeconds'] as const;
  return keys.some((k) => a[k] !== b[k]);
}
