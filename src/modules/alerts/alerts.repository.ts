import { sql } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import type { AlertsTables } from './alerts.tables.js';

const ALERT_COLUMNS = [
  'id',
  'source',
  'title',
  'description',
  'severity',
  'labels',
  'dedupKey',
  'state',
  'count',
  'assigneeId',
  'notes',
  'autoResolveAt',
  'firstSeenAt',
  'lastSeenAt',
  'acknowledgedAt',
  'acknowledgedBy',
  'resolvedAt',
  'resolvedBy',
  'createdAt',
  'updatedAt',
] as const;

export interface Note {
  at: string;
  by: string;
  text: string;
}
type Raw = AlertsTables['alerts'];
export type AlertRow = Omit<Raw, 'labels' | 'notes' | 'openKey'> & { labels: Record<string, string>; notes: Note[] };

const toAlert = (r: Omit<Raw, 'openKey'>): AlertRow => ({ ...r, labels: JSON.parse(r.labels) as Record<string, string>, notes: JSON.parse(r.notes) as Note[] });

/** alerts, alert_labels and alert_ingest_tokens. */
export function createAlertsRepository(base: Db) {
  const db = base.withTables<AlertsTables>();
  const dialect = dialectOf(base);
  const alerts = () => db.selectFrom('alerts').select(ALERT_COLUMNS);

  return {
    async find(id: string): Promise<AlertRow | undefined> {
      const r = await alerts().where('id', '=', id).executeTakeFirst();
      return r ? toAlert(r) : undefined;
    },
    /** The open or acknowledged alert with this dedup key. */
    async findOpen(dedupKey: string): Promise<AlertRow | undefined> {
      const r = await alerts().where('openKey', '=', dedupKey).executeTakeFirst();
      return r ? toAlert(r) : undefined;
    },
    async insert(a: AlertRow): Promise<void> {
      await db
        .insertInto('alerts')
        .values({ ...a, labels: JSON.stringify(a.labels), notes: JSON.stringify(a.notes), openKey: a.state === 'resolved' ? null : a.dedupKey })
        .execute();
      const labels = Object.entries(a.labels);
      if (labels.length > 0) {
        await db
          .insertInto('alertLabels')
          .values(labels.map(([key, value]) => ({ alertId: a.id, key, value })))
          .execute();
      }
    },
    /** A repeat: count + 1, last seen, newer title/description/severity; false if it was resolved meanwhile. */
    async repeat(
      id: string,
      set: { title: string; description: string; severity: string; lastSeenAt: string; autoResolveAt: string | null },
    ): Promise<boolean> {
      const r = await db
        .updateTable('alerts')
        .set({ ...set, count: sql`count + 1`, updatedAt: set.lastSeenAt })
        .where('id', '=', id)
        .where('state', '!=', 'resolved')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Compare-and-set on the state, so two acknowledgements cannot both win. */
    async transition(
      id: string,
      from: readonly string[],
      set: Partial<Pick<Raw, 'state' | 'acknowledgedAt' | 'acknowledgedBy' | 'resolvedAt' | 'resolvedBy' | 'updatedAt'>>,
    ): Promise<boolean> {
      const r = await db
        .updateTable('alerts')
        .set({ ...set, ...(set.state === 'resolved' ? { openKey: null } : {}) })
        .where('id', '=', id)
        .where('state', 'in', [...from])
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async update(id: string, set: { assigneeId?: string | null; notes?: Note[]; updatedAt: string }): Promise<void> {
      await db
        .updateTable('alerts')
        .set({
          ...(set.assigneeId !== undefined ? { assigneeId: set.assigneeId } : {}),
          ...(set.notes ? { notes: JSON.stringify(set.notes) } : {}),
          updatedAt: set.updatedAt,
        })
        .where('id', '=', id)
        .execute();
    },
    async remove(id: string): Promise<boolean> {
      return Number((await db.deleteFrom('alerts').where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
    },
    /** Alerts whose auto-resolve time has passed and are not resolved yet. */
    async dueForAutoResolve(now: string, limit: number): Promise<string[]> {
      const rows = await db.selectFrom('alerts').select('id').where('state', '!=', 'resolved').where('autoResolveAt', '<=', now).limit(limit).execute();
      return rows.map((r) => r.id);
    },
    async list(filters: FilterCondition[], labels: [string, string][], keys: SortKey[], cursor: string | undefined, limit: number, q?: string) {
      let query = applyFilters(alerts(), filters, dialect);
      for (const [key, value] of labels) {
        query = query.where((eb) =>
          eb.exists(
            eb.selectFrom('alertLabels').select('alertId').whereRef('alertLabels.alertId', '=', 'alerts.id').where('key', '=', key).where('value', '=', value),
          ),
        );
      }
      if (q) {
        const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where((eb) =>
          eb.or([
            sql<boolean>`${eb.ref('title')} ${sql.raw(dialect === 'postgres' ? 'ilike' : 'like')} ${pattern} escape '\\'`,
            sql<boolean>`${eb.ref('description')} ${sql.raw(dialect === 'postgres' ? 'ilike' : 'like')} ${pattern} escape '\\'`,
          ]),
        );
      }
      const rows = await applyPage(query, keys, cursor, limit).execute();
      const page = pageResult(rows, keys, limit, camelValue);
      return { items: page.items.map(toAlert), next_cursor: page.next_cursor };
    },

    async insertToken(row: AlertsTables['alertIngestTokens']): Promise<void> {
      await db.insertInto('alertIngestTokens').values(row).execute();
    },
    async tokenByHash(hash: string) {
      return db.selectFrom('alertIngestTokens').select(['id', 'name', 'source', 'lastUsedAt']).where('tokenHash', '=', hash).executeTakeFirst();
    },
    async touchToken(id: string, at: string): Promise<void> {
      await db.updateTable('alertIngestTokens').set({ lastUsedAt: at }).where('id', '=', id).execute();
    },
    async listTokens() {
      return db.selectFrom('alertIngestTokens').select(['id', 'name', 'source', 'createdBy', 'lastUsedAt', 'createdAt']).orderBy('name').execute();
    },
    async tokenNameTaken(name: string): Promise<boolean> {
      return (await db.selectFrom('alertIngestTokens').select('id').where('name', '=', name).executeTakeFirst()) !== undefined;
    },
    async removeToken(id: string): Promise<boolean> {
      return Number((await db.deleteFrom('alertIngestTokens').where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
    },
  };
}
export type AlertsRepository = ReturnType<typeof createAlertsRepository>;
