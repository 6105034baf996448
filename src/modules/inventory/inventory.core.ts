import type { AuditService } from '../identity/index.js';
import type { Actor } from '../../platform/http/auth.js';
import type { Db, Dialect } from '../../platform/db/database.js';
import type { DomainEvents } from '../../platform/events/domain-events.js';
import type { UnitOfWork } from '../../platform/db/unit-of-work.js';
import type { InventoryRepos } from './inventory.repos.js';

/** Identity's audit log: entries are written in the same transaction as the change they describe. */
export type InventoryAudit = Pick<AuditService, 'record' | 'recordWrite'>;

/** What every inventory service shares: repositories, the unit of work, events and audit. */
export interface InventoryCore {
  dialect: Dialect;
  /** Repositories on the plain handle, for reads outside a transaction. */
  repos: InventoryRepos;
  uow: UnitOfWork<InventoryRepos>;
  events: Pick<DomainEvents, 'recordMany' | 'recordWrite' | 'relay'>;
  audit: InventoryAudit | undefined;
  /** The credential vault's existence check for devices' `credential_id` (unchecked when absent). */
  credentialExists?: ((id: string, db: Db, actor: Actor) => Promise<boolean>) | undefined;
  /** The vault's existence check for `credential_profile_id` of devices, locations and groups. */
  profileExists?: ((id: string, db: Db, actor: Actor) => Promise<boolean>) | undefined;
  /** The vault: which referenced credentials/profiles are outside the actor's teams (views redact them). */
  hiddenRefs?: ((actor: Actor, ids: readonly (string | null | undefined)[]) => Promise<Set<string>>) | undefined;
}
