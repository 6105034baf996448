import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The jobs module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type JobsTables = Pick<DB, 'jobRuns' | 'jobRunTargets' | 'jobLogs' | 'jobDeviceLocks' | 'jobWorkers' | 'jobTemplates'>;
