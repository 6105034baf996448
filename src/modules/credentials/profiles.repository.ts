import type { Selectable } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import { applyPage, camelValue, pageResult, type SortKey } from '../../platform/http/pagination.js';
import type { CredentialsTables } from './credentials.tables.js';
import { teamWhere, type TeamScope } from '../../platform/db/team-scope.js';

export type ProfileRow = Selectable<CredentialsTables['credentialProfiles']>;
export interface ProfileEntry {
  position: number;
  credentialId: string;
  credentialName: string;
  credentialType: string;
}

const COLUMNS = ['id', 'name', 'nameKey', 'description', 'teamId', 'createdAt', 'updatedAt'] as const;

/** The only place Kysely touches credential_profiles, their entries and remembered hits. */
export function createProfilesRepository(rawDb: Db) {
  const db = rawDb.withTables<CredentialsTables>();
  return {
    findById: (id: string) => db.selectFrom('credentialProfiles').select(COLUMNS).where('id', '=', id).executeTakeFirst(),
    async nameTaken(nameKey: string, exceptId?: string): Promise<boolean> {
      let q = db.selectFrom('credentialProfiles').select('id').where('nameKey', '=', nameKey);
      if (exceptId) q = q.where('id', '!=', exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async list(scope: TeamScope, sort: SortKey[], cursor: string | undefined, limit: number) {
      let q = db.selectFrom('credentialProfiles').select(COLUMNS);
      q = q.where(teamWhere(scope, 'teamId'));
      const rows = await applyPage(q, sort, cursor, limit).execute();
      return pageResult(rows, sort, limit, camelValue);
    },
    async insert(row: ProfileRow): Promise<void> {
      await db.insertInto('credentialProfiles').values(row).execute();
    },
    async update(id: string, patch: Partial<ProfileRow>): Promise<void> {
      await db.updateTable('credentialProfiles').set(patch).where('id', '=', id).execute();
    },
    async remove(id: string): Promise<void> {
      await db.deleteFrom('credentialProfiles').where('id', '=', id).execute();
    },
    async replaceEntries(profileId: string, credentialIds: readonly string[]): Promise<void> {
      await db.deleteFrom('credentialProfileEntries').where('profileId', '=', profileId).execute();
      // Remembered hits for credentials no longer in the profile would be tried first otherwise.
      await db
        .deleteFrom('credentialProfileHits')
        .where('profileId', '=', profileId)
        .where('credentialId', 'not in', [...credentialIds])
        .execute();
      await db
        .insertInto('credentialProfileEntries')
        .values(credentialIds.map((credentialId, position) => ({ profileId, position, credentialId })))
        .execute();
    },
    /** Entries of the given profiles in order, with their credential's name and type. */
    async entries(profileIds: readonly string[]): Promise<Map<string, ProfileEntry[]>> {
      const out = new Map<string, ProfileEntry[]>(profileIds.map((id) => [id, []]));
      if (profileIds.length === 0) return out;
      const rows = await db
        .selectFrom('credentialProfileEntries as e')
        .innerJoin('credentials as c', 'c.id', 'e.credentialId')
        .select(['e.profileId', 'e.position', 'e.credentialId', 'c.name as credentialName', 'c.type as credentialType'])
        .where('e.profileId', 'in', [...profileIds])
        .orderBy('e.profileId')
        .orderBy('e.position')
        .execute();
      for (const r of rows) {
        out.get(r.profileId)?.push({ position: r.position, credentialId: r.credentialId, credentialName: r.credentialName, credentialType: r.credentialType });
      }
      return out;
    },
    async profilesUsing(credentialId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('credentialProfileEntries as e')
        .innerJoin('credentialProfiles as p', 'p.id', 'e.profileId')
        .select('p.name')
        .where('e.credentialId', '=', credentialId)
        .distinct()
        .execute();
      return rows.map((r) => r.name);
    },
    async hit(profileId: string, deviceKey: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('credentialProfileHits')
        .select('credentialId')
        .where('profileId', '=', profileId)
        .where('deviceKey', '=', deviceKey)
        .executeTakeFirst();
      return row?.credentialId;
    },
    async rememberHit(profileId: string, deviceKey: string, credentialId: string, at: string): Promise<void> {
      await db
        .insertInto('credentialProfileHits')
        .values({ profileId, deviceKey, credentialId, succeededAt: at })
        .onConflict((oc) => oc.columns(['profileId', 'deviceKey']).doUpdateSet({ credentialId, succeededAt: at }))
        .execute();
    },
    async forgetHit(profileId: string, deviceKey: string): Promise<void> {
      await db.deleteFrom('credentialProfileHits').where('profileId', '=', profileId).where('deviceKey', '=', deviceKey).execute();
    },
  };
}

export type ProfilesRepository = ReturnType<typeof createProfilesRepository>;
