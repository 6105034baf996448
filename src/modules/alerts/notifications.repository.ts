import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { bool } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { QuietHours, RuleMatch } from './alerts.fns.js';
import type { AlertsTables } from './alerts.tables.js';

type ChannelRaw = AlertsTables['notificationChannels'];
export type ChannelRow = Omit<ChannelRaw, 'settings' | 'enabled' | 'template' | 'secretsSealed'> & {
  settings: Record<string, unknown>;
  enabled: boolean;
  template: { subject?: string; body?: string } | null;
  secretsSealed: Record<string, string> | null;
};
type RuleRaw = Selectable<AlertsTables['notificationRules']>;
export type RuleRow = Omit<RuleRaw, 'enabled' | 'match' | 'channelIds' | 'quietHours' | 'escalationChannelIds' | 'groupBy' | 'groupWindowSeconds'> & {
  groupWindowSeconds: number;
  groupBy: string[];
  enabled: boolean;
  match: RuleMatch;
  channelIds: string[];
  quietHours: QuietHours | null;
  escalationChannelIds: string[];
};
export type NotificationRow = AlertsTables['notifications'];
export type AttemptRow = AlertsTables['notificationAttempts'];

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const toChannel = (r: ChannelRaw): ChannelRow => ({
  ...r,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  enabled: bool.read(r.enabled),
  template: parse(r.template),
  secretsSealed: parse(r.secretsSealed),
});
const fromChannel = (c: Partial<ChannelRow>): Partial<ChannelRaw> => {
  const out = { ...c } as Partial<ChannelRaw>;
  if (c.settings !== undefined) out.settings = JSON.stringify(c.settings);
  if (c.enabled !== undefined) out.enabled = bool.write(c.enabled);
  if (c.template !== undefined) out.template = c.template === null ? null : JSON.stringify(c.template);
  if (c.secretsSealed !== undefined) out.secretsSealed = c.secretsSealed === null ? null : JSON.stringify(c.secretsSealed);
  return out;
};
const toRule = (r: RuleRaw): RuleRow => ({
  ...r,
  enabled: bool.read(r.enabled),
  match: JSON.parse(r.match) as RuleMatch,
  channelIds: JSON.parse(r.channelIds) as string[],
  quietHours: parse(r.quietHours),
  escalationChannelIds: JSON.parse(r.escalationChannelIds) as string[],
  groupWindowSeconds: Number(r.groupWindowSeconds),
  groupBy: JSON.parse(r.groupBy) as string[],
});
const fromRule = (r: Partial<RuleRow>): Partial<RuleRaw> => {
  const out = { ...r } as Partial<RuleRaw>;
  if (r.enabled !== undefined) out.enabled = bool.write(r.enabled);
  if (r.match !== undefined) out.match = JSON.stringify(r.match);
  if (r.channelIds !== undefined) out.channelIds = JSON.stringify(r.channelIds);
  if (r.quietHours !== undefined) out.quietHours = r.quietHours === null ? null : JSON.stringify(r.quietHours);
  if (r.escalationChannelIds !== undefined) out.escalationChannelIds = JSON.stringify(r.escalationChannelIds);
  if (r.groupBy !== undefined) out.groupBy = JSON.stringify(r.groupBy);
  return out;
};

const CHANNEL_COLUMNS = ['id', 'name', 'type', 'settings', 'template', 'enabled', 'keyId', 'wrappedKey', 'secretsSealed', 'createdAt', 'updatedAt'] as const;
const RULE_COLUMNS = [
  'id',
  'name',
  'enabled',
  'match',
  'channelIds',
  'repeatIntervalSeconds',
  'quietHours',
  'escalateAfterMinutes',
  'escalationChannelIds',
  'groupWindowSeconds',
  'groupBy',
  'createdAt',
  'updatedAt',
] as const;
const NOTIFICATION_COLUMNS = [
  'id',
  'alertId',
  'channelId',
  'ruleId',
  'kind',
  'action',
  'payload',
  'status',
  'attempts',
  'nextAttemptAt',
  'lastStatusCode',
  'lastError',
  'deliveredAt',
  'groupKey',
  'createdAt',
  'updatedAt',
] as const;

