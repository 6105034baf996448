import { sql } from 'kysely';
import { dialectOf, type Db, type Write } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import { applyFilters, type FilterCondition } from '../../platform/http/filters.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { IdentityTables } from './identity.tables.js';
import { SECURITY_ACTIONS } from './security-events.js';

/** An audit record as read: the table row with its changes parsed. */
export type AuditRow = Omit<IdentityTables['auditLog'], 'changes'> & { changes: Record<string, unknown> | null };

const COLUMNS = ['id', 'time', 'actorKind', 'actorId', 'actorName', 'action', 'resourceType', 'resourceId', 'outcome', 'ip', 'requestId', 'userAgent'] as const;
// NOTE: read as text: CamelCasePlugin would rename the keys inside a parsed jsonb object (first_start → firstStart).
const changesText = sql<string | null>`cast(changes as text)`.as('changes');

const parsed = <R extends { changes: string | null }>(r: R) => ({ ...r, changes: r.changes === null ? null : json.read<Record<string, unknown>>(r.changes) });

/** The audit log: insert and read, nothing else (append-only by construction). */
export function createAuditRepository(base: Db) {
  const db = base.withTables<IdentityTables>();
  const dialect = dialectOf(base);
  return {
    /** The insert, not yet run: for `writeAtomically`, alone or with the change it records. */
    insertWrite(rows: readonly AuditRow[]): Write {
      return { table: 'auditLog', rows: rows.map((row) => ({ ...row, changes: row.changes === null ? null : json.write(row.changes) })) };
    },
    async insert(rows: readonly AuditRow[]): Promise<void> {
      await db
        .insertInto('auditLog')
        .values(this.insertWrite(rows).rows as never)
        .execute();
    },
    async list(filters: FilterCondition[], keys: SortKey[], cursor: string | undefined, limit: number) {
      const base = db.selectFrom('auditLog').select([...COLUMNS, changesText]);
      const rows = await applyPage(applyFilters(base, filters, dialect), keys, cursor, limit).execute();
      return pageResult(rows.map(parsed), keys, limit, camelValue);
    },
    /** One account's security events: entries about the user, and about their sessions and API keys. */
    async securityEvents(userId: string, keys: SortKey[], cursor: string | undefined, limit: number) {
      const base = db
        .selectFrom('auditLog')
        .select([...COLUMNS, changesText])
        .where((eb) =>
          eb.or([
            eb.and([eb('resourceType', '=', 'user'), eb('resourceId', '=', userId), eb('action', 'in', [...SECURITY_ACTIONS.user])]),
            eb.and([eb('resourceType', '=', 'session'), eb('actorId', '=', userId), eb('action', 'in', [...SECURITY_ACTIONS.session])]),
            eb.and([eb('resourceType', '=', 'api_key'), eb('actorId', '=', userId), eb('action', 'in', [...SECURITY_ACTIONS.api_key])]),
          ]),
        );
      const rows = await applyPage(base, keys, cursor, limit).execute();
      return pageResult(rows.map(parsed), keys, limit, camelValue);
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
