import { DateTime } from 'luxon';

export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof STATES)[number];
/** What a notification tells a channel: PagerDuty's event actions, the other channels' wording. */
export type NotifyAction = 'trigger' | 'acknowledge' | 'resolve';

/** What a routing rule matches; every part given must match (an empty rule matches every alert). */
export interface RuleMatch {
  sources?: string[] | undefined;
  severities?: Severity[] | undefined;
  /** Each label must be present with exactly this value. */
  labels?: Record<string, string> | undefined;
  /** The alert is about one of these devices (its `device_id` label, or `device` by name). */
  device_ids?: string[] | undefined;
  /** The alert's device is in one of these locations or below one of them. */
  location_ids?: string[] | undefined;
  /** The alert's `team_id` label is one of these (inventory devices have no team). */
  team_ids?: string[] | undefined;
}

/** The inventory facts of the device an alert is about: its id, and its location with every ancestor. */
export interface DeviceContext {
  deviceId: string;
  locationIds: string[];
}

/** Whether a rule needs the alert's device looked up (device or location match). */
export const needsDevice = (match: RuleMatch): boolean => Boolean(match.device_ids?.length || match.location_ids?.length);

/** The device an alert names: its `device_id` label, else its `device` label (a device name). */
export function deviceRefOf(labels: Record<string, string>): { deviceId: string } | { name: string } | null {
  if (labels.device_id) return { deviceId: labels.device_id };
  if (labels.device) return { name: labels.device };
  return null;
}

export interface QuietHours {
  /** `HH:MM`, local to `timezone`; a window may wrap past midnight (22:00–07:00). */
  start: string;
  end: string;
  timezone: string;
  /** Severities delivered even inside the window (default: critical). */
  except?: Severity[] | undefined;
}

/**
 * Whether an alert matches a rule. `device` is the inventory device the alert is about (null: none
 * or unknown), needed only when the rule matches devices or locations (`needsDevice`).
 */
export function matchesRule(
  match: RuleMatch,
  alert: { source: string; severity: string; labels: Record<string, string> },
  device: DeviceContext | null = null,
): boolean {
  if (match.sources?.length && !match.sources.includes(alert.source)) return false;
  if (match.severities?.length && !(match.severities as string[]).includes(alert.severity)) return false;
  for (const [k, v] of Object.entries(match.labels ?? {})) if (alert.labels[k] !== v) return false;
  if (match.device_ids?.length && !(device && match.device_ids.includes(device.deviceId))) return false;
  if (match.location_ids?.length && !(device && device.locationIds.some((l) => match.location_ids!.includes(l)))) return false;
  const team = alert.labels.team_id;
  if (match.team_ids?.length && !(team !== undefined && match.team_ids.includes(team))) return false;
  return true;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When a notification for `severity` at `nowMs` may go out under the quiet hours: `nowMs` itself
 * outside the window (or for an excepted severity), else the window's end.
 */
export function releaseTime(quiet: QuietHours | null, severity: string, nowMs: number): number {
  if (!quiet || (quiet.except ?? ['critical']).includes(severity as Severity)) return nowMs;
  const local = DateTime.fromMillis(nowMs, { zone: quiet.timezone });
  const now = local.hour * 60 + local.minute;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return nowMs;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return nowMs;
  // Wall-clock time of the end (set, not plus: a DST change that night must not shift it).
  let release = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  if (release.toMillis() <= nowMs) release = release.plus({ days: 1 }).set({ hour: Math.floor(end / 60), minute: end % 60 });
  return release.toMillis();
}

/** Delay before retry `attempt` (1-based): base × 2^(attempt−1), at most one hour. */
export function backoffMs(attempt: number, baseMs: number): number {
  return Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Replaces every secret's occurrence (and its URL-encoded form) with `***`, for the delivery log. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}

const SEVERITY_ALIASES: Record<string, Severity> = {
  critical: 'critical',
  fatal: 'critical',
  page: 'critical',
  emergency: 'critical',
  major: 'major',
  error: 'major',
  high: 'major',
  minor: 'minor',
  medium: 'minor',
  warning: 'warning',
  warn: 'warning',
  info: 'info',
  informational: 'info',
  low: 'info',
  none: 'info',
};

export function severityOf(value: string | undefined, fallback: Severity = 'warning'): Severity {
  return (value && SEVERITY_ALIASES[value.toLowerCase()]) || fallback;
}

export interface AlertmanagerAlert {
  status: string;
  labels: Record<string, string>;
  annotations?: Record<string, string> | undefined;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  generatorURL?: string | undefined;
  fingerprint?: string | undefined;
}

export interface IngestInput {
  source: string;
  title: string;
  description?: string | undefined;
  severity: Severity;
  labels?: Record<string, string> | undefined;
  dedup_key?: string | undefined;
  /** `resolved` resolves the open alert with this dedup key (nothing if there is none). */
  status?: 'firing' | 'resolved' | undefined;
  /** Resolves the alert by itself this long after it was last seen. */
  resolve_after_seconds?: number | undefined;
}

/** One Alertmanager (webhook payload v4) alert as an ingest: the fingerprint is the dedup key. */
export function fromAlertmanager(a: AlertmanagerAlert, common: Record<string, string>): IngestInput {
  const labels = { ...common, ...a.labels };
  const ann = a.annotations ?? {};
  const name = labels.alertname ?? 'alert';
  const key =
    a.fingerprint ??
    Object.entries(labels)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  return {
    source: 'alertmanager',
    title: (ann.summary ?? name).slice(0, 500),
    description: (ann.description ?? ann.message ?? '').slice(0, 10_000),
    severity: severityOf(labels.severity),
    labels,
    dedup_key: `alertmanager:${key}`.slice(0, 300),
    status: a.status === 'resolved' ? 'resolved' : 'firing',
  };
}

/** The dedup key of an ingest without one: source + title + sorted labels. */
export function defaultDedupKey(input: Pick<IngestInput, 'source' | 'title' | 'labels'>): string {
  const labels = Object.entries(input.labels ?? {})
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${input.source}:${input.title}:${labels}`.slice(0, 300);
}

/** Which action a state change tells channels. */
export const actionFor = (state: AlertState): NotifyAction => (state === 'open' ? 'trigger' : state === 'acknowledged' ? 'acknowledge' : 'resolve');

/** Quiet hours are well formed: `HH:MM` times and a zone luxon knows. */
export function quietHoursProblem(q: QuietHours): string | null {
  if (!DateTime.now().setZone(q.timezone).isValid) return `unknown time zone '${q.timezone}'`;
  for (const t of [q.start, q.end]) if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(t)) return `'${t}' is not HH:MM`;
  return null;
}