/** notification_channels, notification_rules, notifications (the outbox) and notification_attempts. */
export function createNotificationsRepository(base: Db) {
  const db = base.withTables<AlertsTables>();
  const notifications = () => db.selectFrom('notifications').select(NOTIFICATION_COLUMNS);
  return {
    async insertChannel(c: ChannelRow): Promise<void> {
      await db
        .insertInto('notificationChannels')
        .values(fromChannel(c) as ChannelRaw)
        .execute();
    },
    async updateChannel(id: string, set: Partial<ChannelRow>): Promise<void> {
      await db.updateTable('notificationChannels').set(fromChannel(set)).where('id', '=', id).execute();
    },
    async findChannel(id: string): Promise<ChannelRow | undefined> {
      const r = await db.selectFrom('notificationChannels').select(CHANNEL_COLUMNS).where('id', '=', id).executeTakeFirst();
      return r ? toChannel(r) : undefined;
    },
    async channelsById(ids: readonly string[]): Promise<ChannelRow[]> {
      if (ids.length === 0) return [];
      return (
        await db
          .selectFrom('notificationChannels')
          .select(CHANNEL_COLUMNS)
          .where('id', 'in', [...ids])
          .execute()
      ).map(toChannel);
    },
    async listChannels(): Promise<ChannelRow[]> {
      return (await db.selectFrom('notificationChannels').select(CHANNEL_COLUMNS).orderBy('name').execute()).map(toChannel);
    },
    async channelNameTaken(name: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('notificationChannels').select('id').where('name', '=', name);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async removeChannel(id: string): Promise<boolean> {
      return Number((await db.deleteFrom('notificationChannels').where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
    },

    async insertRule(r: RuleRow): Promise<void> {
      await db
        .insertInto('notificationRules')
        .values(fromRule(r) as Insertable<AlertsTables['notificationRules']>)
        .execute();
    },
    async updateRule(id: string, set: Partial<RuleRow>): Promise<void> {
      await db
        .updateTable('notificationRules')
        .set(fromRule(set) as Updateable<AlertsTables['notificationRules']>)
        .where('id', '=', id)
        .execute();
    },
    async findRule(id: string): Promise<RuleRow | undefined> {
      const r = await db.selectFrom('notificationRules').select(RULE_COLUMNS).where('id', '=', id).executeTakeFirst();
      return r ? toRule(r) : undefined;
    },
    async listRules(onlyEnabled = false): Promise<RuleRow[]> {
      let q = db.selectFrom('notificationRules').select(RULE_COLUMNS).orderBy('name');
      if (onlyEnabled) q = q.where('enabled', '=', bool.write(true));
      return (await q.execute()).map(toRule);
    },
    async ruleNameTaken(name: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('notificationRules').select('id').where('name', '=', name);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async removeRule(id: string): Promise<boolean> {
      return Number((await db.deleteFrom('notificationRules').where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
    },
    /** Rules naming the channel (a channel in use is not deleted). */
    async rulesUsing(channelId: string): Promise<string[]> {
      return (await this.listRules()).filter((r) => r.channelIds.includes(channelId) || r.escalationChannelIds.includes(channelId)).map((r) => r.name);
    },

    async enqueue(rows: NotificationRow[]): Promise<void> {
      if (rows.length > 0) await db.insertInto('notifications').values(rows).execute();
    },
    /**
     * Adds the alert to the open group `groupKey`, opening it as `open` when there is none, in the
     * caller's transaction. The member is attached by an UPDATE of the group row, which on
     * PostgreSQL locks it until commit: the worker's claim (a compare-and-set on the same row)
     * waits for it, and a claim that won first has cleared `group_key`, so the UPDATE finds no open
     * group and a new one is opened. Two first members racing: the unique `group_key` makes the
     * second INSERT do nothing (after the first commits), and it attaches to the first's row.
     */
    async joinGroup(groupKey: string, alertId: string, open: () => NotificationRow, now: string): Promise<string> {
      for (let i = 0; i < 5; i++) {
        const g = await db.updateTable('notifications').set({ updatedAt: now }).where('groupKey', '=', groupKey).returning('id').executeTakeFirst();
        if (g) {
          await db
            .insertInto('notificationGroupMembers')
            .values({ notificationId: g.id, alertId, addedAt: now })
            .onConflict((oc) => oc.columns(['notificationId', 'alertId']).doNothing())
            .execute();
          return g.id;
        }
        await db
          .insertInto('notifications')
          .values(open())
          .onConflict((oc) => oc.column('groupKey').doNothing())
          .execute();
      }
      throw new Error(`could not join notification group ${groupKey}`);
    },
    /** The alerts of a group, in the order they joined. */
    async groupMembers(notificationId: string): Promise<string[]> {
      return (
        await db
          .selectFrom('notificationGroupMembers')
          .select('alertId')
          .where('notificationId', '=', notificationId)
          .orderBy('addedAt')
          .orderBy('alertId')
          .execute()
      ).map((r) => r.alertId);
    },
    /** When the alert last went to the channel under a rule, on its own or as a group's member (for the repeat interval). */
    async lastSent(alertId: string, channelId: string): Promise<string | null> {
      const own = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.max('createdAt').as('at'))
        .where('alertId', '=', alertId)
        .where('channelId', '=', channelId)
        .where('kind', '=', 'alert')
        .executeTakeFirst();
      const grouped = await db
        .selectFrom('notificationGroupMembers as m')
        .innerJoin('notifications as n', 'n.id', 'm.notificationId')
        .select((eb) => eb.fn.max('m.addedAt').as('at'))
        .where('m.alertId', '=', alertId)
        .where('n.channelId', '=', channelId)
        .executeTakeFirst();
      const times = [own?.at, grouped?.at].filter((t): t is string => typeof t === 'string');
      return times.length === 0 ? null : times.sort().at(-1)!;
    },
    async findNotification(id: string): Promise<NotificationRow | undefined> {
      return notifications().where('id', '=', id).executeTakeFirst();
    },
    async listNotifications(
      where: { status?: string | undefined; alertId?: string | undefined; channelId?: string | undefined },
      keys: SortKey[],
      cursor: string | undefined,
      limit: number,
    ) {
      let q = notifications();
      if (where.status) q = q.where('status', '=', where.status);
      if (where.alertId) q = q.where('alertId', '=', where.alertId);
      if (where.channelId) q = q.where('channelId', '=', where.channelId);
      return pageResult(await applyPage(q, keys, cursor, limit).execute(), keys, limit, camelValue);
    },
    async attempts(notificationId: string): Promise<AttemptRow[]> {
      return db
        .selectFrom('notificationAttempts')
        .select(['id', 'notificationId', 'attempt', 'statusCode', 'error', 'durationMs', 'at'])
        .where('notificationId', '=', notificationId)
        .orderBy('at')
        .orderBy('id')
        .execute();
    },
    /** Pending rows due now, and running rows whose lease ran out (their worker died). */
    async due(now: string, limit: number): Promise<NotificationRow[]> {
      return notifications().where('status', 'in', ['pending', 'running']).where('nextAttemptAt', '<=', now).orderBy('nextAttemptAt').limit(limit).execute();
    },
    async nextDue(): Promise<string | null> {
      const r = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.min('nextAttemptAt').as('at'))
        .where('status', 'in', ['pending', 'running'])
        .executeTakeFirst();
      return (r?.at as string | null | undefined) ?? null;
    },
    /** Compare-and-set: status running, `next_attempt_at` a lease ahead; false if another worker took it. */
    async claim(n: Pick<NotificationRow, 'id' | 'status' | 'nextAttemptAt'>, leaseUntil: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('notifications')
        // A group stops taking members once claimed (`group_key` cleared): later alerts open a new one.
        .set({ status: 'running', nextAttemptAt: leaseUntil, updatedAt: now, groupKey: null })
        .where('id', '=', n.id)
        .where('status', '=', n.status)
        .where('nextAttemptAt', '=', n.nextAttemptAt)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Records the attempt and the outcome, only if this worker still holds the lease. */
    async finish(
      id: string,
      leaseUntil: string,
      attempt: AttemptRow,
      set: Pick<NotificationRow, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'deliveredAt' | 'updatedAt'>,
    ): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('notifications')
          .set(set)
          .where('id', '=', id)
          .where('status', '=', 'running')
          .where('nextAttemptAt', '=', leaseUntil)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        if (attempt.attempt > 0) await trx.insertInto('notificationAttempts').values(attempt).execute();
        return true;
      });
    },
    /** A dead-lettered notification goes back to pending with a fresh attempt budget. */
    async replay(id: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable('notifications')
        .set({ status: 'pending', attempts: 0, nextAttemptAt: now, updatedAt: now })
        .where('id', '=', id)
        .where('status', '=', 'dead')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await db
        .selectFrom('notifications')
        .select(['status', sql<number>`count(*)`.as('n')])
        .groupBy('status')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
