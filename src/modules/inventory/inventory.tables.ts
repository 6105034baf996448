import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.generated.js';

/**
 * The inventory module's tables: its slice of the generated database types (`npm run db:types`), so
 * its repositories reach no other module's table.
 */
export type InventoryTables = Pick<
  DB,
  | 'manufacturers'
  | 'platforms'
  | 'deviceRoles'
  | 'statuses'
  | 'tags'
  | 'deviceTypes'
  | 'locations'
  | 'devices'
  | 'deviceTags'
  | 'interfaces'
  | 'ipAddresses'
  | 'customFieldDefinitions'
  | 'deviceGroups'
  | 'deviceGroupMembers'
  | 'topologyLinks'
>;

export type InventoryTable = keyof InventoryTables;
export type InventoryDb = Kysely<InventoryTables>;
