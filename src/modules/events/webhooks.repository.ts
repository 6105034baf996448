import type { Selectable } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { bool, json } from '../../platform/db/columns.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { nowIso } from '../../platform/ids.js';
import type { EventsTables } from './events.tables.js';

export interface WebhookRow {
  id: string;
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  secretSealed: string;
  keyId: string;
  wrappedKey: string;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryRow = Selectable<EventsTables['webhookDeliveries']>;

const WEBHOOK_COLUMNS = ['id', 'name', 'url', 'events', 'enabled', 'secretSealed', 'keyId', 'wrappedKey', 'createdAt', 'updatedAt'] as const;
const DELIVERY_COLUMNS = [
  'id',
  'webhookId',
  'eventId',
  'eventName',
  'body',
  'status',
  'attempts',
  'nextAttemptAt',
  'statusCode',
  'durationMs',
  'error',
  'createdAt',
  'updatedAt',
] as const;

function toWebhook(r: EventsTables['webhooks']): WebhookRow {
  return { ...r, events: json.read<string[]>(r.events), enabled: bool.read(r.enabled) };
}

function encode(w: Partial<WebhookRow>): Partial<EventsTables['webhooks']> {
  const { events, enabled, ...rest } = w;
  return { ...rest, ...(events !== undefined ? { events: json.write(events) } : {}), ...(enabled !== undefined ? { enabled: bool.write(enabled) } : {}) };
}

/** webhooks and webhook_deliveries. */
export function createWebhooksRepository(base: Db) {
  const db = base.withTables<EventsTables>();
  const webhooks = () => db.selectFrom('webhooks').select(WEBHOOK_COLUMNS);
  return {
    db: base,
    /** Master-key rotation: secrets whose data key is not under `keyId`, by id. */
    sealedNotUnder(keyId: string, afterId: string, limit: number) {
      return db
        .selectFrom('webhooks')
        .select(['id', 'keyId', 'wrappedKey'])
        .where('keyId', '!=', keyId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
    },
    /** Swaps the wrapped data key only if nobody changed it meanwhile. */
    async replaceWrap(id: string, old: { keyId: string; wrappedKey: string }, next: { keyId: string; wrappedKey: string }): Promise<boolean> {
      const r = await db
        .updateTable('webhooks')
        .set({ keyId: next.keyId, wrappedKey: next.wrappedKey })
        .where('id', '=', id)
        .where('keyId', '=', old.keyId)
        .where('wrappedKey', '=', old.wrappedKey)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async countByKey(): Promise<{ keyId: string; n: number }[]> {
      const rows = await db
        .selectFrom('webhooks')
        .select(['keyId', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('keyId')
        .execute();
      return rows.map((r) => ({ keyId: r.keyId, n: Number(r.n) }));
    },
    async insert(w: WebhookRow): Promise<void> {
      await db
        .insertInto('webhooks')
        .values(encode(w) as EventsTables['webhooks'])
        .execute();
    },
    async find(id: string): Promise<WebhookRow | undefined> {
      const r = await webhooks().where('id', '=', id).executeTakeFirst();
      return r ? toWebhook(r) : undefined;
    },
    async findByName(name: string): Promise<WebhookRow | undefined> {
      const r = await webhooks().where('name', '=', name).executeTakeFirst();
      return r ? toWebhook(r) : undefined;
    },
    async enabled(): Promise<WebhookRow[]> {
      return (await webhooks().where('enabled', '=', bool.write(true)).execute()).map(toWebhook);
    },
    async list(keys: SortKey[], cursor: string | undefined, limit: number) {
      const rows = await applyPage(webhooks(), keys, cursor, limit).execute();
      const page = pageResult(rows, keys, limit, camelValue);
      return { items: page.items.map(toWebhook), next_cursor: page.next_cursor };
    },
    async update(id: string, fields: Partial<WebhookRow>): Promise<boolean> {
      const r = await db.updateTable('webhooks').set(encode(fields)).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async delete(id: string): Promise<boolean> {
      const r = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** Queues a delivery; a second one for the same webhook and event is ignored (at-least-once upstream). */
    async enqueue(rows: readonly DeliveryRow[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('webhookDeliveries')
        .values([...rows])
        .onConflict((oc) => oc.columns(['webhookId', 'eventId']).doNothing())
        .execute();
    },
    async findDelivery(id: string): Promise<DeliveryRow | undefined> {
      return db.selectFrom('webhookDeliveries').select(DELIVERY_COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async due(nowIsoText: string, limit: number): Promise<DeliveryRow[]> {
      return db
        .selectFrom('webhookDeliveries')
        .select(DELIVERY_COLUMNS)
        .where('status', '=', 'pending')
        .where('nextAttemptAt', '<=', nowIsoText)
        .orderBy('nextAttemptAt')
        .limit(limit)
        .execute();
    },
    /** The next due time of any pending delivery (null: none). */
    async nextDue(): Promise<string | null> {
      const r = await db
        .selectFrom('webhookDeliveries')
        .select((eb) => eb.fn.min('nextAttemptAt').as('at'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return (r?.at as string | null | undefined) ?? null;
    },
    /**
     * Claims a due delivery for one attempt: a compare-and-set on its due time, which moves it a
     * lease ahead (a node dying mid-attempt leaves it due again then). False: another node has it.
     */
    async claim(d: DeliveryRow, leaseUntil: string): Promise<boolean> {
      const r = await db
        .updateTable('webhookDeliveries')
        .set({ nextAttemptAt: leaseUntil, attempts: d.attempts + 1, updatedAt: nowIso() })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .where('nextAttemptAt', '=', d.nextAttemptAt)
        .where('attempts', '=', d.attempts)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async finish(id: string, attempt: number, fields: Pick<DeliveryRow, 'status' | 'nextAttemptAt' | 'statusCode' | 'durationMs' | 'error'>): Promise<void> {
      await db
        .updateTable('webhookDeliveries')
        .set({ ...fields, updatedAt: nowIso() })
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .execute();
    },
    async deliveries(webhookId: string, keys: SortKey[], cursor: string | undefined, limit: number) {
      const q = db.selectFrom('webhookDeliveries').select(DELIVERY_COLUMNS).where('webhookId', '=', webhookId);
      const rows = await applyPage(q, keys, cursor, limit).execute();
      return pageResult(rows, keys, limit, camelValue);
    },
  };
}

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;
