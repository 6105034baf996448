import type { Db } from '../../platform/db/database.js';
import { json } from '../../platform/db/columns.js';
import type { ConfigsTables } from './configs.tables.js';
import type { PlatformProfile } from './platform-profiles.fns.js';

export interface ProfileRow {
  profile: PlatformProfile;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

type Raw = ConfigsTables['configProfiles'];
const COLUMNS = ['id', 'name', 'definition', 'createdBy', 'createdAt', 'updatedAt'] as const;

function read(r: Raw): ProfileRow {
  const d = json.read<Omit<PlatformProfile, 'id' | 'name'>>(r.definition);
  return { profile: { ...d, id: r.id, name: r.name }, createdBy: r.createdBy, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

/** config_profiles: user-defined platform profiles (the built-ins live in platform-profiles.fns.ts). */
export function createProfilesRepository(base: Db) {
  const db = base.withTables<ConfigsTables>();
  return {
    async all(): Promise<ProfileRow[]> {
      return ((await db.selectFrom('configProfiles').select(COLUMNS).orderBy('id').execute()) as Raw[]).map(read);
    },
    async find(id: string): Promise<ProfileRow | undefined> {
      const r = await db.selectFrom('configProfiles').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return r ? read(r as Raw) : undefined;
    },
    async insert(row: ProfileRow): Promise<void> {
      const { id, name, ...definition } = row.profile;
      await db
        .insertInto('configProfiles')
        .values({ id, name, definition: json.write(definition), createdBy: row.createdBy, createdAt: row.createdAt, updatedAt: row.updatedAt })
        .execute();
    },
    async update(profile: PlatformProfile, updatedAt: string): Promise<boolean> {
      const { id, name, ...definition } = profile;
      const r = await db
        .updateTable('configProfiles')
        .set({ name, definition: json.write(definition), updatedAt })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('configProfiles').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}
