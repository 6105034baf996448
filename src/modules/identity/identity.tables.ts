import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The identity module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type IdentityTables = Pick<
  DB,
  | 'users'
  | 'roles'
  | 'userRoles'
  | 'teams'
  | 'teamMembers'
  | 'sessions'
  | 'refreshTokens'
  | 'tokenRevocations'
  | 'streamTickets'
  | 'apiKeys'
  | 'recoveryCodes'
  | 'auditLog'
>;

export type UserStatus = DB['users']['status'];
