import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The files module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type FilesTables = Pick<DB, 'files' | 'fileUploads' | 'fileQuotas' | 'images'>;
