import { newId } from '../../platform/ids.js';
import { actionFor, matchesRule, releaseTime, type AlertState } from './alerts.fns.js';
import type { AlertRow } from './alerts.repository.js';
import type { Message } from './channels.js';
import type { NotificationRow, NotificationsRepository } from './notifications.repository.js';

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

function row(a: AlertRow, channelId: string, ruleId: string, kind: 'alert' | 'escalation', state: AlertState, dueMs: number, nowIso: string): NotificationRow {
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
    createdAt: nowIso,
    updatedAt: nowIso,
  };
}

/**
 * Writes the outbox rows an alert change calls for, in the caller's transaction: every enabled
 * rule that matches names channels (each channel once per change). Opened: a trigger, held until
 * the rule's quiet hours end, and an escalation row due `escalate_after_minutes` later (dropped at
 * delivery if the alert was acknowledged or resolved by then). Repeated: a trigger again only
 * once the rule's repeat interval has passed since the last one (no interval: never). Acknowledged
 * and resolved: an acknowledge / resolve to the matching rules' channels.
 */
export async function routeChange(repo: NotificationsRepository, alert: AlertRow, change: AlertChange, nowMs: number): Promise<number> {
  const rules = (await repo.listRules(true)).filter((r) => matchesRule(r.match, alert));
  const nowIso = new Date(nowMs).toISOString();
  const rows: NotificationRow[] = [];
  const seen = new Set<string>();
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
      rows.push(row(alert, channelId, rule.id, 'alert', alert.state as AlertState, due, nowIso));
    }
    if (change === 'opened' && rule.escalateAfterMinutes) {
      const at = Math.max(due, nowMs + rule.escalateAfterMinutes * 60_000);
      for (const channelId of rule.escalationChannelIds) rows.push(row(alert, channelId, rule.id, 'escalation', 'open', at, nowIso));
    }
  }
  await repo.enqueue(rows);
  return rows.length;
}
