import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The configs module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type ConfigsTables = Pick<
  DB,
  'gitRepositories' | 'configCommits' | 'configVersions' | 'configComplianceRules' | 'configComplianceResults' | 'configProfiles'
>;
