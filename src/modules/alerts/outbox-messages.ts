import { SEVERITIES } from './alerts.fns.js';
import type { AlertRow, AlertsRepository } from './alerts.repository.js';
import type { Message } from './channels.js';
import type { NotificationRow, NotificationsRepository } from './notifications.repository.js';

/** What a claimed outbox row sends: the message's alert (and, for a user's security mail, the recipient), or why it sends nothing. */
export type Prepared = { alert: Message['alert']; to?: string } | { cancelled: string };

/** The payload of a `security` row: the affected user's address and the notice, rendered like an alert. */
export interface SecurityPayload {
  to: string;
  alert: Message['alert'];
}

const LISTED = 50;

/**
 * One message for a group's members (`routing.ts` → `joinGroup`), through the ordinary templates:
 * the count and titles in the title, one line per alert in the description, the highest
 * severity, the labels all members share, and `dedup_key` `group:<notification id>`.
 */
export function groupSnapshot(notificationId: string, members: readonly AlertRow[]): Message['alert'] {
  const rank = (s: string) => {
    const i = SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);
    return i < 0 ? SEVERITIES.length : i;
  };
  const first = members[0]!;
  const severity = members.reduce((best, a) => (rank(a.severity) < rank(best) ? a.severity : best), first.severity);
  const sources = new Set(members.map((a) => a.source));
  const labels = Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => members.every((a) => a.labels[k] === v)));
  const lines = members.slice(0, LISTED).map((a) => `- [${a.severity.toUpperCase()}] ${a.title} (${a.state}, seen ${a.count}×)`);
  if (members.length > LISTED) lines.push(`… and ${members.length - LISTED} more`);
  const title = members.length === 1 ? first.title : `${members.length} alerts: ${members.map((a) => a.title).join('; ')}`;
  return {
    id: members.length === 1 ? first.id : null,
    source: sources.size === 1 ? first.source : 'mixed',
    title: title.length > 200 ? `${title.slice(0, 199)}…` : title,
    description: lines.join('\n'),
    severity,
    state: 'open',
    labels,
    count: members.length,
    dedup_key: `group:${notificationId}`,
  };
}

/**
 * The message of a claimed row, read at delivery: an escalation of an alert no longer open and a
 * group whose alerts were all deleted send nothing; a group lists its members as they are now.
 */
export async function prepareMessage(deps: { repo: NotificationsRepository; alerts: AlertsRepository }, n: NotificationRow): Promise<Prepared> {
  if (n.kind === 'escalation' && n.alertId) {
    const alert = await deps.alerts.find(n.alertId);
    if (!alert || alert.state !== 'open') return { cancelled: `not escalated: the alert is ${alert?.state ?? 'deleted'}` };
  }
  if (n.kind === 'group') {
    const members: AlertRow[] = [];
    for (const id of await deps.repo.groupMembers(n.id)) {
      const a = await deps.alerts.find(id);
      if (a) members.push(a);
    }
    if (members.length === 0) return { cancelled: 'every alert of the group was deleted' };
    return { alert: groupSnapshot(n.id, members) };
  }
  if (n.kind === 'security') {
    const p = JSON.parse(n.payload) as SecurityPayload;
    return { alert: p.alert, to: p.to };
  }
  return { alert: JSON.parse(n.payload) as Message['alert'] };
}
