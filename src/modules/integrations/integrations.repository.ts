import type { Db } from '../../platform/db/database.js';
import { bool } from '../../platform/db/columns.js';
import type { IntegrationsTables } from './integrations.tables.js';

type RawConnection = IntegrationsTables['integrationConnections'];
export type ConnectionRow = Omit<RawConnection, 'verifyTls'> & { verifyTls: boolean };
const CONNECTION_COLUMNS = ['system', 'url', 'credentialId', 'timeoutMs', 'verifyTls', 'caCert', 'apiVersion', 'updatedBy', 'createdAt', 'updatedAt'] as const;
/** Rows per statement when reading or writing mappings (PostgreSQL's parameter limit and SQLite's both hold). */
const CHUNK = 500;

/** integration_connections (one per system) and integration_objects (external id ↔ local id). */
export function createIntegrationsRepository(base: Db) {
  const db = base.withTables<IntegrationsTables>();
  return {
    async connection(system: string): Promise<ConnectionRow | undefined> {
      const r = await db.selectFrom('integrationConnections').select(CONNECTION_COLUMNS).where('system', '=', system).executeTakeFirst();
      return r ? { ...(r as RawConnection), verifyTls: bool.read(r.verifyTls) } : undefined;
    },
    async saveConnection(row: ConnectionRow): Promise<void> {
      const values = { ...row, verifyTls: bool.write(row.verifyTls) };
      const { system: _system, createdAt: _created, ...update } = values;
      await db
        .insertInto('integrationConnections')
        .values(values)
        .onConflict((oc) => oc.column('system').doUpdateSet(update))
        .execute();
    },
    async deleteConnection(system: string): Promise<boolean> {
      const r = await db.deleteFrom('integrationConnections').where('system', '=', system).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** external id → local id of every mapped object of one kind. */
    async mappings(system: string, kind: string): Promise<Map<string, string>> {
      const rows = await db.selectFrom('integrationObjects').select(['externalId', 'localId']).where('system', '=', system).where('kind', '=', kind).execute();
      return new Map(rows.map((r) => [r.externalId, r.localId]));
    },
    async upsertMappings(system: string, kind: string, pairs: readonly { externalId: string; localId: string }[], at: string): Promise<void> {
      for (let i = 0; i < pairs.length; i += CHUNK) {
        const slice = pairs.slice(i, i + CHUNK);
        // A local object re-mapped to a new external id (it was deleted and recreated upstream) drops its old row first.
        await db
          .deleteFrom('integrationObjects')
          .where('system', '=', system)
          .where('kind', '=', kind)
          .where(
            'localId',
            'in',
            slice.map((p) => p.localId),
          )
          .execute();
        await db
          .insertInto('integrationObjects')
          .values(slice.map((p) => ({ system, kind, externalId: p.externalId, localId: p.localId, syncedAt: at })))
          .onConflict((oc) =>
            oc.columns(['system', 'kind', 'externalId']).doUpdateSet((eb) => ({ localId: eb.ref('excluded.localId'), syncedAt: eb.ref('excluded.syncedAt') })),
          )
          .execute();
      }
    },
    async removeMappings(system: string, kind: string, localIds: readonly string[]): Promise<void> {
      for (let i = 0; i < localIds.length; i += CHUNK) {
        await db
          .deleteFrom('integrationObjects')
          .where('system', '=', system)
          .where('kind', '=', kind)
          .where('localId', 'in', localIds.slice(i, i + CHUNK))
          .execute();
      }
    },
  };
}

export type IntegrationsRepository = ReturnType<typeof createIntegrationsRepository>;
