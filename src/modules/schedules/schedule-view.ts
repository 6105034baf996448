import type { Timing, ScheduleKind } from './schedules.fns.js';
import { isoInterval } from './schedules.fns.js';
import type { ScheduleRow } from './schedules.repository.js';
import type { ScheduleView } from './schedules.schemas.js';

const ms = (v: string | null) => (v === null ? null : Date.parse(v));

/** The timing fields of a stored schedule, as the pure functions take them. */
export function timingOf(s: Pick<ScheduleRow, 'kind' | 'cron' | 'timezone' | 'intervalSeconds' | 'anchorAt' | 'at' | 'startAt' | 'endAt'>): Timing {
  return {
    kind: s.kind as ScheduleKind,
    cron: s.cron,
    timezone: s.timezone,
    intervalSeconds: s.intervalSeconds,
    anchorAt: ms(s.anchorAt),
    at: ms(s.at),
    startAt: ms(s.startAt),
    endAt: ms(s.endAt),
  };
}

/** The API shape: snake_case, a whitelist of fields. */
export function toView(s: ScheduleRow): ScheduleView {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    template_id: s.templateId,
    kind: s.kind as ScheduleView['kind'],
    cron: s.cron,
    timezone: s.timezone,
    interval_seconds: s.intervalSeconds,
    interval: s.intervalSeconds === null ? null : isoInterval(s.intervalSeconds),
    anchor_at: s.anchorAt,
    at: s.at,
    enabled: s.enabled,
    start_at: s.startAt,
    end_at: s.endAt,
    overrides: s.overrides,
    overlap: s.overlap as ScheduleView['overlap'],
    misfire: s.misfire as ScheduleView['misfire'],
    jitter_seconds: s.jitterSeconds,
    owner_id: s.ownerId,
    team_id: s.teamId,
    paused_reason: s.pausedReason,
    next_fire_at: s.nextFireAt,
    last_fire_at: s.lastFireAt,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}
