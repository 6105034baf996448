import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The credentials module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type CredentialsTables = Pick<
  DB,
  'credentials' | 'secrets' | 'credentialProfiles' | 'credentialProfileEntries' | 'credentialProfileHits' | 'credentialAccessLog'
>;
