import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The alerts module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type AlertsTables = Pick<
  DB,
  | 'alerts'
  | 'alertLabels'
  | 'alertIngestTokens'
  | 'notificationChannels'
  | 'notificationRules'
  | 'notifications'
  | 'notificationAttempts'
  | 'notificationGroupMembers'
>;
