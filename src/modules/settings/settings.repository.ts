import type { Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import type { SettingsTables } from './settings.tables.js';

export interface StoredSection {
  section: string;
  /** The keys set in the database; a secret key holds its sealed form (settings.store.ts#seal). */
  value: Record<string, unknown>;
  version: number;
  updatedAt: string;
  updatedBy: string | null;
}

/** The only place Kysely touches `settings`: one row per section. */
export function createSettingsRepository(db: Db) {
  const t = db.withTables<SettingsTables>();
  const toStored = (r: { key: string; value: unknown; version: number; updatedAt: string | Date; updatedBy: string | null }): StoredSection => ({
    section: r.key,
    value: json.read<Record<string, unknown>>(r.value) ?? {},
    version: Number(r.version),
    updatedAt: r.updatedAt instanceof Date ? r.updatedAt.toISOString() : r.updatedAt,
    updatedBy: r.updatedBy,
  });
  return {
    async get(section: string): Promise<StoredSection | null> {
      const row = await t.selectFrom('settings').select(['key', 'value', 'version', 'updatedAt', 'updatedBy']).where('key', '=', section).executeTakeFirst();
      return row ? toStored(row) : null;
    },
    async all(): Promise<StoredSection[]> {
      const rows = await t.selectFrom('settings').select(['key', 'value', 'version', 'updatedAt', 'updatedBy']).execute();
      return rows.map(toStored);
    },
    /** Section → version, the cheap query of the periodic cross-node check. */
    async versions(): Promise<Map<string, number>> {
      const rows = await t.selectFrom('settings').select(['key', 'version']).execute();
      return new Map(rows.map((r) => [r.key, Number(r.version)]));
    },
    /**
     * Writes the section if it is still at `expected` (0: no row yet); false when another
     * writer got there first (optimistic concurrency).
     */
    async write(section: string, expected: number, value: Record<string, unknown>, at: string, by: string): Promise<boolean> {
      if (expected === 0) {
        const inserted = await t
          .insertInto('settings')
          .values({ key: section, value: json.write(value), version: 1, updatedAt: at, updatedBy: by })
          .onConflict((oc) => oc.column('key').doNothing())
          .executeTakeFirst();
        return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
      }
      const updated = await t
        .updateTable('settings')
        .set({ value: json.write(value), version: expected + 1, updatedAt: at, updatedBy: by })
        .where('key', '=', section)
        .where('version', '=', expected)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) === 1;
    },
  };
}
export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
