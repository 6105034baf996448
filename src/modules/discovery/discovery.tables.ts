import type { DB } from '../../platform/db/schema.generated.js';

/** The discovery module's tables: its slice of the generated database types (`npm run db:types`). */
export type DiscoveryTables = Pick<DB, 'discoveryScans' | 'discoveryHosts'>;
