import { createHash } from 'node:crypto';
import { newId } from '../../platform/ids.js';
import { actionFor, deviceRefOf, matchesRule, needsDevice, releaseTime, type AlertState, type DeviceContext } from './alerts.fns.js';
import type { AlertRow } from './alerts.repository.js';
import type { Message } from './channels.js';
import type { NotificationRow, NotificationsRepository } from './notifications.repository.js';

/** Reads the device an alert names (by id or name) through the caller's transaction; null when there is none. */
export type DeviceLookup = (ref: { deviceId: string } | { name: string }) => Promise<DeviceContext | null>;

/** What happened to an alert, as routing sees it. */
export type AlertChange = 'opened' | 'repeated' | 'acknowledged' | 'resolved';

export const alertSnapshot = (a: AlertRow): Message['alert'] => ({
  id: a.id,
  source: a.source,
  title: a.title,
  description: a.description,
  severity: a.severity,
  state: a.state,
  labels: a.labels,
  count: a.count,
  dedup_key: a.dedupKey,
});

function row(
  a: AlertRow,
  channelId: string,
  ruleId: string,
  kind: 'alert' | 'escalation' | 'group',
  state: AlertState,
  dueMs: number,
  nowIso: string,
): NotificationRow {
  return {
    id: newId(),
    alertId: a.id,
    channelId,
    ruleId,
    kind,
    action: actionFor(state),
    payload: JSON.stringify(alertSnapshot(a)),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: new Date(dueMs).toISOString(),
    lastStatusCode: null,
    lastError: null,
    deliveredAt: null,
    groupKey: null,
    createdAt: nowIso,
    updatedAt: nowIso,
  };
}

/**
 * The group an opened alert joins under a rule with a grouping window: rule, channel, the values of
 * the rule's `group_by` names (a label, or the alert's `source`/`severity`; a missing label is
 * ''), and whether quiet hours hold the alert (a critical alert let through in quiet hours does
 * not wait with the held ones). Hashed: the key is a fixed-length column.
 */
export function groupKeyOf(
  ruleId: string,
  channelId: string,
  groupBy: readonly string[],
  alert: Pick<AlertRow, 'labels' | 'source' | 'severity'>,
  held: boolean,
): string {
  const values = groupBy.map((name) => (name === 'source' ? alert.source : name === 'severity' ? alert.severity : (alert.labels[name] ?? '')));
  const digest = createHash('sha256')
    .update(JSON.stringify([values, held]))
    .digest('hex')
    .slice(0, 40);
  return `${ruleId}:${channelId}:${digest}`;
}

/**
 * Writes the outbox rows an alert change calls for, in the caller's transaction: every enabled
 * rule that matches names channels (each channel once per change). Opened: a trigger, held until
 * the rule's quiet hours end, and an escalation row due `escalate_after_minutes` later (dropped at
 * delivery if the alert was acknowledged or resolved by then). Repeated: a trigger again only
 * once the rule's repeat interval has passed since the last one (no interval: never). Acknowledged
 * and resolved: an acknowledge / resolve to the matching rules' channels. Under a rule with a
 * grouping window an opened alert's trigger joins the rule's open group for the channel instead
 * (`joinGroup`): one `group` row, due when the window (or the quiet hours) ends, lists them all.
 * `lookup` reads the alert's device (location ancestry) through the same transaction.
 */
export async function routeChange(repo: NotificationsRepository, alert: AlertRow, change: AlertChange, nowMs: number, lookup?: DeviceLookup): Promise<number> {
  const enabled = await repo.listRules(true);
  // The device is read only when some rule matches on devices or locations (the cheap path otherwise).
  const ref = lookup && enabled.some((r) => needsDevice(r.match)) ? deviceRefOf(alert.labels) : null;
  const device = ref ? await lookup!(ref) : null;
  const rules = enabled.filter((r) => matchesRule(r.match, alert, device));
  const nowIso = new Date(nowMs).toISOString();
  const rows: NotificationRow[] = [];
  const seen = new Set<string>();
  let joined = 0;
  for (const rule of rules) {
    const due = releaseTime(rule.quietHours, alert.severity, nowMs);
    for (const channelId of rule.channelIds) {
      if (seen.has(channelId)) continue;
      if (change === 'repeated') {
        if (!rule.repeatIntervalSeconds) continue;
        const last = await repo.lastSent(alert.id, channelId);
        if (last && Date.parse(last) + rule.repeatIntervalSeconds * 1000 > nowMs) continue;
      }
      seen.add(channelId);
      if (change === 'opened' && rule.groupWindowSeconds > 0) {
        const key = groupKeyOf(rule.id, channelId, rule.groupBy, alert, due > nowMs);
        const at = Math.max(due, nowMs + rule.groupWindowSeconds * 1000);
        const open = () => ({ ...row(alert, channelId, rule.id, 'group', 'open', at, nowIso), alertId: null, payload: '{}', groupKey: key });
        await repo.joinGroup(key, alert.id, open, nowIso);
        joined++;
        continue;
      }
      rows.push(row(alert, channelId, rule.id, 'alert', alert.state as AlertState, due, nowIso));
    }
    if (change === 'opened' && rule.escalateAfterMinutes) {
      const at = Math.max(due, nowMs + rule.escalateAfterMinutes * 60_000);
      for (const channelId of rule.escalationChannelIds) rows.push(row(alert, channelId, rule.id, 'escalation', 'open', at, nowIso));
    }
  }
  await repo.enqueue(rows);
  return rows.length + joined;
}
